#include "supervisor/janitor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>
#include <vector>

#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

// The write end of the pipe to the janitor; -1 when there is none.
int janitor_fd = -1;

constexpr pid_t kDismissed = 0;
constexpr auto kDaemonGrace = std::chrono::seconds(12);

bool group_alive(pid_t group) { return ::kill(-group, 0) == 0 || errno == EPERM; }

[[noreturn]] void run_janitor(int read_fd, const std::string& work_dir) {
    std::vector<pid_t> groups;
    pid_t group = 0;
    while (true) {
        ssize_t n = ::read(read_fd, &group, sizeof group);
        if (n == sizeof group) {
            if (group == kDismissed) ::_exit(0);
            groups.push_back(group);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;  // EOF: the launcher is gone without dismissing us
    }
    using Clock = std::chrono::steady_clock;
    const auto kill_at = Clock::now() + kDaemonGrace;
    bool killed = false;
    while (true) {
        bool any = false;
        for (pid_t g : groups) any |= group_alive(g);
        if (!any) break;
        if (!killed && Clock::now() >= kill_at) {
            for (pid_t g : groups) ::kill(-g, SIGKILL);
            killed = true;
        }
        // No event exists for "a process group is empty"; poll it.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::error_code error;
    std::filesystem::remove_all(work_dir, error);
    ::_exit(0);
}

}  // namespace

void start_janitor(const std::string& work_dir) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;  // best effort: the launcher still cleans up itself
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return;
    }
    if (pid == 0) {
        ::close(fds[1]);
        // The janitor keeps its pipe and nothing else of the launcher's: not the control port,
        // not the sockets the launcher inherited from slurmstepd.
        const auto keep = static_cast<unsigned>(fds[0]);
        if (keep > 3) ::close_range(3, keep - 1, 0);
        ::close_range(std::max(keep + 1, 3u), ~0U, 0);
        ::prctl(PR_SET_NAME, "spark-slurm-jan");
        // Signals meant for the launcher (Slurm's SIGTERM to the step) must not stop the janitor
        // before it has done its work; the step's final SIGKILL still ends it.
        for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) std::signal(signal, SIG_IGN);
        ::sigprocmask(SIG_SETMASK, &original_signal_mask(), nullptr);
        ::setpgid(0, 0);
        run_janitor(fds[0], work_dir);
    }
    ::close(fds[0]);
    janitor_fd = fds[1];
}

void janitor_watch(pid_t process_group) {
    if (janitor_fd >= 0) (void)!::write(janitor_fd, &process_group, sizeof process_group);
}

void dismiss_janitor() {
    if (janitor_fd < 0) return;
    pid_t dismissed = kDismissed;
    (void)!::write(janitor_fd, &dismissed, sizeof dismissed);
    ::close(janitor_fd);
    janitor_fd = -1;
}

}  // namespace spark_slurm
