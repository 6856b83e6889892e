#include "job/events.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/errors.hpp"

namespace spark_slurm {

EventLog::EventLog(const std::string& path, std::chrono::steady_clock::time_point started)
    : started_(started) {
    if (path.empty()) return;
    fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd_.valid()) {
        throw UsageError("spark-slurm: cannot open the events file " + path + ": " +
                         std::strerror(errno) + "; give --events a writable path");
    }
}

void EventLog::write(const std::string& event, nlohmann::json fields) {
    if (!fd_.valid()) return;
    const auto now = std::chrono::system_clock::now();
    fields["event"] = event;
    fields["time"] = std::chrono::duration<double>(now.time_since_epoch()).count();
    fields["elapsed"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const std::string line =
        fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    // One write per line with O_APPEND: a reader never sees half a line from us.
    std::size_t written = 0;
    while (written < line.size()) {
        ssize_t n = ::write(fd_.get(), line.data() + written, line.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a full disk must not stop the cluster; the log lines remain
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace spark_slurm
