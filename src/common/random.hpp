// Randomness for secrets and nonces, from the kernel's CSPRNG.
#pragma once

#include <cstddef>
#include <string>

namespace spark_slurm {

// `bytes` random bytes, hex encoded (2 * bytes characters). Throws LaunchError if the kernel
// cannot provide them.
std::string random_hex(std::size_t bytes);

}  // namespace spark_slurm
