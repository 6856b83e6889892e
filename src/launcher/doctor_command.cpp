#include "launcher/doctor_command.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "common/errors.hpp"
#include "runtime/image_check.hpp"
#include "runtime/runtime.hpp"

namespace spark_slurm {

namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(15);
// The ports a cluster would use by default (Spark master, its UI, the namenode's RPC and UI).
constexpr unsigned kDefaultPorts[] = {7077, 8080, 8020, 9870};
constexpr std::uint64_t kScratchWarnBytes = 10ull << 30;

CheckResult ok(std::string name, std::string detail) {
    return {std::move(name), CheckStatus::Ok, std::move(detail)};
}
CheckResult warn(std::string name, std::string detail) {
    return {std::move(name), CheckStatus::Warn, std::move(detail)};
}
CheckResult fail(std::string name, std::string detail) {
    return {std::move(name), CheckStatus::Fail, std::move(detail)};
}

std::string first_line(const std::string& text) {
    auto end = text.find('\n');
    std::string line = text.substr(0, end);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
}

// Why a command did not give an answer, for a FAIL line.
std::string no_answer(const CapturedRun& run, const std::string& command) {
    if (!run.status) return run.output;  // run_check said why
    if (*run.status == 0)
        return command + " printed something unexpected: " + first_line(run.output);
    std::string said = first_line(run.output);
    return command + " failed (" + describe_wait_status(*run.status) + ")" +
           (said.empty() ? "" : ": " + said);
}

bool succeeded(const CapturedRun& run) { return run.status && *run.status == 0; }

// Runs argv with the user's environment. When there is no exit status (the program is missing,
// cannot start, or gives no answer in time), the output says which, for no_answer().
CapturedRun run_check(const std::vector<std::string>& argv, const Environment& environment) {
    if (find_on_path(argv.front(), environment).empty() &&
        argv.front().find('/') == std::string::npos)
        return {std::nullopt, argv.front() + " is not on PATH"};
    SpawnRequest request;
    request.argv = argv;
    request.environment = environment;
    CapturedRun run;
    try {
        run = run_captured(request, argv.front(), kCommandTimeout);
    } catch (const std::exception& error) {
        return {std::nullopt, error.what()};
    }
    if (!run.status) {
        run.output = argv.front() + " gave no answer within " +
                     std::to_string(kCommandTimeout.count()) + " s";
    }
    return run;
}

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream file(path);
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// The names of the *.jar files under `dir` (a few levels deep), for the versions they carry.
std::vector<std::string> jar_names(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<std::string> names;
    std::error_code error;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (it.depth() > 3) it.disable_recursion_pending();
        if (it->path().extension() == ".jar") names.push_back(it->path().filename().string());
    }
    return names;
}

bool port_free(unsigned port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return free;
}

// A message of resolve_runtime or image_problem without its "spark-slurm run: " prefix.
std::string without_prefix(std::string message) {
    for (const char* prefix : {"spark-slurm run: ", "spark-slurm doctor: "}) {
        if (message.rfind(prefix, 0) == 0) return message.substr(std::string(prefix).size());
    }
    return message;
}

CheckResult scratch_of(const Options& options, const JobEnvironment& environment) {
    std::string dir =
        options.work_dir.value_or(environment.tmpdir.empty() ? "/tmp" : environment.tmpdir);
    bool writable = false;
    std::string probe = dir + "/.spark-slurm-doctor-XXXXXX";
    int fd = ::mkstemp(probe.data());
    if (fd >= 0) {
        writable = true;
        ::close(fd);
        ::unlink(probe.c_str());
    }
    struct statvfs space {};
    std::uint64_t free_bytes = 0;
    if (::statvfs(dir.c_str(), &space) == 0)
        free_bytes = static_cast<std::uint64_t>(space.f_bavail) * space.f_frsize;
    return scratch_check(dir, writable, free_bytes);
}

}  // namespace

std::string format_check(const CheckResult& result) {
    const char* status = result.status == CheckStatus::Ok     ? "ok  "
                         : result.status == CheckStatus::Warn ? "warn"
                                                              : "FAIL";
    std::string name = result.name;
    if (name.size() < 12) name.resize(12, ' ');
    return std::string(status) + "  " + name + " " + result.detail;
}

int doctor_exit_code(const std::vector<CheckResult>& results) {
    for (const auto& result : results)
        if (result.status == CheckStatus::Fail) return 1;
    return 0;
}

CheckResult slurm_version_check(const CapturedRun& run) {
    std::smatch match;
    std::string line = first_line(run.output);
    if (succeeded(run) &&
        std::regex_search(line, match, std::regex(R"(slurm(?:-wlm)?[- ](\d+\.\d+[\w.-]*))")))
        return ok("slurm", "Slurm " + match[1].str());
    return fail("slurm", no_answer(run, "scontrol --version") +
                             "; install the Slurm client commands, or load the Slurm module");
}

CheckResult slurm_ping_check(const CapturedRun& run) {
    if (succeeded(run) && run.output.find("is UP") != std::string::npos)
        return ok("slurmctld", first_line(run.output));
    return fail("slurmctld", no_answer(run, "scontrol ping") +
                                 "; start slurmctld, or check SLURM_CONF and munge on this host");
}

CheckResult libslurm_check(std::uint32_t job_id, const std::optional<JobStatus>& status) {
    if (!status) {
        return fail("libslurm", "libslurm could not read job " + std::to_string(job_id) +
                                    " from slurmctld; check that the libslurm spark-slurm was "
                                    "built against matches the running Slurm, and SLURM_CONF");
    }
    return ok("libslurm", "read job " + std::to_string(job_id) + " from slurmctld (requeueable: " +
                              (status->requeueable ? "yes" : "no") + ")");
}

CheckResult mpi_plugins_check(const CapturedRun& run) {
    if (!succeeded(run)) {
        return fail("mpi", no_answer(run, "srun --mpi=list") +
                               "; the launchers meet through MPI started by srun");
    }
    std::regex word_pmix(R"(\bpmix)"), word_pmi2(R"(\bpmi2\b)");
    if (std::regex_search(run.output, word_pmix))
        return ok("mpi", "srun offers PMIx (srun --mpi=pmix)");
    if (std::regex_search(run.output, word_pmi2)) {
        return warn("mpi",
                    "srun offers PMI2 but not PMIx; start the launchers with srun --mpi=pmi2 "
                    "(an MPI built with PMI2 support), or build Slurm with PMIx");
    }
    return fail("mpi",
                "srun --mpi=list offers neither pmix nor pmi2; build Slurm with PMIx "
                "(--with-pmix) or install its PMIx plugin (Debian: slurm-wlm's mpi_pmix.so), "
                "then check 'srun --mpi=list'");
}

CheckResult requeue_check(const CapturedRun& run) {
    if (!succeeded(run)) return warn("requeue", no_answer(run, "scontrol show config"));
    std::smatch match;
    if (!std::regex_search(run.output, match, std::regex(R"(JobRequeue\s*=\s*(\d+))"))) {
        return warn("requeue",
                    "scontrol show config does not show JobRequeue; check by hand that "
                    "preempted jobs are requeued");
    }
    if (match[1] == "1") return ok("requeue", "JobRequeue=1: a preempted or lost job is requeued");
    return warn("requeue",
                "JobRequeue=0: jobs are not requeued unless submitted with --requeue; tell users "
                "to add '#SBATCH --requeue' to resume after preemption, or set JobRequeue=1");
}

CheckResult runtime_version_check(const std::string& runtime, const CapturedRun& run) {
    if (succeeded(run)) return ok("runtime", first_line(run.output));
    return fail("runtime", no_answer(run, runtime + " --version") + "; install " + runtime +
                               " or load its module, or use --runtime none with a host install");
}

CheckResult user_namespaces_check(const std::optional<std::string>& max_user_namespaces,
                                  bool sudo) {
    if (sudo) return ok("userns", "the runtime runs through sudo -n (--sudo)");
    if (!max_user_namespaces)
        return warn("userns",
                    "cannot read /proc/sys/user/max_user_namespaces; check that "
                    "unprivileged users may create user namespaces");
    long count = std::atol(max_user_namespaces->c_str());
    if (count > 0) {
        return ok("userns", "unprivileged user namespaces allowed (max_user_namespaces=" +
                                std::to_string(count) + ")");
    }
    return fail("userns",
                "user.max_user_namespaces is 0: unprivileged users cannot run the container "
                "runtime without setuid; set 'sysctl user.max_user_namespaces=15000', or install "
                "the setuid starter (apptainer-suid)");
}

CheckResult spark_version_check(const std::string& spark_home,
                                const std::optional<std::string>& release_text,
                                const std::vector<std::string>& jar_names) {
    if (release_text && !first_line(*release_text).empty())
        return ok("spark", first_line(*release_text) + " (" + spark_home + ")");
    std::smatch match;
    for (const auto& name : jar_names) {
        if (std::regex_match(name, match, std::regex(R"(spark-core_[\d.]+-(\d[\w.-]*)\.jar)")))
            return ok("spark", "Spark " + match[1].str() + " (" + spark_home + ")");
    }
    return warn("spark", "cannot tell the Spark version of " + spark_home +
                             " (no RELEASE, no jars/spark-core_*.jar); spark-slurm is tested with "
                             "Spark 4.0");
}

CheckResult hadoop_version_check(const std::string& hadoop_home,
                                 const std::vector<std::string>& jar_names) {
    std::smatch match;
    for (const auto& name : jar_names) {
        if (std::regex_match(name, match, std::regex(R"(hadoop-common-(\d[\w.-]*)\.jar)")) &&
            match[1].str().find("tests") == std::string::npos)
            return ok("hadoop", "Hadoop " + match[1].str() + " (" + hadoop_home + ")");
    }
    return warn("hadoop", "cannot tell the Hadoop version of " + hadoop_home +
                              " (no hadoop-common-*.jar under share/); spark-slurm is tested with "
                              "Hadoop 3.4");
}

CheckResult java_version_check(const CapturedRun& run) {
    std::smatch match;
    if (succeeded(run) &&
        std::regex_search(run.output, match, std::regex(R"(version \"(\d+)[^\"]*\")"))) {
        int major = std::stoi(match[1]);
        std::string found = "Java " + match.str(0).substr(9, match.length(0) - 10);
        if (major >= 17) return ok("java", found);
        return fail("java", found +
                                " is older than 17, which Spark 4 needs; load a Java 17 "
                                "module or set JAVA_HOME");
    }
    return fail("java", no_answer(run, "java -version") +
                            "; load a Java 17 module or set "
                            "JAVA_HOME");
}

CheckResult ports_check(const std::vector<unsigned>& taken) {
    if (taken.empty()) return ok("ports", "7077, 8080, 8020, 9870 free");
    std::string list;
    for (unsigned port : taken) list += (list.empty() ? "" : ", ") + std::to_string(port);
    return warn("ports", list +
                             " in use here: harmless (each launcher claims free ports for "
                             "its daemons), but something else listens on a node");
}

CheckResult scratch_check(const std::string& dir, bool writable, std::uint64_t free_bytes) {
    if (!writable) {
        return fail("scratch", dir +
                                   " is not writable; set TMPDIR to node-local scratch, or pass "
                                   "--work-dir DIR");
    }
    std::string free_text = std::to_string(free_bytes >> 30) + " GiB free";
    if (free_bytes < kScratchWarnBytes) {
        return warn("scratch", dir + ": only " + free_text +
                                   " for shuffle and HDFS data; point TMPDIR or --work-dir at "
                                   "larger node-local scratch");
    }
    return ok("scratch", dir + " writable, " + free_text);
}

int doctor_command(const Options& options, const JobEnvironment& environment) {
    const Environment& variables = environment.variables;
    std::vector<CheckResult> results;
    auto report = [&](CheckResult result) {
        std::cout << format_check(result) << std::endl;
        results.push_back(std::move(result));
    };

    report(slurm_version_check(run_check({"scontrol", "--version"}, variables)));
    report(slurm_ping_check(run_check({"scontrol", "ping"}, variables)));
    if (inside_allocation(environment.slurm) && environment.slurm.job_id) {
        SlurmLibrary slurm;
        std::optional<JobStatus> status;
        try {
            status = load_job_status(slurm, *environment.slurm.job_id);
        } catch (const std::exception&) {
        }
        report(libslurm_check(*environment.slurm.job_id, status));
    }
    report(mpi_plugins_check(run_check({"srun", "--mpi=list"}, variables)));
    report(requeue_check(run_check({"scontrol", "show", "config"}, variables)));

    // Without an image the runtime itself is still checked; only the contract is not.
    RuntimeChoice kind = options.runtime;
    if (kind == RuntimeChoice::Auto) {
        kind = !find_on_path("apptainer", variables).empty()     ? RuntimeChoice::Apptainer
               : !find_on_path("singularity", variables).empty() ? RuntimeChoice::Singularity
                                                                 : RuntimeChoice::None;
    }
    const std::string runtime = to_string(kind);
    auto check_runtime = [&](const std::string& executable) {
        report(runtime_version_check(runtime, run_check({executable, "--version"}, variables)));
        report(
            user_namespaces_check(read_text("/proc/sys/user/max_user_namespaces"), options.sudo));
    };
    if (kind != RuntimeChoice::None && !options.image && !options.spark_image) {
        std::string executable = find_on_path(runtime, variables);
        if (executable.empty()) {
            report(fail("runtime", runtime + " is not on PATH; install it or load its module, "
                                             "or use --runtime none with a host install"));
        } else {
            check_runtime(executable);
        }
        report(warn("image",
                    "no image given, its contract is not checked; pass --image SIF "
                    "(or set SPARK_SLURM_IMAGE)"));
        kind = RuntimeChoice::Auto;  // nothing more to check about the install
    }
    std::optional<RuntimeSettings> settings;
    if (kind != RuntimeChoice::Auto) {
        try {
            settings = resolve_runtime(options, variables);
        } catch (const UsageError& error) {
            report(fail(kind == RuntimeChoice::None ? "install" : "image",
                        without_prefix(error.what())));
        }
    }
    if (settings && settings->kind != RuntimeChoice::None) {
        check_runtime(settings->executable);
        std::string problem = image_problem(*settings, options.hdfs);
        if (problem.empty()) {
            report(ok("image", settings->spark_image + " has java, Spark" +
                                   (options.hdfs ? " and Hadoop" : "")));
        } else {
            report(fail("image",
                        without_prefix(problem) + "; build one with singularity/build-images"));
        }
    } else if (settings) {
        report(ok("install", "host install: SPARK_HOME=" + settings->spark_home +
                                 (options.hdfs ? ", HADOOP_HOME=" + settings->hadoop_home : "")));
        report(spark_version_check(settings->spark_home,
                                   read_text(settings->spark_home + "/RELEASE"),
                                   jar_names(settings->spark_home + "/jars")));
        if (options.hdfs) {
            report(hadoop_version_check(settings->hadoop_home,
                                        jar_names(settings->hadoop_home + "/share")));
        }
        std::string java = settings->java_home.empty() ? "java" : settings->java_home + "/bin/java";
        report(java_version_check(run_check({java, "-version"}, variables)));
    }

    std::vector<unsigned> taken;
    for (unsigned port : kDefaultPorts)
        if (!port_free(port)) taken.push_back(port);
    report(ports_check(taken));
    report(scratch_of(options, environment));
    return doctor_exit_code(results);
}

}  // namespace spark_slurm
