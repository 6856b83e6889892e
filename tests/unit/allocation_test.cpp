// The allocation library's pure parts: hostlist expansion (libslurm's own parser, no daemon
// needed) and telling preemption from scancel and walltime by the job's record.
#include "allocation/allocation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/errors.hpp"

namespace spark_slurm {
namespace {

using ::testing::ElementsAre;

TEST(Allocation, HostlistsAreExpandedByLibslurm) {
    EXPECT_THAT(expand_hostlist("node[1-3],gpu07"),
                ElementsAre("node1", "node2", "node3", "gpu07"));
    EXPECT_THAT(expand_hostlist("cn[008-010]"), ElementsAre("cn008", "cn009", "cn010"));
    EXPECT_THAT(expand_hostlist("single"), ElementsAre("single"));
}

TEST(Allocation, OutsideAJobIsAUsageError) {
    EXPECT_FALSE(inside_allocation(SlurmFacts{}));
    EXPECT_TRUE(inside_allocation(
        read_job_environment({{"SLURM_JOB_ID", "5"}, {"SLURM_JOB_NODELIST", "node1"}}).slurm));
    EXPECT_THROW(read_allocation(SlurmFacts{}), UsageError);
    EXPECT_THROW(
        read_allocation(
            read_job_environment({{"SLURM_JOB_ID", "x"}, {"SLURM_JOB_NODELIST", "node1"}}).slurm),
        LaunchError);
}

// Every rank reads its allocation from the environment alone: N ranks starting at once must not
// send slurmctld N requests (this test runs with no slurmctld at all).
TEST(Allocation, ReadFromTheEnvironmentAlone) {
    auto allocation = read_allocation(read_job_environment({{"SLURM_JOB_ID", "42"},
                                                            {"SLURM_JOB_NODELIST", "node[1-3]"},
                                                            {"SLURMD_NODENAME", "node2"},
                                                            {"SLURM_RESTART_COUNT", "2"},
                                                            {"SLURM_SUBMIT_DIR", "/home/me"}})
                                          .slurm);
    EXPECT_EQ(allocation.job_id, 42u);
    EXPECT_THAT(allocation.nodes, ElementsAre("node1", "node2", "node3"));
    EXPECT_EQ(allocation.this_node, "node2");
    EXPECT_EQ(allocation.restart_count, 2u);
    EXPECT_EQ(allocation.submit_dir, "/home/me");
}

TEST(JobState, SlurmsNamesAndWhichStatesAreUnfinished) {
    EXPECT_STREQ(job_state_name(JobState::Running), "RUNNING");
    EXPECT_STREQ(job_state_name(JobState::Completed), "COMPLETED");
    EXPECT_STREQ(job_state_name(JobState::OutOfMemory), "OUT_OF_MEMORY");
    EXPECT_STREQ(job_state_name(JobState::Other), "UNKNOWN");
    for (JobState state : {JobState::Pending, JobState::Running, JobState::Suspended})
        EXPECT_TRUE(is_unfinished(state)) << job_state_name(state);
    for (JobState state : {JobState::Completed, JobState::Cancelled, JobState::Failed,
                           JobState::Timeout, JobState::NodeFail, JobState::Preempted,
                           JobState::BootFail, JobState::Deadline, JobState::OutOfMemory})
        EXPECT_FALSE(is_unfinished(state)) << job_state_name(state);
}

// The records below are what a job step saw at SIGTERM (shared/facts/test-cluster.md).
JobStatus running_job() {
    JobStatus status;
    status.state = JobState::Running;
    status.completing = true;
    return status;
}

TEST(Termination, PreemptionWithRequeueModeIsSlurmsOwnRequeue) {
    auto status = running_job();
    status.restart_count = 1;  // already incremented; EndTime unknown
    EXPECT_EQ(classify_termination(status, 0), Termination::RequeuedBySlurm);
}

TEST(Termination, PreemptionWithCancelModeIsTheLaunchersToRequeue) {
    auto status = running_job();
    status.state = JobState::Preempted;
    EXPECT_EQ(classify_termination(status, 0), Termination::Preempted);
}

TEST(Termination, WalltimeIsNeverRequeued) {
    auto status = running_job();
    status.time_limit_reached = true;
    status.end_time = 1795575335;
    EXPECT_EQ(classify_termination(status, 0), Termination::TimeLimit);
    status.state = JobState::Timeout;
    status.time_limit_reached = false;
    EXPECT_EQ(classify_termination(status, 0), Termination::TimeLimit);
}

TEST(Termination, ScancelIsNeverRequeued) {
    auto status = running_job();
    status.end_time = 1795575335;
    EXPECT_EQ(classify_termination(status, 0), Termination::Cancelled);
    // A requeued run cancelled later: its restart count matches the one it started with.
    status.restart_count = 2;
    EXPECT_EQ(classify_termination(status, 2), Termination::Cancelled);
}

TEST(Termination, NoRecordIsUnknown) {
    EXPECT_EQ(classify_termination(std::nullopt, 0), Termination::Unknown);
}

}  // namespace
}  // namespace spark_slurm
