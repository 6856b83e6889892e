#include "common/open_files.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace spark_slurm {

std::optional<std::string> raise_open_files_limit(std::uint64_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return fmt::format("cannot read the open files limit: {}", std::strerror(errno));
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= wanted) return std::nullopt;
    const bool hard_enough = limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= wanted;
    const rlim_t soft = hard_enough ? static_cast<rlim_t>(wanted) : limit.rlim_max;
    if (limit.rlim_cur == RLIM_INFINITY || soft <= limit.rlim_cur) {
        if (hard_enough) return std::nullopt;
    } else {
        rlimit raised{soft, limit.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
            return fmt::format("cannot raise the open files limit from {} to {}: {}",
                               limit.rlim_cur, soft, std::strerror(errno));
        }
    }
    if (hard_enough) return std::nullopt;
    return fmt::format(
        "the open files limit is {} (hard), below the {} this cluster's size wants: connections "
        "may fail past that; ask the site to raise the hard limit (ulimit -Hn, "
        "/etc/security/limits.conf or Slurm's PropagateResourceLimits)",
        static_cast<std::uint64_t>(limit.rlim_max), wanted);
}

}  // namespace spark_slurm
