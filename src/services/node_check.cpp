#include "services/node_check.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>

#include "common/errors.hpp"
#include "runtime/runtime.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

// Long enough for a container to start on a loaded node, short enough to fail fast.
constexpr auto kPythonCheckLimit = std::chrono::seconds(60);

// Fixed scripts (no user input in them): the Python is named by the variables the runtime sets
// for the user's program, exactly as Spark reads them.
constexpr const char* kDriverScript =
    "exec \"${PYSPARK_DRIVER_PYTHON:-${PYSPARK_PYTHON:-python3}}\" -c "
    "'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'";
constexpr const char* kExecutorScript =
    "exec \"${PYSPARK_PYTHON:-python3}\" -c "
    "'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'";

std::string get(const Environment& environment, const std::string& name) {
    auto it = environment.find(name);
    return it == environment.end() ? "" : it->second;
}

struct Outcome {
    bool finished = false;
    int status = 0;
    std::string output;  // stdout and stderr
};

// Runs `execution` with its output captured, killing it after `limit`.
Outcome run_captured(const Execution& execution, std::chrono::seconds limit) {
    std::vector<char*> argv;
    for (const auto& arg : execution.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> storage;
    for (const auto& [name, value] : execution.environment) storage.push_back(name + "=" + value);
    std::vector<char*> envp;
    for (auto& entry : storage) envp.push_back(entry.data());
    envp.push_back(nullptr);
    // Looked up on the PATH the child gets.
    std::string program = execution.argv.front();
    if (program.find('/') == std::string::npos) {
        std::string found = find_on_path(program, execution.environment);
        if (!found.empty()) program = found;
    }

    Outcome outcome;
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        outcome.output = "pipe failed";
        return outcome;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        outcome.output = "fork failed";
        return outcome;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        // A launcher killed meanwhile must not leave the check behind.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0) ::dup2(null, STDIN_FILENO);
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::dup2(pipe_fds[1], STDERR_FILENO);
        if (!execution.working_dir.empty() && ::chdir(execution.working_dir.c_str()) != 0)
            ::_exit(127);
        ::execve(program.c_str(), argv.data(), envp.data());
        const char message[] = "cannot execute the runtime\n";
        (void)!::write(STDERR_FILENO, message, sizeof message - 1);
        ::_exit(127);
    }
    ::setpgid(pid, pid);
    ::close(pipe_fds[1]);
    ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    // Until the program exits (something it started may keep the output open) or the limit.
    const auto deadline = Clock::now() + limit;
    char buffer[4096];
    int status = 0;
    bool end_of_output = false;
    auto drain = [&] {
        ssize_t n;
        while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
            if (outcome.output.size() < 64 * 1024)
                outcome.output.append(buffer, static_cast<std::size_t>(n));
        }
        if (n == 0) end_of_output = true;
    };
    while (Clock::now() < deadline) {
        pollfd fd{pipe_fds[0], POLLIN, 0};
        ::poll(end_of_output ? nullptr : &fd, end_of_output ? 0 : 1, end_of_output ? 10 : 50);
        drain();
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            outcome.finished = true;
            outcome.status = status;
            drain();
            break;
        }
    }
    ::close(pipe_fds[0]);
    if (!outcome.finished) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
    }
    return outcome;
}

// The last non-empty line of `text`, shortened: the runtime's or the shell's own message.
std::string last_line(const std::string& text) {
    std::istringstream lines(text);
    std::string line, last;
    while (std::getline(lines, line)) {
        if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
    }
    if (last.size() > 300) last = last.substr(0, 300) + "...";
    return last;
}

PythonReport check_python(const Runtime& runtime, const char* script, const std::string& what,
                          bool chosen) {
    PythonReport report;
    report.what = what;
    report.chosen = chosen;
    Invocation invocation;
    invocation.install = Install::Spark;
    invocation.command = {"/bin/sh", "-c", script};
    invocation.user_program = true;
    Outcome outcome = run_captured(runtime.prepare(invocation), kPythonCheckLimit);
    report.version = python_version_in(outcome.output);
    if (!report.version.empty()) return report;
    if (!outcome.finished) {
        report.error = "no answer within " + std::to_string(kPythonCheckLimit.count()) + " s";
    } else {
        report.error = last_line(outcome.output);
        if (report.error.empty()) {
            report.error = WIFEXITED(outcome.status)
                               ? "exit status " + std::to_string(WEXITSTATUS(outcome.status))
                               : "killed by signal " + std::to_string(WTERMSIG(outcome.status));
        }
    }
    return report;
}

std::string describe(const std::string& origin, const std::string& python, bool container) {
    if (origin.empty()) return container ? "the image's PYSPARK_PYTHON or python3" : "python3";
    if (origin == "--python") return "--python " + python;
    return origin + "=" + python;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> required_bind_sources(
    const Options& options, RuntimeChoice runtime, const Environment& environment) {
    std::vector<std::pair<std::string, std::string>> sources;
    for (const auto& bind : options.binds) sources.emplace_back(bind.source, "--bind");
    if (runtime != RuntimeChoice::Apptainer && runtime != RuntimeChoice::Singularity)
        return sources;
    for (const char* kind : {"BIND", "BINDPATH"}) {
        std::string name = std::string("SINGULARITY_") + kind;
        if (runtime == RuntimeChoice::Apptainer) {
            std::string own = std::string("APPTAINER_") + kind;
            if (!get(environment, own).empty()) name = own;
        }
        // Apptainer's own syntax; what the runtime would reject itself is left to it.
        std::istringstream entries(get(environment, name));
        std::string entry;
        while (std::getline(entries, entry, ',')) {
            std::string source = entry.substr(0, entry.find(':'));
            if (!source.empty() && source.front() == '/') sources.emplace_back(source, name);
        }
    }
    return sources;
}

std::string python_version_in(const std::string& output) {
    static const std::regex version(R"(^\s*([0-9]+\.[0-9]+\.[0-9]+)\s*$)");
    std::istringstream lines(output);
    std::string line, found;
    std::smatch match;
    while (std::getline(lines, line)) {
        if (std::regex_match(line, match, version)) found = match[1];
    }
    return found;
}

void check_this_node(NodeReport& report, const Options& options, const Environment& environment) {
    RuntimeSettings settings;
    bool resolved = true;
    try {
        settings = resolve_runtime(options, environment);
    } catch (const UsageError&) {
        resolved = false;  // `run` reports it by itself; plan previews without a runtime
        settings.kind = options.runtime;
    }
    for (const auto& [source, origin] :
         required_bind_sources(options, settings.kind, environment)) {
        std::error_code error;
        if (!std::filesystem::exists(source, error))
            report.missing_binds.push_back(source + " (" + origin + ")");
    }
    const bool container = settings.kind != RuntimeChoice::None;
    auto choice = choose_python(options, environment);
    if (!resolved || !report.missing_binds.empty()) return;
    if (container && choice.driver.empty() && choice.executor.empty()) return;
    auto runtime = make_runtime(settings);
    report.executor_python = check_python(
        *runtime, kExecutorScript, describe(choice.executor_origin, choice.executor, container),
        !choice.executor.empty());
    if (choice.driver == choice.executor) {
        report.driver_python = report.executor_python;
    } else {
        report.driver_python = check_python(
            *runtime, kDriverScript, describe(choice.driver_origin, choice.driver, container),
            !choice.driver.empty());
    }
}

}  // namespace spark_slurm
