// One requeue policy for both roles (docs/failure-matrix.md): the leader requeues only a
// cancelling preemption; a worker that lost its leader requeues a job that still runs; nobody
// requeues what Slurm requeues already, what the user cancelled, or what ran out of time.
#include "job/requeue_policy.hpp"

#include <gtest/gtest.h>

namespace spark_slurm {
namespace {

JobStatus status(JobState state, bool completing = false, std::uint32_t restarts = 0,
                 bool time_limit_reached = false) {
    JobStatus s;
    s.state = state;
    s.completing = completing;
    s.restart_count = restarts;
    s.time_limit_reached = time_limit_reached;
    return s;
}

constexpr auto kSignalled = RequeueCause::LeaderSignalled;
constexpr auto kLost = RequeueCause::LeaderLost;

TEST(RequeuePolicy, TheLeaderRequeuesACancellingPreemptionOnly) {
    EXPECT_EQ(decide_requeue(kSignalled, status(JobState::Preempted, true), 0, true),
              RequeueDecision::Requeue);
    EXPECT_EQ(decide_requeue(kSignalled, status(JobState::Running, true), 0, true),
              RequeueDecision::NoRequeue);  // scancel
    EXPECT_EQ(decide_requeue(kSignalled, status(JobState::Running, true, 0, true), 0, true),
              RequeueDecision::NoRequeue);  // walltime
    EXPECT_EQ(decide_requeue(kSignalled, status(JobState::Running), 0, true),
              RequeueDecision::NoRequeue);  // someone signalled the step by hand
    EXPECT_EQ(decide_requeue(kSignalled, status(JobState::Preempted, true), 0, false),
              RequeueDecision::NotRequeueable);
}

TEST(RequeuePolicy, AWorkerRequeuesAJobThatStillRunsWithoutItsLeader) {
    EXPECT_EQ(decide_requeue(kLost, status(JobState::Running), 0, true), RequeueDecision::Requeue);
    EXPECT_EQ(decide_requeue(kLost, status(JobState::Running), 0, false),
              RequeueDecision::NotRequeueable);
    EXPECT_EQ(decide_requeue(kLost, status(JobState::Running, true), 0, true),
              RequeueDecision::NoRequeue);  // ending: its own SIGTERM is on the way
    EXPECT_EQ(decide_requeue(kLost, status(JobState::Preempted, true), 0, true),
              RequeueDecision::Requeue);
}

TEST(RequeuePolicy, NobodyRequeuesWhatSlurmRequeuesAlready) {
    for (auto cause : {kSignalled, kLost}) {
        EXPECT_EQ(decide_requeue(cause, status(JobState::Running, true, 1), 0, true),
                  RequeueDecision::SlurmRequeues);
        EXPECT_EQ(decide_requeue(cause, status(JobState::Pending, false, 1), 0, true),
                  RequeueDecision::SlurmRequeues);
    }
}

TEST(RequeuePolicy, AnUnknownJobIsNeverRequeued) {
    for (auto cause : {kSignalled, kLost})
        EXPECT_EQ(decide_requeue(cause, std::nullopt, 0, true), RequeueDecision::NoRequeue);
}

}  // namespace
}  // namespace spark_slurm
