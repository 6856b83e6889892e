// Small file reads shared by the commands.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace spark_slurm {

// The content of a file, at most its first `limit` bytes (a small file is expected: a release
// note, a token, a /proc value; a huge or endless one must not fill the memory); nullopt when it
// cannot be opened. Secrets are read with read_private_file (private_files.hpp) instead.
std::optional<std::string> read_text(const std::string& path, std::size_t limit = 1024 * 1024);

// The path of this program (/proc/self/exe), for the commands it runs of itself; nullopt when
// it cannot be read.
std::optional<std::string> own_executable_path();

// A file installed with this program, by its path under the install prefix (the directory above
// bin/): "libexec/spark-slurm/spark-slurm-kdc", "share/spark-slurm/...".
std::string installed_file(const std::string& relative_path);

}  // namespace spark_slurm
