#include "job/requeue_policy.hpp"

#include "common/errors.hpp"
#include "common/log.hpp"

namespace spark_slurm {

RequeueDecision decide_requeue(RequeueCause cause, const std::optional<JobStatus>& status,
                               unsigned restart_count_at_start, bool requeueable) {
    const Termination termination = classify_termination(status, restart_count_at_start);
    if (termination == Termination::RequeuedBySlurm) return RequeueDecision::SlurmRequeues;
    bool wanted = termination == Termination::Preempted;
    // A worker's leader may vanish while the job runs on; a job that is completing was ended
    // by someone (its SIGTERM is on the way to this worker too).
    if (cause == RequeueCause::LeaderLost && status && is_running(*status)) {
        wanted = true;
    }
    if (!wanted) return RequeueDecision::NoRequeue;
    return requeueable ? RequeueDecision::Requeue : RequeueDecision::NotRequeueable;
}

RequeueDecision requeue_if_needed(const SlurmLibrary& slurm, RequeueCause cause,
                                  std::uint32_t job_id, unsigned restart_count_at_start,
                                  bool requeueable, const std::string& state_dir) {
    const auto status = load_job_status(slurm, job_id);
    const auto decision = decide_requeue(cause, status, restart_count_at_start, requeueable);
    // Why the leader was signalled, or that Slurm already brings the job back.
    const auto termination = classify_termination(status, restart_count_at_start);
    if (cause == RequeueCause::LeaderSignalled || termination == Termination::RequeuedBySlurm)
        log::info("{}", describe(termination));
    switch (decision) {
        case RequeueDecision::SlurmRequeues:
        case RequeueDecision::NoRequeue:
            break;
        case RequeueDecision::NotRequeueable:
            log::warn(
                "the job cannot be requeued (it was submitted without --requeue); it ends here");
            break;
        case RequeueDecision::Requeue:
            try {
                requeue_job(slurm, job_id);
                log::info("requeued job {}{}; it restarts from {}", job_id,
                          cause == RequeueCause::LeaderLost ? " after losing the leader" : "",
                          state_dir.empty() ? "scratch (no --state-dir)" : state_dir);
            } catch (const LaunchError& error) {
                log::info("{} (another rank may have requeued it already)", error.what());
            }
            break;
    }
    return decision;
}

}  // namespace spark_slurm
