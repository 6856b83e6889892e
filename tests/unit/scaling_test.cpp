// plan/scaling.hpp's rules at the sizes that matter (the test cluster, a partition of 1,000), and
// the leader's descriptor limit raised for real in a child process.
#include "plan/scaling.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/open_files.hpp"

namespace spark_slurm {
namespace {

TEST(Scaling, SmallClustersKeepHadoopsDefaultsLargeOnesGrow) {
    const ScalingKeys two = scaling_keys(2u);
    EXPECT_EQ(two.namenode_handlers, 13u);  // 20 ln 2 = 13.9
    EXPECT_EQ(two.rpc_listen_queue, 256u);
    EXPECT_EQ(two.block_report_initial_delay, 0u);
    EXPECT_EQ(two.leader_open_files, 1032u);
    EXPECT_EQ(scaling_keys(1u).namenode_handlers, 10u);  // never below Hadoop's 10
    const ScalingKeys thousand = scaling_keys(1000u);
    EXPECT_EQ(thousand.namenode_handlers, 138u);  // 20 ln 1000 = 138.2
    EXPECT_EQ(thousand.rpc_listen_queue, 1000u);
    EXPECT_EQ(thousand.block_report_initial_delay, 10u);
    EXPECT_EQ(thousand.leader_open_files, 5024u);
    EXPECT_EQ(scaling_keys(100000u).namenode_handlers, 200u);  // capped
    EXPECT_THAT(describe_scaling(thousand), ::testing::HasSubstr("namenode handlers 138"));
}

// In a child: the soft limit goes up to what is wanted (within the hard limit), and a want above
// the hard limit gets a warning that names it, with the soft limit at the hard one.
TEST(Scaling, TheOpenFilesLimitIsRaisedWithinTheHardLimit) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        rlimit narrow{
            256, limit.rlim_max == RLIM_INFINITY ? 4096 : std::min<rlim_t>(limit.rlim_max, 4096)};
        if (::setrlimit(RLIMIT_NOFILE, &narrow) != 0) ::_exit(10);
        if (raise_open_files_limit(1000)) ::_exit(11);
        ::getrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur != 1000) ::_exit(12);
        if (raise_open_files_limit(500)) ::_exit(13);  // never lowered
        ::getrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur != 1000) ::_exit(14);
        auto warning = raise_open_files_limit(narrow.rlim_max + 1);
        if (!warning || warning->find("hard") == std::string::npos) ::_exit(15);
        ::getrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur != narrow.rlim_max) ::_exit(16);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the step that failed: exit code 10..16 in the test";
}

}  // namespace
}  // namespace spark_slurm
