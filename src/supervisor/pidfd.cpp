// pidfd_open and pidfd_send_signal through syscall(): glibc has wrappers only from 2.36 on, and
// the launcher also builds on older systems whose kernels have the calls.
#include "supervisor/pidfd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

namespace spark_slurm {

UniqueFd open_pidfd(pid_t pid) {
    // The descriptor is close-on-exec by definition: no child inherits it.
    return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
}

bool process_unreaped(const UniqueFd& pidfd) {
    if (!pidfd) return false;
    // Signal 0 checks without sending; it succeeds on a zombie and fails with ESRCH once the
    // process is reaped.
    return ::syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) == 0;
}

namespace {

// The state letter and process group of /proc/PID/stat ("pid (comm) S ppid pgrp ..."); the name
// may hold spaces and parentheses, so the fields are counted from the last ')'.
std::optional<std::pair<char, pid_t>> state_and_group(const char* pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
    UniqueFd stat(::open(path, O_RDONLY | O_CLOEXEC));
    if (!stat) return std::nullopt;
    char text[512];
    const ssize_t got = ::read(stat.get(), text, sizeof text - 1);
    if (got <= 0) return std::nullopt;
    text[got] = '\0';
    const char* name_end = std::strrchr(text, ')');
    char state = 0;
    int parent = 0;
    int group = 0;
    if (!name_end || std::sscanf(name_end + 1, " %c %d %d", &state, &parent, &group) != 3)
        return std::nullopt;
    return std::pair{state, static_cast<pid_t>(group)};
}

}  // namespace

bool group_has_members(pid_t group) {
    if (group <= 0) return false;
    // Nothing at all, not even the zombie leader: the common case at the end, without /proc.
    if (::kill(-group, 0) != 0 && errno == ESRCH) return false;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    if (!proc) return true;  // cannot tell: take it as alive, the give-up bound still ends waits
    while (const dirent* entry = ::readdir(proc.get())) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        const auto found = state_and_group(entry->d_name);
        if (found && found->second == group && found->first != 'Z' && found->first != 'X')
            return true;
    }
    return false;
}

}  // namespace spark_slurm
