// The janitor process and the launcher's side of its socket: what it is for is in janitor.hpp; here
// are the message format (a group id with its leader's pidfd) and the waiting and killing.
#include "supervisor/janitor.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "supervisor/pidfd.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

// The launcher's end of the socket to the janitor; invalid when there is none.
UniqueFd& janitor_socket() {
    static UniqueFd socket;
    return socket;
}

constexpr pid_t kDismissed = 0;
constexpr auto kDaemonGrace = std::chrono::seconds(12);
// While the launcher lives, the janitor drops the groups whose leaders are reaped this often.
constexpr int kPruneEveryMs = 5000;

struct WatchedGroup {
    UniqueFd leader;
    pid_t group;
};

void drop_reaped_leaders(std::vector<WatchedGroup>& groups) {
    std::erase_if(groups,
                  [](const WatchedGroup& watched) { return !process_unreaped(watched.leader); });
}

// One message between the launcher and the janitor: a group id, with room for its leader's
// pidfd as SCM_RIGHTS (a dismissal has none). Not copyable: `header` points into it.
struct GroupMessage {
    pid_t group = 0;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec data{&group, sizeof group};
    msghdr header{};

    GroupMessage() {
        header.msg_iov = &data;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
    }
    GroupMessage(const GroupMessage&) = delete;
    GroupMessage& operator=(const GroupMessage&) = delete;
};

// Receives one GroupMessage: 0 bytes at EOF, -1 on an error; `leader` gets its descriptor.
ssize_t receive_group(int socket, pid_t& group, UniqueFd& leader) {
    GroupMessage message;
    const ssize_t n = ::recvmsg(socket, &message.header, MSG_CMSG_CLOEXEC);
    if (n <= 0) return n;
    group = message.group;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message.header); header;
         header = CMSG_NXTHDR(&message.header, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
            leader.reset(fd);
        }
    }
    return n;
}

// The janitor's list of groups comes in over `socket` until the launcher is gone (EOF) or
// dismisses it.
std::vector<WatchedGroup> watch_until_launcher_gone(int socket) {
    std::vector<WatchedGroup> groups;
    while (true) {
        pollfd readable{socket, POLLIN, 0};
        const int ready = ::poll(&readable, 1, kPruneEveryMs);
        drop_reaped_leaders(groups);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        pid_t group = 0;
        UniqueFd leader;
        const ssize_t n = receive_group(socket, group, leader);
        if (n == sizeof group) {
            if (group == kDismissed) ::_exit(0);
            if (leader) groups.push_back({std::move(leader), group});
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;  // EOF: the launcher is gone without dismissing us
    }
    return groups;
}

[[noreturn]] void run_janitor(int socket, const std::string& work_dir) {
    std::vector<WatchedGroup> groups = watch_until_launcher_gone(socket);
    using Clock = std::chrono::steady_clock;
    const auto kill_at = Clock::now() + kDaemonGrace;
    bool killed = false;
    while (true) {
        // The leaders were the launcher's children: their new parent reaps them now, and a
        // reaped leader's group id is no longer safe to use.
        drop_reaped_leaders(groups);
        std::erase_if(
            groups, [](const WatchedGroup& watched) { return !group_has_members(watched.group); });
        if (groups.empty()) break;
        if (!killed && Clock::now() >= kill_at) {
            for (const auto& watched : groups) {
                if (process_unreaped(watched.leader)) ::kill(-watched.group, SIGKILL);
            }
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
    // SEQPACKET: each group arrives as one message with its descriptor.
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        return;  // best effort: the launcher still cleans up itself
    UniqueFd janitor_end(fds[0]);
    UniqueFd launcher_end(fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) return;
    if (pid == 0) {
        launcher_end.reset();
        // The janitor keeps its socket and nothing else of the launcher's: not the control port,
        // not the sockets the launcher inherited from slurmstepd.
        const auto keep = static_cast<unsigned>(janitor_end.get());
        if (keep > 3) ::close_range(3, keep - 1, 0);
        ::close_range(std::max(keep + 1, 3u), ~0U, 0);
        ::prctl(PR_SET_NAME, "spark-slurm-jan");
        // Signals meant for the launcher (Slurm's SIGTERM to the step) must not stop the janitor
        // before it has done its work; the step's final SIGKILL still ends it.
        for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) std::signal(signal, SIG_IGN);
        ::sigprocmask(SIG_SETMASK, &original_signal_mask(), nullptr);
        ::setpgid(0, 0);
        run_janitor(janitor_end.get(), work_dir);
    }
    janitor_socket() = std::move(launcher_end);
}

void janitor_watch(const UniqueFd& leader_pidfd, pid_t process_group) {
    if (!janitor_socket() || !leader_pidfd) return;
    GroupMessage message;
    message.group = process_group;
    cmsghdr* header = CMSG_FIRSTHDR(&message.header);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    const int fd = leader_pidfd.get();
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    // Best effort, like the janitor itself: a launcher that cannot reach it still cleans up.
    (void)!::sendmsg(janitor_socket().get(), &message.header, MSG_NOSIGNAL);
}

void dismiss_janitor() {
    if (!janitor_socket()) return;
    pid_t dismissed = kDismissed;
    (void)!::send(janitor_socket().get(), &dismissed, sizeof dismissed, MSG_NOSIGNAL);
    janitor_socket().reset();
}

}  // namespace spark_slurm
