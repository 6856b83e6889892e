// This process's limit on open descriptors (RLIMIT_NOFILE): the leader wants one per worker's
// control connection and more (plan/scaling.hpp), and the usual soft limit of 1024 is below
// that for a thousand nodes; the hard limit is the site's to set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace spark_slurm {

// Raises the soft limit to `wanted`, or as far as the hard limit allows; never lowers it. A
// warning naming the limits and the fix when the hard limit is below `wanted`, or when the
// limit could not be read or set (with errno's text).
std::optional<std::string> raise_open_files_limit(std::uint64_t wanted);

}  // namespace spark_slurm
