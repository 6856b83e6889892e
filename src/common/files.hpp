// Small file reads shared by the commands.
#pragma once

#include <optional>
#include <string>

namespace spark_slurm {

// The whole content of a file; nullopt when it cannot be opened.
std::optional<std::string> read_text(const std::string& path);

}  // namespace spark_slurm
