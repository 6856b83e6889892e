// Small file reads shared by the commands.
#pragma once

#include <optional>
#include <string>

namespace spark_slurm {

// The whole content of a file; nullopt when it cannot be opened.
std::optional<std::string> read_text(const std::string& path);

// The path of this program (/proc/self/exe), for the commands it runs of itself; nullopt when
// it cannot be read.
std::optional<std::string> own_executable_path();

// A file installed with this program, by its path under the install prefix (the directory above
// bin/): "libexec/spark-slurm/spark-slurm-kdc", "share/spark-slurm/...".
std::string installed_file(const std::string& relative_path);

}  // namespace spark_slurm
