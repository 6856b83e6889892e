#include "supervisor/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include "common/errors.hpp"
#include "common/executables.hpp"
#include "supervisor/janitor.hpp"
#include "supervisor/pidfd.hpp"
#include "supervisor/pipe.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

// The leaders of live Processes, by pid: their exit statuses once reap_children() saw them exit,
// and whether their zombies are reaped yet. An entry lives as long as its Process, so the map is
// bounded by the Processes alive, and a later process with the same pid starts afresh.
struct LeaderState {
    std::optional<int> status;
    bool reaped = false;  // a child with this pid is then another process
    int pidfd = -1;       // the Process's own (not owned here; a move keeps its number)
};

#ifndef P_PIDFD
#define P_PIDFD 3  // Linux 5.4; older C libraries lack the name
#endif

// waitid() for exactly this leader: by its pidfd, which cannot name a process that reused its
// pid, else by pid. Returns true when it reported the leader's exit into `info`, and marks the
// leader reaped when it is no child of ours any more (reaped behind our back).
bool wait_for_leader(pid_t pid, LeaderState& leader, int options, siginfo_t& info) {
    info = {};
    const int result = leader.pidfd >= 0
                           ? ::waitid(static_cast<idtype_t>(P_PIDFD),
                                      static_cast<id_t>(leader.pidfd), &info, WEXITED | options)
                           : ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | options);
    if (result != 0) {
        if (errno == ECHILD) leader.reaped = true;
        return false;
    }
    return info.si_pid == pid;
}

std::map<pid_t, LeaderState>& leaders() {
    static std::map<pid_t, LeaderState> states;
    return states;
}

// The entry of the Process with this leader pid and pidfd; nullptr when the entry is another's
// (a later Process given the same pid after this one's leader was reaped behind its back).
LeaderState* leader_state(pid_t pid, const UniqueFd& pidfd) {
    auto it = leaders().find(pid);
    if (it == leaders().end() || it->second.pidfd != pidfd.get()) return nullptr;
    return &it->second;
}

// The wait status that waitpid() would have given for what waitid() reported.
int wait_status_of(const siginfo_t& info) {
    switch (info.si_code) {
        case CLD_EXITED:
            return (info.si_status & 0xff) << 8;
        case CLD_DUMPED:
            return (info.si_status & 0x7f) | 0x80;
        default:
            return info.si_status & 0x7f;
    }
}

// The pids of this process's children (zombies included), from every thread's
// /proc/self/task/TID/children; nullopt when the kernel does not provide those files.
std::optional<std::vector<pid_t>> own_children() {
    std::error_code error;
    std::vector<pid_t> children;
    bool listed = false;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", error)) {
        std::ifstream list(task.path() / "children");
        if (!list) continue;
        listed = true;
        pid_t child = 0;
        while (list >> child) children.push_back(child);
    }
    if (!listed) return std::nullopt;
    return children;
}

// The fallback of reap_children(): reaps everything, leaders included.
void reap_any_child() {
    while (true) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        auto leader = leaders().find(pid);
        if (leader == leaders().end()) continue;
        leader->second.status = status;
        leader->second.reaped = true;
    }
}

// Looks `program` up in the PATH the child will have (not the launcher's own PATH).
std::string resolve_program(const std::string& program,
                            const std::map<std::string, std::string>& environment) {
    if (program.find('/') != std::string::npos) return program;
    std::string found = find_on_path(program, environment);
    return found.empty() ? program : found;
}

// In the child, between fork and exec: only async-signal-safe calls. Reports errno on `error_fd`.
[[noreturn]] void exec_child(const char* program, char* const* argv, char* const* envp,
                             const char* working_dir, const char* output_file, int output_fd,
                             bool own_terminal_io, pid_t parent, int error_fd) {
    auto die = [&](int error) {
        (void)!::write(error_fd, &error, sizeof error);
        ::_exit(127);
    };
    ::setpgid(0, 0);
    // If the launcher dies without a teardown (kill -9, OOM), its daemons must not outlive it.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    for (int signal = 1; signal < NSIG; ++signal) {
        if (signal != SIGKILL && signal != SIGSTOP) std::signal(signal, SIG_DFL);
    }
    ::sigprocmask(SIG_SETMASK, &original_signal_mask(), nullptr);
    // A child gets stdin, stdout and stderr and nothing else the launcher holds or inherited
    // (slurmstepd's sockets, the control port, the janitor's pipe): every other descriptor is
    // closed at exec. The error pipe stays usable until then.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        const long limit = ::sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < (limit > 0 ? limit : 65536); ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (!own_terminal_io) {
        int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || ::dup2(null, STDIN_FILENO) < 0) die(errno);
    }
    if (output_fd >= 0) {
        if (::dup2(output_fd, STDOUT_FILENO) < 0 || ::dup2(output_fd, STDERR_FILENO) < 0)
            die(errno);
    } else if (output_file) {
        int out = ::open(output_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (out < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(out, STDERR_FILENO) < 0) die(errno);
    }
    if (working_dir && ::chdir(working_dir) != 0) die(errno);
    ::execve(program, argv, envp);
    die(errno);
    ::_exit(127);
}

}  // namespace

void become_supervisor() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    original_signal_mask();  // record the mask before blocking
    sigprocmask(SIG_BLOCK, &handled_signals(), nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

Process Process::spawn(const SpawnRequest& request, std::string label) {
    if (request.argv.empty()) throw LaunchError("while starting " + label + ": empty command");
    std::vector<char*> argv;
    for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> environment_storage;
    for (const auto& [name, value] : request.environment)
        environment_storage.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& entry : environment_storage) envp.push_back(entry.data());
    envp.push_back(nullptr);
    const std::string program = resolve_program(request.argv.front(), request.environment);

    auto [error_reader, error_writer] = close_on_exec_pipe(label);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        const int error = errno;
        throw LaunchError("while starting " + label + ": fork: " + std::strerror(error) +
                          " (too many processes for this user? see 'ulimit -u')");
    }
    if (pid == 0) {
        error_reader.reset();
        exec_child(program.c_str(), argv.data(), envp.data(),
                   request.working_dir.empty() ? nullptr : request.working_dir.c_str(),
                   request.output_file.empty() ? nullptr : request.output_file.c_str(),
                   request.output_fd, request.own_terminal_io, parent, error_writer.get());
    }
    error_writer.reset();
    // Race-free: the child cannot be reaped before we call waitpid, so `pid` is still it.
    UniqueFd pidfd = open_pidfd(pid);
    // A pid is reused once reaped: whatever was recorded for an earlier process with this pid
    // is not this one's status.
    leaders()[pid] = LeaderState{{}, false, pidfd.get()};
    // Also set the group from here, so that signalling it cannot race the child's own setpgid.
    ::setpgid(pid, pid);
    if (pidfd) janitor_watch(pidfd, pid);
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(error_reader.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    error_reader.reset();
    if (n == sizeof child_errno) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        leaders().erase(pid);
        throw LaunchError("while starting " + label + " (" + request.argv.front() +
                          "): " + std::strerror(child_errno));
    }
    return Process(pid, std::move(pidfd), std::move(label));
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_),
      pidfd_(std::move(other.pidfd_)),
      label_(std::move(other.label_)),
      kill_at_(other.kill_at_),
      give_up_at_(other.give_up_at_),
      killed_(other.killed_) {
    other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        forget();
        pid_ = other.pid_;
        pidfd_ = std::move(other.pidfd_);
        label_ = std::move(other.label_);
        kill_at_ = other.kill_at_;
        give_up_at_ = other.give_up_at_;
        killed_ = other.killed_;
        other.pid_ = -1;
    }
    return *this;
}

Process::~Process() { forget(); }

// Kills what is left of the group, reaps the leader and drops its recorded status, so that a
// later process that gets the same pid is not taken for this one.
void Process::forget() {
    if (pid_ <= 0) return;
    const auto now = std::chrono::steady_clock::now();
    signal_group(SIGKILL);
    kill_at_ = now;
    give_up_at_ = now + std::chrono::milliseconds(2000);
    killed_ = true;
    wait_until_gone({this});
    // A leader still unreaped after the give-up bound becomes an ordinary child, which a later
    // reap_children() reaps.
    reap_leader();
    if (leader_state(pid_, pidfd_)) leaders().erase(pid_);
    pidfd_.reset();
    pid_ = -1;
}

std::optional<int> Process::exit_status() const {
    const LeaderState* leader = leader_state(pid_, pidfd_);
    if (!leader) return {};
    return leader->status;
}

// The launcher is the leader's only reaper, so its own bookkeeping would do; the pidfd also
// catches a leader reaped behind its back (a stray waitpid(-1)), whose pid may be reused.
bool Process::leader_unreaped() const {
    if (pid_ <= 0) return false;
    const LeaderState* leader = leader_state(pid_, pidfd_);
    if (!leader || leader->reaped) return false;
    return !pidfd_ || process_unreaped(pidfd_);
}

bool Process::group_alive() const { return leader_unreaped() && group_has_members(pid_); }

void Process::reap_leader() {
    LeaderState* leader = leader_state(pid_, pidfd_);
    if (!leader || leader->reaped) return;
    siginfo_t info{};
    if (wait_for_leader(pid_, *leader, WNOHANG, info)) {
        if (!leader->status) leader->status = wait_status_of(info);
        leader->reaped = true;
    }
}

void Process::signal_group(int signal) const {
    if (leader_unreaped()) ::kill(-pid_, signal);
}

void Process::stop(std::chrono::milliseconds grace) { stop_all({this}, grace); }

void Process::request_stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0 || kill_at_) return;
    const auto now = std::chrono::steady_clock::now();
    kill_at_ = now + grace;
    give_up_at_ = *kill_at_ + std::max(grace, std::chrono::milliseconds(2000));
    killed_ = grace.count() == 0;
    signal_group(killed_ ? SIGKILL : SIGTERM);
}

bool Process::gone() {
    if (pid_ <= 0) return true;
    reap_children();
    // Reaped (by us once its group was empty, or behind our back): nothing is left that we may
    // wait for or signal.
    if (!leader_unreaped()) return true;
    if (exited() && !group_alive()) {
        reap_leader();
        return true;
    }
    if (!kill_at_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (!killed_ && now >= *kill_at_) {
        signal_group(SIGKILL);
        killed_ = true;
    }
    return now >= give_up_at_;
}

void wait_until_gone(const std::vector<Process*>& processes) {
    auto all_gone = [&] {
        bool gone = true;
        for (Process* process : processes) gone = process->gone() && gone;
        return gone;
    };
    // Polling the groups' existence: the kernel gives no event for "a process group is empty".
    while (!all_gone()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void stop_all(const std::vector<Process*>& processes, std::chrono::milliseconds grace) {
    for (Process* process : processes) process->request_stop(grace);
    wait_until_gone(processes);
}

void reap_children() {
    const auto children = own_children();
    if (!children) {
        reap_any_child();
        return;
    }
    for (const pid_t child : *children) {
        auto leader = leaders().find(child);
        if (leader == leaders().end() || leader->second.reaped) {
            int status = 0;
            ::waitpid(child, &status, WNOHANG);
            continue;
        }
        if (leader->second.status) continue;
        // WNOWAIT: the status without the reaping, so the zombie keeps the group's id ours.
        siginfo_t info{};
        if (wait_for_leader(child, leader->second, WNOHANG | WNOWAIT, info))
            leader->second.status = wait_status_of(info);
    }
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    }
    return "status " + std::to_string(status);
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace spark_slurm
