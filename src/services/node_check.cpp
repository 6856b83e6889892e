#include "services/node_check.hpp"

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>

#include "common/errors.hpp"
#include "common/job_environment.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/process.hpp"

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
    const Execution execution = runtime.prepare(invocation);
    // Killed with the launcher (the parent-death signal every child gets), so a launcher killed
    // meanwhile leaves no check behind.
    const CapturedRun run =
        run_captured({execution.argv, execution.environment, execution.working_dir, "", false},
                     "the Python check", kPythonCheckLimit);
    report.version = python_version_in(run.output);
    if (!report.version.empty()) return report;
    if (!run.status) {
        report.error = "no answer within " + std::to_string(kPythonCheckLimit.count()) + " s";
    } else {
        report.error = last_line(run.output);
        if (report.error.empty()) report.error = describe_wait_status(*run.status);
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
            if (!environment_value(environment, own).empty()) name = own;
        }
        // Apptainer's own syntax; what the runtime would reject itself is left to it.
        std::istringstream entries(environment_value(environment, name));
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
