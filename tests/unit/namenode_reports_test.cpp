// The namenode's state from `hdfs dfsadmin -report -live` (the readiness source with Kerberos):
// parse_dfsadmin_report on answers shaped like Hadoop 3.4's, and NamenodeReports, which runs the
// reports one after another (a fake Hadoop install's bin/hdfs here) once the RPC port accepts.
#include "job/namenode_reports.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "fixtures.hpp"
#include "probes/probes.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/process.hpp"

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

// A Hadoop install whose bin/hdfs appends its arguments to `calls`, prints `report` and exits
// with the status in `status` (after `delay` seconds, if that file exists).
class FakeHadoop {
  public:
    FakeHadoop() {
        std::string pattern = (std::filesystem::temp_directory_path() / "namenode-reports-XXXXXX");
        dir_ = ::mkdtemp(pattern.data());
        std::filesystem::create_directories(dir_ / "bin");
        write("bin/hdfs",
              "#!/bin/sh\n"
              "here=$(dirname \"$0\")/..\n"
              "echo \"$*\" >>\"$here/calls\"\n"
              "[ -f \"$here/delay\" ] && sleep \"$(cat \"$here/delay\")\"\n"
              // One open file: its status and report belong to one answer().
              "{ read -r status; cat; exit \"$status\"; } <\"$here/answer\"\n");
        std::filesystem::permissions(dir_ / "bin/hdfs", std::filesystem::perms::owner_all);
        answer("", 1);
    }
    ~FakeHadoop() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    // The next reports print `report` and exit with `status` (both replaced at once: a report
    // under way when they change reads the one or the other, never half of each).
    void answer(const std::string& report, int status) {
        write("answer", std::to_string(status) + "\n" + report);
    }
    void write(const std::string& name, const std::string& text) {
        const auto temporary = dir_ / (name + ".new");
        std::ofstream(temporary) << text;
        std::filesystem::rename(temporary, dir_ / name);
    }
    std::vector<std::string> calls() const {
        std::ifstream file(dir_ / "calls");
        std::vector<std::string> lines;
        for (std::string line; std::getline(file, line);) lines.push_back(line);
        return lines;
    }
    std::string home() const { return dir_.string(); }

  private:
    std::filesystem::path dir_;
};

// A TCP socket on 127.0.0.1 that holds a port but accepts connections only once listen()ed.
class Port {
  public:
    Port() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            throw std::runtime_error("no port");
        }
        number_ = ntohs(address.sin_port);
    }
    ~Port() { ::close(fd_); }
    void listen() { ASSERT_EQ(::listen(fd_, 16), 0); }
    std::uint16_t number() const { return number_; }

  private:
    int fd_;
    std::uint16_t number_ = 0;
};

class NamenodeReportsRunning : public ::testing::Test {
  protected:
    NamenodeReportsRunning() : plan_(make_plan(testing::synthetic_inputs(3))) {
        become_supervisor();
        plan_.leader_address = "127.0.0.1";
        NodePlan& leader = plan_.nodes[0];
        leader.ports.namenode_rpc = port_.number();
        leader.work_dir = leader.tmp_dir = leader.conf_dir = hadoop_.home();
        RuntimeSettings settings;
        settings.kind = RuntimeChoice::None;
        settings.spark_home = hadoop_.home();
        settings.hadoop_home = hadoop_.home();
        settings.java_home = hadoop_.home();
        settings.inherited = {{"PATH", "/usr/bin:/bin"}};
        runtime_ = make_runtime(settings);
        reports_.emplace(plan_, plan_.nodes[0], *runtime_);
    }
    ~NamenodeReportsRunning() override {
        reports_->request_stop();
        poll_until([&] { return reports_->gone(); }, std::chrono::seconds(20));
    }
    // Polls as the leader's event loop does (reaping children) until `done`; false at the deadline.
    bool poll_until(const std::function<bool()>& done,
                    std::chrono::milliseconds limit = std::chrono::seconds(20)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            reap_children();
            if (done()) return true;
            reports_->poll();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    FakeHadoop hadoop_;
    Port port_;
    Plan plan_;
    std::unique_ptr<Runtime> runtime_;
    std::optional<NamenodeReports> reports_;
};

const std::string kLiveReport =
    std::string(kHeader) + "Live datanodes (2):\n\nName: 10.213.77.12:9866 (node2)\n";

TEST_F(NamenodeReportsRunning, NoReportUntilTheRpcPortAccepts) {
    hadoop_.answer(kLiveReport, 0);
    EXPECT_FALSE(poll_until([] { return false; }, std::chrono::milliseconds(500)));
    EXPECT_TRUE(hadoop_.calls().empty()) << "a report ran before the namenode's RPC port accepted";
    EXPECT_FALSE(reports_->latest());
    port_.listen();
    ASSERT_TRUE(poll_until([&] { return reports_->latest().has_value(); }))
        << "no report read once the port accepted";
    EXPECT_EQ(reports_->latest()->live_datanodes, 2u);
    EXPECT_FALSE(reports_->latest()->in_safe_mode());
    ASSERT_FALSE(hadoop_.calls().empty());
    EXPECT_EQ(hadoop_.calls().front(), "dfsadmin -report -live");
}

TEST_F(NamenodeReportsRunning, AFailedReportIsNoAnswerAndTheNextOneRuns) {
    port_.listen();
    hadoop_.answer(kLiveReport, 1);  // the output of a failed run is not read
    ASSERT_TRUE(poll_until([&] { return hadoop_.calls().size() >= 3; }))
        << "the reports did not run one after another";
    EXPECT_FALSE(reports_->latest()) << "a failed report was taken for an answer";
    hadoop_.answer("Safe mode is ON\n" + std::string(kHeader) + "Live datanodes (1):\n\n", 0);
    ASSERT_TRUE(poll_until([&] { return reports_->latest().has_value(); }));
    EXPECT_TRUE(reports_->latest()->in_safe_mode());
    // The latest answer stays until a newer one, also while later reports fail.
    hadoop_.answer(kLiveReport, 1);
    const auto calls = hadoop_.calls().size();
    ASSERT_TRUE(poll_until([&] { return hadoop_.calls().size() >= calls + 2; }));
    ASSERT_TRUE(reports_->latest());
    EXPECT_EQ(reports_->latest()->live_datanodes, 1u);
    hadoop_.answer(kLiveReport, 0);
    ASSERT_TRUE(poll_until([&] { return reports_->latest()->live_datanodes == 2; }));
    EXPECT_FALSE(reports_->latest()->in_safe_mode());
}

TEST_F(NamenodeReportsRunning, StopEndsAHangingReport) {
    port_.listen();
    hadoop_.write("delay", "600\n");
    ASSERT_TRUE(poll_until([&] { return !hadoop_.calls().empty(); }));
    reports_->request_stop();
    const auto asked = std::chrono::steady_clock::now();
    ASSERT_TRUE(poll_until([&] { return reports_->gone(); }, std::chrono::seconds(30)))
        << "the hanging report outlived its stop";
    EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(15));
    const auto calls = hadoop_.calls().size();
    reports_->poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    reap_children();
    EXPECT_EQ(hadoop_.calls().size(), calls) << "a report started after the stop";
    EXPECT_FALSE(reports_->latest());
}

}  // namespace
}  // namespace spark_slurm
