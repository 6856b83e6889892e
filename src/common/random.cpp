#include "common/random.hpp"

#include <fmt/format.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/errors.hpp"

namespace spark_slurm {

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> buffer(bytes);
    std::size_t filled = 0;
    while (filled < bytes) {
        ssize_t n = ::getrandom(buffer.data() + filled, bytes - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw LaunchError(std::string("while drawing random bytes: getrandom: ") +
                              std::strerror(errno));
        }
        filled += static_cast<std::size_t>(n);
    }
    std::string hex;
    hex.reserve(bytes * 2);
    for (unsigned char byte : buffer) hex += fmt::format("{:02x}", byte);
    return hex;
}

}  // namespace spark_slurm
