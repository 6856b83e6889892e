// When the launcher requeues its job — one policy for both roles. Slurm requeues a job itself
// when it preempts it with PreemptMode=REQUEUE or loses one of its nodes; the launcher steps in
// only where Slurm would let the checkpointed job die:
//  - the leader, at SIGTERM: a preemption that cancels (PreemptMode=CANCEL). Never at scancel or
//    walltime: the user or the site meant the job to end;
//  - a worker that lost its leader while the job still runs (the leader's launcher was killed,
//    its node hung): the master and namenode are gone, so the cluster cannot recover in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "allocation/allocation.hpp"

namespace spark_slurm {

enum class RequeueCause { LeaderSignalled, LeaderLost };

enum class RequeueDecision {
    Requeue,         // the launcher requeues the job
    SlurmRequeues,   // Slurm already does: doing it again would be wrong
    NotRequeueable,  // it should come back, but was submitted without --requeue
    NoRequeue,       // the job is meant to end (scancel, walltime, a finished job)
};

// Pure: what to do, from the job's record as libslurm reports it now.
RequeueDecision decide_requeue(RequeueCause cause, const std::optional<JobStatus>& status,
                               unsigned restart_count_at_start, bool requeueable);

// Asks slurmctld for the job's record, decides, logs the decision and acts on it. Best effort:
// a requeue that fails (another worker was first) is logged, never thrown.
RequeueDecision requeue_if_needed(const SlurmLibrary& slurm, RequeueCause cause,
                                  std::uint32_t job_id, unsigned restart_count_at_start,
                                  bool requeueable, const std::string& state_dir);

}  // namespace spark_slurm
