// Progress and warnings go to stderr with a prefix naming the rank and node, so that the
// interleaved output of a whole srun step still says who spoke.
#pragma once

#include <fmt/core.h>

#include <string>
#include <utility>

namespace spark_slurm::log {

// Set once the rank and host are known; before that the prefix is just "spark-slurm".
void set_origin(std::string origin);
const std::string& origin();
void write_line(const std::string& line);

template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    write_line(origin() + ": " + fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
    write_line(origin() + ": warning: " + fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace spark_slurm::log
