// Parsing of the daemons' status endpoints, on answers recorded from the real daemons
// (tests/data/recorded).
#include "probes/probes.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace spark_slurm {
namespace {

using testing::recorded;

TEST(Probes, MasterJsonWithTwoWorkers) {
    auto state = parse_master_json(recorded("spark-master.json"));
    ASSERT_TRUE(state);
    EXPECT_EQ(state->status, "ALIVE");
    EXPECT_EQ(state->alive_workers(), 2u);
    ASSERT_EQ(state->workers.size(), 2u);
    EXPECT_EQ(state->matching_workers(state->workers[0].cores, state->workers[0].memory_mib), 2u);
    EXPECT_EQ(state->matching_workers(state->workers[0].cores + 1, state->workers[0].memory_mib),
              0u);
}

TEST(Probes, NamenodeJmx) {
    auto state = parse_namenode_jmx(recorded("namenode-fsnamesystemstate.json"));
    ASSERT_TRUE(state);
    EXPECT_EQ(state->live_datanodes, 2u);
    EXPECT_FALSE(state->in_safe_mode());
}

TEST(Probes, GarbageIsNoAnswer) {
    EXPECT_FALSE(parse_master_json("<html>starting</html>"));
    EXPECT_FALSE(parse_master_json("{}"));
    EXPECT_FALSE(parse_namenode_jmx("{\"beans\": []}"));
    EXPECT_FALSE(parse_namenode_jmx(""));
}

TEST(Probes, NothingListeningIsNoAnswer) { EXPECT_FALSE(http_get("http://127.0.0.1:1/json/")); }

}  // namespace
}  // namespace spark_slurm
