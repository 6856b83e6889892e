#include "common/executables.hpp"

#include <unistd.h>

namespace spark_slurm {

namespace fs = std::filesystem;

bool is_executable_file(const fs::path& path) {
    std::error_code error;
    return ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path, error);
}

std::string find_on_path(const std::string& program, const Environment& environment) {
    const std::string path = environment_value(environment, "PATH");
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        const std::string dir = path.substr(start, end - start);
        if (!dir.empty() && is_executable_file(fs::path(dir) / program))
            return (fs::path(dir) / program).string();
        start = end + 1;
    }
    return "";
}

}  // namespace spark_slurm
