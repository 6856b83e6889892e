// The Slurm job this launcher runs in, read through libslurm. This is the only library that
// links libslurm; the rest of the launcher sees plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/job_environment.hpp"

namespace spark_slurm {

struct Allocation {
    std::uint32_t job_id = 0;
    std::vector<std::string> nodes;  // expanded SLURM_JOB_NODELIST, in Slurm's order
    std::string this_node;           // SLURMD_NODENAME
    unsigned restart_count = 0;      // SLURM_RESTART_COUNT (0 on the first run)
    std::string submit_dir;          // SLURM_SUBMIT_DIR
};

// Slurm's base job states (slurm.h's JOB_*), typed, so that nothing outside allocation/ needs
// slurm.h. Other: one a newer Slurm may add.
enum class JobState {
    Pending,
    Running,
    Suspended,
    Completed,
    Cancelled,
    Failed,
    Timeout,
    NodeFail,
    Preempted,
    BootFail,
    Deadline,
    OutOfMemory,
    Other,
};

// Slurm's own name of a state ("RUNNING", "COMPLETED", ...), as squeue and scontrol show it.
const char* job_state_name(JobState state);

// Pending, running or suspended: not in a final state.
bool is_unfinished(JobState state);

// What libslurm says about a running job at a moment, enough to tell preemption from scancel
// and walltime (see docs/failure-matrix.md).
struct JobStatus {
    JobState state = JobState::Other;
    bool completing = false;
    std::uint32_t restart_count = 0;
    bool time_limit_reached = false;  // Slurm's reason is the time limit (FAIL_TIMEOUT)
    std::int64_t end_time = 0;
    bool requeueable = false;  // --requeue, or the site's default
};

// Owns libslurm's global state for the process (slurm_init .. slurm_fini). slurm_init reads
// slurm.conf and loads plugins, so it runs on the first call that talks to slurmctld: a worker
// rank that never does (the usual case) never pays for it.
class SlurmLibrary {
  public:
    SlurmLibrary() = default;
    ~SlurmLibrary();
    SlurmLibrary(const SlurmLibrary&) = delete;
    SlurmLibrary& operator=(const SlurmLibrary&) = delete;
    void ensure_initialized() const;
    // For the clients on a login node, which may have no Slurm configuration (or a broken one):
    // libslurm then exits the process, after retrying for up to a minute, with messages of its
    // own. So the setup is first tried in a child process, with a deadline; throws LaunchError
    // saying that Slurm cannot be reached from here, and libslurm's reason, when it fails.
    void ensure_initialized_or_explain() const;
    // A call left running in another thread (slurm_calls.hpp) may still use libslurm's state:
    // then it is not torn down at exit.
    void keep_at_exit() const { keep_at_exit_ = true; }

  private:
    mutable bool initialized_ = false;
    mutable bool keep_at_exit_ = false;
};

// Expands a Slurm hostlist expression ("node[1-3],gpu07") with libslurm.
std::vector<std::string> expand_hostlist(const std::string& expression);

// True when Slurm's variables say we are inside a job step (or a batch script).
bool inside_allocation(const SlurmFacts& slurm);

// From the environment Slurm gives every task: no call to slurmctld, so that N ranks starting at
// once do not send it N requests. Throws UsageError when not inside an allocation.
Allocation read_allocation(const SlurmFacts& slurm);

// Whether the job may be requeued (--requeue, or the site's default): one request to slurmctld,
// made by the leader only. False when slurmctld cannot tell.
bool job_is_requeueable(const SlurmLibrary& slurm, std::uint32_t job_id);

std::optional<JobStatus> load_job_status(const SlurmLibrary& slurm, std::uint32_t job_id);

// Why a job step got SIGTERM, from the job's record as libslurm reports it at that moment
// (docs/failure-matrix.md has the evidence):
//  - Slurm requeues it itself (PreemptMode=REQUEUE, or a failed node): its restart count is
//    already past the one this run started with; requeueing again would be wrong;
//  - preempted with PreemptMode=CANCEL: state PREEMPTED; only the launcher can bring it back;
//  - walltime: reason TimeLimit; the user's scancel: anything else. Never requeued.
enum class Termination { RequeuedBySlurm, Preempted, TimeLimit, Cancelled, Unknown };
Termination classify_termination(const std::optional<JobStatus>& status,
                                 unsigned restart_count_at_start);
const char* describe(Termination termination);

// True while the job runs and nobody is ending it (not completing).
bool is_running(const JobStatus& status);

// What slurmctld says of a job: pending, running, suspended or completing (it may still use its
// state); ended, or purged from slurmctld's memory; or no answer (Unknown).
enum class JobActivity { Active, Ended, Unknown };
JobActivity job_activity(const SlurmLibrary& slurm, std::uint32_t job_id);

// The job's comment (what `squeue -o %k` shows): the owner may set it. Throws LaunchError.
void set_job_comment(const SlurmLibrary& slurm, std::uint32_t job_id, const std::string& comment);

// slurm_requeue: the job goes back to PENDING and its batch script reruns from the top.
void requeue_job(const SlurmLibrary& slurm, std::uint32_t job_id);

// What a client on a login node needs to know about a cluster's job (`spark-slurm env, status,
// list, down`).
struct JobFacts {
    std::uint32_t job_id = 0;
    std::uint32_t user_id = 0;
    std::string user_name;  // from Slurm, else the password database, else the uid
    JobState state = JobState::Other;
    bool running = false;  // RUNNING and not completing
    bool ended = false;    // in a final state (COMPLETED, CANCELLED, TIMEOUT, ...)
    std::int64_t start_time = 0;
    std::int64_t end_time = 0;  // when the walltime ends it; 0 when unknown
    std::string node_list;      // Slurm's hostlist expression
};

// One request to slurmctld. nullopt: Slurm knows no such job (any more). Throws LaunchError
// saying that Slurm cannot be reached (and why) for any other failure.
std::optional<JobFacts> load_job(const SlurmLibrary& slurm, std::uint32_t job_id);

// Sends `signal` to one step of a job (slurm_signal_job_step); Slurm lets only the job's owner or
// an administrator do it. Throws LaunchError with Slurm's reason.
void signal_job_step(const SlurmLibrary& slurm, std::uint32_t job_id, std::uint32_t step_id,
                     int signal);

}  // namespace spark_slurm
