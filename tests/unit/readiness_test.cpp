// The leader's readiness decisions from the daemons' answers recorded from real ones
// (tests/data/recorded), served by a real HTTP server on 127.0.0.1 and read without blocking, as
// the leader's loop reads them: the master and namenode coming up, a cluster ready or not, and
// the message of a cluster that was not ready in time.
#include "job/readiness.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "fixtures.hpp"
#include "local_http_server.hpp"

namespace spark_slurm {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using spark_slurm::testing::http_ok;
using spark_slurm::testing::LocalHttpServer;
using spark_slurm::testing::recorded;
using ::testing::HasSubstr;

// Serves the master's /json and the namenode's JMX (recorded unless given).
struct DaemonsServer {
    explicit DaemonsServer(std::string master = recorded("spark-master.json"),
                           std::string namenode = recorded("namenode-fsnamesystemstate.json"))
        : server([master, namenode](const std::string& target) -> std::optional<std::string> {
              if (target == "/json/") return http_ok(master);
              if (target.starts_with("/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"))
                  return http_ok(namenode);
              return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
          }) {}
    LocalHttpServer server;
};

// A leader and `workers` workers offering what the recorded master's workers offer (2 cores,
// 4380 MiB), the web UIs at `url`.
Plan plan_at(const std::string& url, unsigned workers) {
    Plan plan = make_plan(testing::synthetic_inputs(workers + 1));
    plan.hdfs = true;
    plan.master_webui_url = url;
    plan.namenode_webui_url = url;
    plan.worker_count = workers;
    plan.worker_cores = 2;
    plan.worker_memory = std::uint64_t{4380} << 20;
    return plan;
}

// The leader's loop: poll with the probes' fds, read their answers, decide (asking at every turn)
// until `decide` says yes or `limit` passed.
template <typename Decide>
bool turn_until(Readiness& readiness, Decide decide, std::chrono::milliseconds limit = 5s) {
    const auto started = Clock::now();
    while (Clock::now() - started < limit) {
        std::vector<pollfd> fds;
        readiness.add_poll_fds(fds);
        ::poll(fds.data(), fds.size(), static_cast<int>(readiness.poll_timeout(20ms).count()));
        readiness.receive_answers();
        if (decide()) return true;
    }
    return false;
}

bool leader_daemons_come_up(Readiness& readiness) {
    return turn_until(readiness, [&] {
        readiness.probe_leader_daemons(true);
        return readiness.leader_daemons_up();
    });
}

class ReadinessTest : public ::testing::Test {
  protected:
    EventLog events_{"", Clock::now()};
};

TEST_F(ReadinessTest, RecordedAnswersMakeAReadyCluster) {
    DaemonsServer daemons;
    const Plan plan = plan_at(daemons.server.url(), 2);
    Readiness readiness(plan, events_, Clock::now());
    unsigned master_came_up = 0;
    EXPECT_TRUE(turn_until(readiness, [&] {
        master_came_up += readiness.probe_leader_daemons(true);
        return readiness.leader_daemons_up();
    }));
    EXPECT_EQ(master_came_up, 1u);
    EXPECT_TRUE(readiness.master_up());
    EXPECT_TRUE(turn_until(readiness, [&] { return readiness.probe_cluster(true); }));
}

// Nothing is decided, nor asked, without answers: a probe is sent only when the loop says so.
TEST_F(ReadinessTest, AsksOnlyWhenTold) {
    DaemonsServer daemons;
    const Plan plan = plan_at(daemons.server.url(), 2);
    Readiness readiness(plan, events_, Clock::now());
    EXPECT_FALSE(turn_until(
        readiness, [&] { return readiness.probe_leader_daemons(false); }, 300ms));
    EXPECT_EQ(daemons.server.requests(), 0u);
    EXPECT_FALSE(readiness.master_up());
}

TEST_F(ReadinessTest, TooFewWorkersIsNotReady) {
    DaemonsServer daemons;
    const Plan plan = plan_at(daemons.server.url(), 3);
    Readiness readiness(plan, events_, Clock::now());
    ASSERT_TRUE(leader_daemons_come_up(readiness));
    EXPECT_FALSE(turn_until(
        readiness, [&] { return readiness.probe_cluster(true); }, 1s));
    EXPECT_GE(daemons.server.requests(), 4u);  // rounds were asked and answered
    EXPECT_THAT(readiness.timeout_message([](unsigned) { return true; }),
                HasSubstr("2/3 spark workers registered, 2/3 datanodes live"));
}

TEST_F(ReadinessTest, WorkersWithAnotherOfferDoNotCount) {
    DaemonsServer daemons;
    Plan plan = plan_at(daemons.server.url(), 2);
    plan.worker_cores = 4;
    Readiness readiness(plan, events_, Clock::now());
    ASSERT_TRUE(leader_daemons_come_up(readiness));
    EXPECT_FALSE(turn_until(
        readiness, [&] { return readiness.probe_cluster(true); }, 1s));
    EXPECT_THAT(readiness.timeout_message([](unsigned) { return true; }),
                HasSubstr("0/2 spark workers registered, 2/2 datanodes live"));
}

TEST_F(ReadinessTest, SafeModeIsNotReady) {
    std::string namenode = recorded("namenode-fsnamesystemstate.json");
    namenode.replace(namenode.find("\"Operational\""), 13, "\"safeMode\"");
    DaemonsServer daemons(recorded("spark-master.json"), namenode);
    const Plan plan = plan_at(daemons.server.url(), 2);
    Readiness readiness(plan, events_, Clock::now());
    ASSERT_TRUE(leader_daemons_come_up(readiness));
    EXPECT_FALSE(turn_until(
        readiness, [&] { return readiness.probe_cluster(true); }, 1s));
}

TEST_F(ReadinessTest, AStandbyMasterIsNotUp) {
    std::string master = recorded("spark-master.json");
    const std::string alive = "\"status\" : \"ALIVE\"";
    master.replace(master.find(alive), alive.size(), "\"status\" : \"STANDBY\"");
    DaemonsServer daemons(master);
    const Plan plan = plan_at(daemons.server.url(), 2);
    Readiness readiness(plan, events_, Clock::now());
    EXPECT_FALSE(turn_until(
        readiness, [&] { return readiness.probe_leader_daemons(true); }, 1s));
    EXPECT_FALSE(readiness.master_up());
}

// With Kerberos the namenode's state comes from elsewhere: its web UI is not asked.
TEST_F(ReadinessTest, NamenodeFromAnotherSourceIsNotAskedOverHttp) {
    std::atomic<unsigned> jmx_requests = 0;
    const std::string master = recorded("spark-master.json");
    LocalHttpServer server([&](const std::string& target) {
        if (target != "/json/") ++jmx_requests;
        return http_ok(master);
    });
    const Plan plan = plan_at(server.url(), 2);
    Readiness readiness(plan, events_, Clock::now());
    std::optional<NamenodeState> report;
    readiness.set_namenode_source([&] { return report; });
    ASSERT_TRUE(turn_until(readiness, [&] {
        readiness.probe_leader_daemons(true);
        return readiness.master_up();
    }));
    EXPECT_FALSE(readiness.leader_daemons_up());
    report = NamenodeState{.live_datanodes = 2, .fs_state = "Operational"};
    EXPECT_TRUE(leader_daemons_come_up(readiness));
    EXPECT_TRUE(turn_until(readiness, [&] { return readiness.probe_cluster(true); }));
    EXPECT_EQ(jmx_requests, 0u);
}

}  // namespace
}  // namespace spark_slurm
