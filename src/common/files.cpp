#include "common/files.hpp"

#include <filesystem>
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

std::optional<std::string> own_executable_path() {
    std::error_code error;
    auto path = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) return std::nullopt;
    return path.string();
}

std::string installed_file(const std::string& relative_path) {
    const auto self = own_executable_path();
    const auto prefix =
        self ? std::filesystem::path(*self).parent_path().parent_path() : std::filesystem::path();
    return (prefix / relative_path).string();
}

}  // namespace spark_slurm
