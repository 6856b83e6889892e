#include "supervisor/process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include "common/errors.hpp"
#include "supervisor/janitor.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

// Exit statuses of direct children, filled by reap_children().
std::map<pid_t, int>& reaped() {
    static std::map<pid_t, int> statuses;
    return statuses;
}

bool group_alive(pid_t group) { return ::kill(-group, 0) == 0 || errno == EPERM; }

// Looks `program` up in the PATH the child will have (not the launcher's own PATH).
std::string resolve_program(const std::string& program,
                            const std::map<std::string, std::string>& environment) {
    if (program.find('/') != std::string::npos) return program;
    auto path = environment.find("PATH");
    if (path == environment.end()) return program;
    std::size_t start = 0;
    while (start <= path->second.size()) {
        std::size_t end = path->second.find(':', start);
        if (end == std::string::npos) end = path->second.size();
        std::string candidate = path->second.substr(start, end - start) + "/" + program;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return program;
}

// In the child, between fork and exec: only async-signal-safe calls. Reports errno on `error_fd`.
[[noreturn]] void exec_child(const char* program, char* const* argv, char* const* envp,
                             const char* working_dir, const char* output_file, bool own_terminal_io,
                             pid_t parent, int error_fd) {
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
    if (!own_terminal_io) {
        int null = ::open("/dev/null", O_RDONLY);
        if (null < 0 || ::dup2(null, STDIN_FILENO) < 0) die(errno);
    }
    if (output_file) {
        int out = ::open(output_file, O_WRONLY | O_CREAT | O_APPEND, 0640);
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

    int error_pipe[2];
    if (::pipe2(error_pipe, O_CLOEXEC) != 0)
        throw LaunchError("while starting " + label + ": pipe failed");
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(error_pipe[0]);
        ::close(error_pipe[1]);
        throw LaunchError("while starting " + label + ": fork failed");
    }
    if (pid == 0) {
        ::close(error_pipe[0]);
        exec_child(program.c_str(), argv.data(), envp.data(),
                   request.working_dir.empty() ? nullptr : request.working_dir.c_str(),
                   request.output_file.empty() ? nullptr : request.output_file.c_str(),
                   request.own_terminal_io, parent, error_pipe[1]);
    }
    ::close(error_pipe[1]);
    // Also set the group from here, so that signalling it cannot race the child's own setpgid.
    ::setpgid(pid, pid);
    janitor_watch(pid);
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(error_pipe[0]);
    if (n == sizeof child_errno) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        throw LaunchError("while starting " + label + " (" + request.argv.front() +
                          "): " + std::strerror(child_errno));
    }
    return Process(pid, std::move(label));
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), label_(std::move(other.label_)) {
    other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        if (pid_ > 0) stop(std::chrono::milliseconds(0));
        pid_ = other.pid_;
        label_ = std::move(other.label_);
        other.pid_ = -1;
    }
    return *this;
}

Process::~Process() {
    if (pid_ > 0) stop(std::chrono::milliseconds(0));
}

std::optional<int> Process::exit_status() const {
    auto it = reaped().find(pid_);
    if (it == reaped().end()) return {};
    return it->second;
}

void Process::signal_group(int signal) const {
    if (pid_ > 0) ::kill(-pid_, signal);
}

void Process::stop(std::chrono::milliseconds grace) {
    Process* self = this;
    stop_all({self}, grace);
}

void stop_all(std::vector<Process*> processes, std::chrono::milliseconds grace) {
    using clock = std::chrono::steady_clock;
    for (Process* process : processes) {
        if (process->pid() > 0) process->signal_group(grace.count() > 0 ? SIGTERM : SIGKILL);
    }
    auto all_gone = [&] {
        reap_children();
        for (Process* process : processes) {
            if (process->pid() <= 0) continue;
            if (!process->exited() || group_alive(process->pid())) return false;
        }
        return true;
    };
    const auto kill_at = clock::now() + grace;
    const auto give_up_at = kill_at + std::max(grace, std::chrono::milliseconds(2000));
    bool killed = grace.count() == 0;
    while (!all_gone()) {
        auto now = clock::now();
        if (!killed && now >= kill_at) {
            for (Process* process : processes) process->signal_group(SIGKILL);
            killed = true;
        }
        if (now >= give_up_at) break;
        // Polling the group's existence: the kernel gives no event for "a process group is empty".
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void reap_children() {
    while (true) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        reaped()[pid] = status;
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

std::string tail_of_file(const std::string& path, std::size_t lines) {
    std::ifstream file(path);
    std::deque<std::string> last;
    std::string line;
    while (std::getline(file, line)) {
        last.push_back(line);
        if (last.size() > lines) last.pop_front();
    }
    std::string text;
    for (const auto& kept : last) text += "    " + kept + "\n";
    return text;
}

}  // namespace spark_slurm
