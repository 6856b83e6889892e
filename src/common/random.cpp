#include "common/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/errors.hpp"
#include "common/hashing.hpp"

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
    return hex_encode(buffer);
}

}  // namespace spark_slurm
