#include "common/log.hpp"

#include <unistd.h>

namespace spark_slurm::log {

namespace {
std::string& origin_storage() {
    static std::string value = "spark-slurm";
    return value;
}
}  // namespace

void set_origin(std::string origin) { origin_storage() = std::move(origin); }
const std::string& origin() { return origin_storage(); }

void write_line(const std::string& line) {
    // One write() per line keeps lines from different ranks whole in a shared output file.
    std::string buffer = line + "\n";
    const char* data = buffer.data();
    std::size_t left = buffer.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, data, left);
        if (n <= 0) return;
        data += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace spark_slurm::log
