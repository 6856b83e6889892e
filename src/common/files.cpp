// Small file reads shared by the commands (see files.hpp).
#include "common/files.hpp"

#include <filesystem>
#include <fstream>

namespace spark_slurm {

std::optional<std::string> read_text(const std::string& path, std::size_t limit) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::string text(limit, '\0');
    file.read(text.data(), static_cast<std::streamsize>(limit));
    text.resize(static_cast<std::size_t>(file.gcount()));
    return text;
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
