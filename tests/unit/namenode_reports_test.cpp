// The namenode's state from `hdfs dfsadmin -report -live` (the readiness source with Kerberos),
// on answers shaped like Hadoop 3.4's.
#include <gtest/gtest.h>

#include "probes/probes.hpp"

namespace spark_slurm {
namespace {

constexpr const char* kHeader =
    "Configured Capacity: 105089261568 (97.87 GB)\n"
    "Present Capacity: 60352528384 (56.21 GB)\n"
    "DFS Remaining: 60352454656 (56.21 GB)\n"
    "DFS Used: 73728 (72 KB)\n"
    "Replicated Blocks:\n"
    "\tUnder replicated blocks: 0\n"
    "-------------------------------------------------\n";

TEST(NamenodeReports, LiveDatanodesAndOperational) {
    auto state = parse_dfsadmin_report(std::string(kHeader) +
                                       "Live datanodes (2):\n\nName: 10.213.77.12:9866 (node2)\n");
    ASSERT_TRUE(state);
    EXPECT_EQ(state->live_datanodes, 2u);
    EXPECT_FALSE(state->in_safe_mode());
    EXPECT_EQ(state->capacity_total, 105089261568u);
    EXPECT_EQ(state->capacity_used, 73728u);
}

TEST(NamenodeReports, SafeModeIsSaidFirst) {
    auto state = parse_dfsadmin_report("Safe mode is ON\n" + std::string(kHeader) +
                                       "Live datanodes (0):\n\n");
    ASSERT_TRUE(state);
    EXPECT_EQ(state->live_datanodes, 0u);
    EXPECT_TRUE(state->in_safe_mode());
}

TEST(NamenodeReports, AnErrorIsNoAnswer) {
    EXPECT_FALSE(parse_dfsadmin_report(
        "report: Call From node1/10.213.77.11 to node1:8020 failed on connection exception: "
        "java.net.ConnectException: Connection refused\n"));
    EXPECT_FALSE(parse_dfsadmin_report(""));
}

}  // namespace
}  // namespace spark_slurm
