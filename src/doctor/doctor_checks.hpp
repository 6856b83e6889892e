// The checks of `spark-slurm doctor`, the pure part: what the launcher needs on this machine —
// Slurm reachable and its version, the PMIx/PMI2 MPI plugins, the requeue setting, the container
// runtime and whether unprivileged users can run it, the host's Java/Spark/Hadoop, the default
// ports, node-local scratch — each from a command's output (or a file's text, or what was found
// on disk) to one check result with what to fix.
//
// No process, no I/O: the unit tests feed recorded outputs. The command (cmd/doctor_command.hpp)
// runs the commands (argv, each with a deadline, through run_captured) and prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "allocation/allocation.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

enum class CheckStatus { Ok, Warn, Fail };

struct CheckResult {
    std::string name;  // "slurm", "mpi", ...
    CheckStatus status = CheckStatus::Ok;
    std::string detail;  // what was found; for warn/FAIL also what to fix
};

inline CheckResult check_ok(std::string name, std::string detail) {
    return {std::move(name), CheckStatus::Ok, std::move(detail)};
}
inline CheckResult check_warn(std::string name, std::string detail) {
    return {std::move(name), CheckStatus::Warn, std::move(detail)};
}
inline CheckResult check_fail(std::string name, std::string detail) {
    return {std::move(name), CheckStatus::Fail, std::move(detail)};
}

// The pure part (doctor_checks.cpp).
// "ok    slurm        Slurm 22.05.8" — status padded, one line, no newline.
std::string format_check(const CheckResult& result);

// 1 when any check failed, else 0.
int doctor_exit_code(const std::vector<CheckResult>& results);

// `scontrol --version` ("slurm 22.05.8"); nullopt status: did not run or finish in time.
CheckResult slurm_version_check(const CapturedRun& run);
// `scontrol ping` ("Slurmctld(primary) at host is UP").
CheckResult slurm_ping_check(const CapturedRun& run);
// Inside an allocation: what libslurm read about this job from slurmctld (nullopt: nothing).
CheckResult libslurm_check(std::uint32_t job_id, const std::optional<JobStatus>& status);
// `srun --mpi=list`: pmix (what the README's srun line uses) ok, pmi2 only warn, neither FAIL.
CheckResult mpi_plugins_check(const CapturedRun& run);
// `scontrol show config`: JobRequeue = 1 ok, 0 warn (jobs need --requeue to resume).
CheckResult requeue_check(const CapturedRun& run);
// `apptainer --version` for the runtime named `runtime` ("apptainer", "singularity").
CheckResult runtime_version_check(const std::string& runtime, const CapturedRun& run);
// /proc/sys/user/max_user_namespaces (nullopt: unreadable); `sudo`: the runtime runs via sudo.
CheckResult user_namespaces_check(const std::optional<std::string>& max_user_namespaces, bool sudo);
// The Spark version: the first line of $SPARK_HOME/RELEASE ("Spark 4.0.5 built for Hadoop
// 3.4.1"), else the version in the name of jars/spark-core_SCALA-VERSION.jar; warn when neither.
CheckResult spark_version_check(const std::string& spark_home,
                                const std::optional<std::string>& release_text,
                                const std::vector<std::string>& jar_names);
// The Hadoop version from the name of a hadoop-common-VERSION.jar under $HADOOP_HOME/share.
CheckResult hadoop_version_check(const std::string& hadoop_home,
                                 const std::vector<std::string>& jar_names);
// --hdfs-auth kerberos with a host install: the job's KDC needs Apache Kerby's kerb-simplekdc
// (and the rest of its jars) in the Hadoop install, and the launcher's own KDC program.
CheckResult kdc_check(const std::string& hadoop_home, const std::vector<std::string>& jar_names,
                      const std::string& kdc_program, bool kdc_program_exists);
// `java -version` (it prints to stderr: run_captured keeps both).
CheckResult java_version_check(const CapturedRun& run);
// The default ports that could not be bound here.
CheckResult ports_check(const std::vector<unsigned>& taken);
// Node-local scratch: writable, and how much is free.
CheckResult scratch_check(const std::string& dir, bool writable, std::uint64_t free_bytes);

}  // namespace spark_slurm
