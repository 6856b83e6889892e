// `spark-slurm doctor`'s running part: runs each check's command (argv, the user's environment,
// a deadline, through run_captured), reads the files and tries the ports and scratch it needs,
// hands what it got to the pure checks (doctor/doctor_checks.cpp) and prints one line per result.
#include "cmd/doctor_command.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "common/errors.hpp"
#include "common/executables.hpp"
#include "common/files.hpp"
#include "doctor/doctor_checks.hpp"
#include "network/network.hpp"
#include "runtime/image_check.hpp"
#include "runtime/runtime.hpp"
#include "services/services.hpp"

namespace spark_slurm {

namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(15);
// The ports a cluster would use by default (Spark master, its UI, the namenode's RPC and UI).
constexpr unsigned kDefaultPorts[] = {7077, 8080, 8020, 9870};

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

using Report = std::function<void(CheckResult)>;

// --runtime none: the host install resolve_runtime accepts, and the versions in it.
void check_host_install(const Options& options, const Environment& variables,
                        const Report& report) {
    Options host = options;
    host.runtime = RuntimeChoice::None;
    RuntimeSettings settings;
    try {
        settings = resolve_runtime(host, variables);
    } catch (const UsageError& error) {
        report(check_fail("install", without_prefix(error.what())));
        return;
    }
    report(check_ok("install", "host install: SPARK_HOME=" + settings.spark_home +
                                   (options.hdfs ? ", HADOOP_HOME=" + settings.hadoop_home : "")));
    report(spark_version_check("SPARK_HOME " + settings.spark_home,
                               read_text(settings.spark_home + "/RELEASE"),
                               jar_names(settings.spark_home + "/jars")));
    if (options.hdfs) {
        report(hadoop_version_check("HADOOP_HOME " + settings.hadoop_home,
                                    jar_names(settings.hadoop_home + "/share")));
        if (options.hdfs_auth == HdfsAuth::Kerberos) {
            const std::string program = kdc_program().script;
            std::error_code error;
            report(kdc_check(settings.hadoop_home, jar_names(settings.hadoop_home + "/share"),
                             program, std::filesystem::exists(program, error)));
        }
    }
    std::string java = settings.java_home.empty() ? "java" : settings.java_home + "/bin/java";
    // No hsperfdata directory left in /tmp by the check (the JVM's default writes one).
    report(java_version_check(run_check({java, "-XX:-UsePerfData", "-version"}, variables)));
}

// The container runtime (found, runs, user namespaces) and, with an image, its contract; or the
// host install when the runtime is none (chosen, or nothing else installed and no image given).
void check_runtime_and_install(const Options& options, const Environment& variables,
                               const Report& report) {
    const bool image_given = options.image || options.spark_image;
    RuntimeChoice kind = options.runtime;
    if (kind == RuntimeChoice::Auto) {
        kind = !find_on_path("apptainer", variables).empty()     ? RuntimeChoice::Apptainer
               : !find_on_path("singularity", variables).empty() ? RuntimeChoice::Singularity
               : image_given                                     ? RuntimeChoice::Apptainer
                                                                 : RuntimeChoice::None;
    }
    if (kind == RuntimeChoice::None) {
        check_host_install(options, variables, report);
        return;
    }
    const std::string runtime = to_string(kind);
    const std::string executable = find_on_path(runtime, variables);
    if (executable.empty()) {
        report(check_fail("runtime", runtime +
                                         " is not on PATH; install it or load its module, or use "
                                         "--runtime none with a host install"));
    } else {
        report(runtime_version_check(runtime, run_check({executable, "--version"}, variables)));
        report(
            user_namespaces_check(read_text("/proc/sys/user/max_user_namespaces"), options.sudo));
    }
    if (!image_given) {
        report(check_warn("image",
                          "no image given, its contract is not checked; pass --image SIF (or set "
                          "SPARK_SLURM_IMAGE)"));
        return;
    }
    if (executable.empty()) return;
    Options chosen = options;
    chosen.runtime = kind;
    RuntimeSettings settings;
    try {
        settings = resolve_runtime(chosen, variables);
    } catch (const UsageError& error) {
        report(check_fail("image", without_prefix(error.what())));
        return;
    }
    const InstallInspection installs = inspect_installs(settings, options.hdfs);
    if (!installs.problem.empty()) {
        report(check_fail("image", without_prefix(installs.problem) +
                                       "; build one with singularity/build-images"));
        return;
    }
    report(check_ok(
        "image", settings.spark_image + " has java, Spark" + (options.hdfs ? " and Hadoop" : "")));
    report(spark_version_check(installs.spark_where, std::nullopt, installs.spark_jars));
    if (!options.hdfs) return;
    report(hadoop_version_check(installs.hadoop_where, installs.hadoop_jars));
    if (options.hdfs_auth == HdfsAuth::Kerberos) {
        const std::string program = kdc_program().script;
        std::error_code error;
        report(kdc_check(installs.hadoop_where, installs.hadoop_jars, program,
                         std::filesystem::exists(program, error)));
    }
}

}  // namespace

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

    check_runtime_and_install(options, variables, report);

    std::vector<unsigned> taken;
    for (unsigned port : kDefaultPorts) {
        if (try_bind_tcp(static_cast<std::uint16_t>(port), BindScope::AllAddresses,
                         ReuseAddress::No) == 0)
            taken.push_back(port);
    }
    report(ports_check(taken));
    report(scratch_of(options, environment));
    return doctor_exit_code(results);
}

}  // namespace spark_slurm
