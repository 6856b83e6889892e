// The pure part of `spark-slurm doctor`: a command's output (or a file's text, or what was
// found on disk) → one check result with what to fix. No process, no I/O: unit-tested with
// recorded outputs in tests/unit/doctor_test.cpp.
#include "doctor/doctor_checks.hpp"

#include <algorithm>
#include <regex>

#include "runtime/install_versions.hpp"

namespace spark_slurm {

namespace {

constexpr std::uint64_t kScratchWarnBytes = 10ull << 30;

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
        return check_ok("slurm", "Slurm " + match[1].str());
    return check_fail("slurm", no_answer(run, "scontrol --version") +
                                   "; install the Slurm client commands, or load the Slurm module");
}

CheckResult slurm_ping_check(const CapturedRun& run) {
    if (succeeded(run) && run.output.find("is UP") != std::string::npos)
        return check_ok("slurmctld", first_line(run.output));
    return check_fail("slurmctld",
                      no_answer(run, "scontrol ping") +
                          "; start slurmctld, or check SLURM_CONF and munge on this host");
}

CheckResult libslurm_check(std::uint32_t job_id, const std::optional<JobStatus>& status) {
    if (!status) {
        return check_fail("libslurm",
                          "libslurm could not read job " + std::to_string(job_id) +
                              " from slurmctld; check that the libslurm spark-slurm was "
                              "built against matches the running Slurm, and SLURM_CONF");
    }
    return check_ok("libslurm", "read job " + std::to_string(job_id) +
                                    " from slurmctld (requeueable: " +
                                    (status->requeueable ? "yes" : "no") + ")");
}

CheckResult mpi_plugins_check(const CapturedRun& run) {
    if (!succeeded(run)) {
        return check_fail("mpi", no_answer(run, "srun --mpi=list") +
                                     "; the launchers meet through MPI started by srun");
    }
    std::regex word_pmix(R"(\bpmix)"), word_pmi2(R"(\bpmi2\b)");
    if (std::regex_search(run.output, word_pmix))
        return check_ok("mpi", "srun offers PMIx (srun --mpi=pmix)");
    if (std::regex_search(run.output, word_pmi2)) {
        return check_warn("mpi",
                          "srun offers PMI2 but not PMIx; start the launchers with srun --mpi=pmi2 "
                          "(an MPI built with PMI2 support), or build Slurm with PMIx");
    }
    return check_fail("mpi",
                      "srun --mpi=list offers neither pmix nor pmi2; build Slurm with PMIx "
                      "(--with-pmix) or install its PMIx plugin (Debian: slurm-wlm's mpi_pmix.so), "
                      "then check 'srun --mpi=list'");
}

CheckResult requeue_check(const CapturedRun& run) {
    if (!succeeded(run)) return check_warn("requeue", no_answer(run, "scontrol show config"));
    std::smatch match;
    if (!std::regex_search(run.output, match, std::regex(R"(JobRequeue\s*=\s*(\d+))"))) {
        return check_warn("requeue",
                          "scontrol show config does not show JobRequeue; check by hand that "
                          "preempted jobs are requeued");
    }
    if (match[1] == "1")
        return check_ok("requeue", "JobRequeue=1: a preempted or lost job is requeued");
    return check_warn(
        "requeue",
        "JobRequeue=0: jobs are not requeued unless submitted with --requeue; tell users "
        "to add '#SBATCH --requeue' to resume after preemption, or set JobRequeue=1");
}

CheckResult runtime_version_check(const std::string& runtime, const CapturedRun& run) {
    if (succeeded(run)) return check_ok("runtime", first_line(run.output));
    return check_fail("runtime",
                      no_answer(run, runtime + " --version") + "; install " + runtime +
                          " or load its module, or use --runtime none with a host install");
}

CheckResult user_namespaces_check(const std::optional<std::string>& max_user_namespaces,
                                  bool sudo) {
    if (sudo) return check_ok("userns", "the runtime runs through sudo -n (--sudo)");
    if (!max_user_namespaces)
        return check_warn("userns",
                          "cannot read /proc/sys/user/max_user_namespaces; check that "
                          "unprivileged users may create user namespaces");
    long count = std::atol(max_user_namespaces->c_str());
    if (count > 0) {
        return check_ok("userns", "unprivileged user namespaces allowed (max_user_namespaces=" +
                                      std::to_string(count) + ")");
    }
    return check_fail(
        "userns",
        "user.max_user_namespaces is 0: unprivileged users cannot run the container "
        "runtime without setuid; set 'sysctl user.max_user_namespaces=15000', or install "
        "the setuid starter (apptainer-suid)");
}

namespace {

CheckResult install_version_check(const char* name, const InstallVersionCheck& check,
                                  const std::string& found) {
    if (!check.warning.empty()) return check_warn(name, check.warning);
    if (!check.problem.empty()) return check_fail(name, check.problem);
    return check_ok(name, found);
}

}  // namespace

CheckResult spark_version_check(const std::string& spark_home,
                                const std::optional<std::string>& release_text,
                                const std::vector<std::string>& jar_names) {
    std::smatch match;
    const std::string release = release_text ? first_line(*release_text) : "";
    std::optional<ReleaseVersion> from_release;
    if (std::regex_search(release, match, std::regex(R"(^Spark (\S+))")))
        from_release = parse_release_version(match[1].str());
    const InstallVersionCheck check = check_spark_install(jar_names, spark_home, from_release);
    const std::string version = check.version ? check.version->text : "";
    return install_version_check(
        "spark", check, (release.empty() ? "Spark " + version : release) + " (" + spark_home + ")");
}

CheckResult hadoop_version_check(const std::string& hadoop_home,
                                 const std::vector<std::string>& jar_names) {
    const InstallVersionCheck check = check_hadoop_install(jar_names, hadoop_home);
    const std::string version = check.version ? check.version->text : "";
    return install_version_check("hadoop", check, "Hadoop " + version + " (" + hadoop_home + ")");
}

CheckResult kdc_check(const std::string& hadoop_home, const std::vector<std::string>& jar_names,
                      const std::string& kdc_program, bool kdc_program_exists) {
    const std::string problem = kerby_kdc_problem(jar_names, hadoop_home);
    if (!problem.empty()) return check_fail("kdc", problem);
    if (!kdc_program_exists) {
        return check_fail("kdc", kdc_program +
                                     " is missing: reinstall spark-slurm (cmake --install) for "
                                     "--hdfs-auth kerberos, or use --hdfs-auth none");
    }
    return check_ok("kdc", "Apache Kerby in " + hadoop_home + "; " + kdc_program);
}

CheckResult java_version_check(const CapturedRun& run) {
    std::smatch match;
    if (succeeded(run) &&
        std::regex_search(run.output, match, std::regex(R"(version \"(\d+)[^\"]*\")"))) {
        int major = std::stoi(match[1]);
        std::string found = "Java " + match.str(0).substr(9, match.length(0) - 10);
        if (major >= 17) return check_ok("java", found);
        return check_fail("java", found +
                                      " is older than 17, which Spark 4 needs; load a Java 17 "
                                      "module or set JAVA_HOME");
    }
    return check_fail("java", no_answer(run, "java -version") +
                                  "; load a Java 17 module or set "
                                  "JAVA_HOME");
}

CheckResult ports_check(const std::vector<unsigned>& taken) {
    if (taken.empty()) return check_ok("ports", "7077, 8080, 8020, 9870 free");
    std::string list;
    for (unsigned port : taken) list += (list.empty() ? "" : ", ") + std::to_string(port);
    return check_warn("ports", list +
                                   " in use here: harmless (each launcher claims free ports for "
                                   "its daemons), but something else listens on a node");
}

CheckResult scratch_check(const std::string& dir, bool writable, std::uint64_t free_bytes) {
    if (!writable) {
        return check_fail("scratch",
                          dir +
                              " is not writable; set TMPDIR to node-local scratch, or pass "
                              "--work-dir DIR");
    }
    std::string free_text = std::to_string(free_bytes >> 30) + " GiB free";
    if (free_bytes < kScratchWarnBytes) {
        return check_warn("scratch",
                          dir + ": only " + free_text +
                              " for shuffle and HDFS data; point TMPDIR or --work-dir at "
                              "larger node-local scratch");
    }
    return check_ok("scratch", dir + " writable, " + free_text);
}

}  // namespace spark_slurm
