#include "common/files.hpp"

#include <fstream>
#include <sstream>

namespace spark_slurm {

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream file(path);
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace spark_slurm
