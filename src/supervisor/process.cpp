#include "supervisor/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include "common/errors.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

// Exit statuses of direct children, filled by reap_children().
std::map<pid_t, int>& reaped() {
    static std::map<pid_t, int> statuses;
    return statuses;
}

bool group_alive(pid_t group) { return ::kill(-group, 0) == 0 || errno == EPERM; }

class SpawnAttributes {
public:
    SpawnAttributes() {
        posix_spawnattr_init(&attributes_);
        posix_spawn_file_actions_init(&actions_);
    }
    ~SpawnAttributes() {
        posix_spawn_file_actions_destroy(&actions_);
        posix_spawnattr_destroy(&attributes_);
    }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
    posix_spawnattr_t attributes_;
    posix_spawn_file_actions_t actions_;
};

}  // namespace

void become_supervisor() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    original_signal_mask();  // record the mask before blocking
    sigprocmask(SIG_BLOCK, &handled_signals(), nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

Process Process::spawn(const SpawnRequest& request, std::string label) {
    if (request.argv.empty()) throw LaunchError("while starting " + label + ": empty command");
    SpawnAttributes spawn;
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    posix_spawnattr_setflags(&spawn.attributes_, flags);
    posix_spawnattr_setpgroup(&spawn.attributes_, 0);
    posix_spawnattr_setsigmask(&spawn.attributes_, &original_signal_mask());
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE}) sigaddset(&defaults, signal);
    posix_spawnattr_setsigdefault(&spawn.attributes_, &defaults);

    if (!request.own_terminal_io) {
        posix_spawn_file_actions_addopen(&spawn.actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    if (!request.output_file.empty()) {
        posix_spawn_file_actions_addopen(&spawn.actions_, STDOUT_FILENO, request.output_file.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0640);
        posix_spawn_file_actions_adddup2(&spawn.actions_, STDOUT_FILENO, STDERR_FILENO);
    }
    if (!request.working_dir.empty()) {
        posix_spawn_file_actions_addchdir_np(&spawn.actions_, request.working_dir.c_str());
    }

    std::vector<char*> argv;
    for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> environment_storage;
    for (const auto& [name, value] : request.environment) environment_storage.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& entry : environment_storage) envp.push_back(entry.data());
    envp.push_back(nullptr);

    pid_t pid = -1;
    // posix_spawnp searches the PATH of the *launcher*; the child's PATH decides for the driver,
    // so look the program up in the child's environment first.
    std::string program = request.argv.front();
    if (program.find('/') == std::string::npos) {
        auto path = request.environment.find("PATH");
        if (path != request.environment.end()) {
            std::size_t start = 0;
            while (start <= path->second.size()) {
                std::size_t end = path->second.find(':', start);
                if (end == std::string::npos) end = path->second.size();
                std::string candidate = path->second.substr(start, end - start) + "/" + program;
                if (end > start && ::access(candidate.c_str(), X_OK) == 0) {
                    program = candidate;
                    break;
                }
                start = end + 1;
            }
        }
    }
    int error = ::posix_spawnp(&pid, program.c_str(), &spawn.actions_, &spawn.attributes_,
                               argv.data(), envp.data());
    if (error != 0) {
        throw LaunchError("while starting " + label + " (" + request.argv.front() +
                          "): " + std::strerror(error));
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
