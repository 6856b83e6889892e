// The leader's side of the control channel, over real TCP on loopback: a worker that proves the
// job's secret is admitted and the leader proves itself back; garbage, a forged hello, a replayed
// hello, an unknown rank and an endless line are each dropped (and written to the events file)
// without any news reaching the leader's state machine.
#include "job/worker_links.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "fixtures.hpp"

namespace spark_slurm {
namespace {

using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

class WorkerLinksTest : public ::testing::Test {
  protected:
    WorkerLinksTest()
        : plan_(make_plan(testing::synthetic_inputs(3))),
          events_path_(std::filesystem::temp_directory_path() /
                       ("worker-links-test-" + std::to_string(::getpid()) + ".jsonl")),
          events_(events_path_.string(), Clock::now()),
          server_("127.0.0.1"),
          port_(server_.port()),
          links_(plan_, std::move(server_), events_) {}
    ~WorkerLinksTest() override { std::filesystem::remove(events_path_); }

    Connection connect() {
        auto connection =
            connect_to_leader("127.0.0.1", port_, Clock::now() + std::chrono::seconds(5));
        EXPECT_TRUE(connection.has_value());
        return std::move(*connection);
    }

    // Services the leader side and reads `client` until `done` holds or 3 s pass.
    std::vector<WorkerNews> pump(Connection& client, std::vector<control::Message>& heard,
                                 const std::function<bool()>& done) {
        std::vector<WorkerNews> news;
        const auto deadline = Clock::now() + std::chrono::seconds(3);
        while (!done() && Clock::now() < deadline) {
            for (auto& item : links_.service(true)) news.push_back(item);
            for (auto& received : client.receive()) {
                if (auto* message = std::get_if<control::Message>(&received))
                    heard.push_back(*message);
            }
            ::usleep(5000);
        }
        return news;
    }

    std::string challenge_of(Connection& client) {
        std::vector<control::Message> heard;
        pump(client, heard, [&] { return !heard.empty(); });
        if (heard.empty() || !std::holds_alternative<control::Challenge>(heard[0])) return "";
        return std::get<control::Challenge>(heard[0]).nonce;
    }

    void send_line(Connection& client, const std::string& line) {
        ASSERT_EQ(::send(client.fd(), line.data(), line.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(line.size()));
    }

    // The leader drops the connection, and no news comes of it.
    void expect_dropped(Connection& client) {
        std::vector<control::Message> heard;
        auto news = pump(client, heard, [&] { return client.closed(); });
        EXPECT_TRUE(client.closed());
        EXPECT_TRUE(news.empty());
        EXPECT_EQ(links_.admitted_count(), 0u);
    }

    std::string events_text() {
        std::ifstream file(events_path_);
        return std::string(std::istreambuf_iterator<char>(file), {});
    }

    Plan plan_;
    std::filesystem::path events_path_;
    EventLog events_;
    ControlServer server_;
    std::uint16_t port_;
    WorkerLinks links_;
};

TEST_F(WorkerLinksTest, AWorkerWithTheSecretIsAdmittedAndTheLeaderProvesItself) {
    Connection client = connect();
    const std::string leader_nonce = challenge_of(client);
    ASSERT_EQ(leader_nonce.size(), 32u);
    const std::string nonce = control::fresh_nonce();
    client.send(control::Hello{1, nonce, control::hello_mac(plan_.secret, 1, leader_nonce, nonce)});
    std::vector<control::Message> heard;
    auto news = pump(client, heard, [&] { return !heard.empty(); });
    ASSERT_EQ(news.size(), 1u);
    EXPECT_EQ(news[0].kind, WorkerNews::Kind::Joined);
    EXPECT_EQ(news[0].rank, 1u);
    ASSERT_EQ(heard.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<control::Welcome>(heard[0]));
    EXPECT_TRUE(control::same_mac(std::get<control::Welcome>(heard[0]).mac,
                                  control::welcome_mac(plan_.secret, 1, leader_nonce, nonce)));
    EXPECT_TRUE(links_.admitted(1));

    // Once admitted, its going away is news.
    client.close();
    std::vector<control::Message> none;
    Connection idle = connect();
    news = pump(idle, none, [&] { return links_.awaiting_stop() == 0; });
    ASSERT_EQ(news.size(), 1u);
    EXPECT_EQ(news[0].kind, WorkerNews::Kind::Lost);
}

TEST_F(WorkerLinksTest, TheOldHelloLineIsDropped) {
    Connection client = connect();
    challenge_of(client);
    send_line(client, "{\"hello\":\"x\"}\n");
    expect_dropped(client);
    EXPECT_THAT(events_text(), HasSubstr("control_rejected"));
}

TEST_F(WorkerLinksTest, AForgedHelloIsDropped) {
    Connection client = connect();
    const std::string leader_nonce = challenge_of(client);
    const std::string nonce = control::fresh_nonce();
    client.send(
        control::Hello{1, nonce, control::hello_mac("not the secret", 1, leader_nonce, nonce)});
    expect_dropped(client);
}

TEST_F(WorkerLinksTest, AReplayedHelloIsDropped) {
    Connection worker = connect();
    const std::string leader_nonce = challenge_of(worker);
    const std::string nonce = control::fresh_nonce();
    const std::string hello = control::serialize(
        control::Hello{2, nonce, control::hello_mac(plan_.secret, 2, leader_nonce, nonce)});
    // An eavesdropper replays the worker's hello on its own connection, before and after the
    // worker: the leader's challenge differs per connection, so the MAC does not verify.
    Connection eavesdropper = connect();
    challenge_of(eavesdropper);
    send_line(eavesdropper, hello);
    expect_dropped(eavesdropper);
    send_line(worker, hello);
    std::vector<control::Message> heard;
    pump(worker, heard, [&] { return links_.admitted(2); });
    EXPECT_TRUE(links_.admitted(2));
    Connection late = connect();
    challenge_of(late);
    send_line(late, hello);
    std::vector<control::Message> ignored;
    auto news = pump(late, ignored, [&] { return late.closed(); });
    EXPECT_TRUE(late.closed());
    EXPECT_TRUE(news.empty());
    EXPECT_EQ(links_.admitted_count(), 1u);
}

TEST_F(WorkerLinksTest, UnknownRanksAndMessagesBeforeTheHandshakeAreDropped) {
    for (unsigned rank : {0u, 3u, 1000u}) {
        Connection client = connect();
        const std::string leader_nonce = challenge_of(client);
        const std::string nonce = control::fresh_nonce();
        client.send(control::Hello{rank, nonce,
                                   control::hello_mac(plan_.secret, rank, leader_nonce, nonce)});
        expect_dropped(client);
    }
    Connection early = connect();
    challenge_of(early);
    early.send(control::Stopped{});
    expect_dropped(early);
}

TEST_F(WorkerLinksTest, AnEndlessLineIsDropped) {
    Connection client = connect();
    challenge_of(client);
    const std::string flood(8192, 'x');
    std::vector<control::Message> heard;
    for (int i = 0; i < 64 && !client.closed(); ++i) {
        ::send(client.fd(), flood.data(), flood.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        links_.service(true);
        client.receive();
    }
    expect_dropped(client);
}

// A connection from `source` (a loopback address of its own), like a launcher on another node.
Connection connect_from(const std::string& source, std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target), 0);
    return Connection(fd, source);
}

// Issue 27: strangers that flood the port (silent connections, faster than the handshake limit
// drops them), from elsewhere and from the worker's own node, neither evict the worker nor fill
// the events file.
TEST_F(WorkerLinksTest, AFloodOfStrangersEvictsNoWorkerAndTheEventsFileStaysSmall) {
    plan_.nodes[1].address = "127.0.0.2";  // rank 1's launcher, on "its node"
    std::vector<Connection> strangers;
    for (int i = 0; i < 60; ++i) strangers.push_back(connect_from("127.0.0.1", port_));
    links_.service(true);
    Connection worker = connect_from("127.0.0.2", port_);
    // More arrive between the worker's connect and its hello, from its own node too.
    for (int i = 0; i < 60; ++i) strangers.push_back(connect_from("127.0.0.2", port_));
    // The worker answers its challenge at once, as a launcher does; the flood goes on.
    const std::string leader_nonce = challenge_of(worker);
    ASSERT_EQ(leader_nonce.size(), 32u);
    const std::string nonce = control::fresh_nonce();
    worker.send(control::Hello{1, nonce, control::hello_mac(plan_.secret, 1, leader_nonce, nonce)});
    for (int i = 0; i < 60; ++i) strangers.push_back(connect_from("127.0.0.2", port_));
    links_.service(true);
    for (int i = 0; i < 60; ++i) strangers.push_back(connect_from("127.0.0.1", port_));
    std::vector<control::Message> heard;
    pump(worker, heard, [&] { return links_.admitted(1); });
    EXPECT_TRUE(links_.admitted(1));
    EXPECT_FALSE(worker.closed());

    // Once none is fresh any more (a round later): 240 strangers, at most 16 + 4 held: the rest
    // were dropped, 20 of them a line each in the events file and the others counted.
    for (int round = 0; round < 2; ++round) {
        ::usleep(2000);
        links_.service(true);
    }
    std::size_t open = 0;
    for (auto& stranger : strangers) {
        stranger.receive();
        open += !stranger.closed();
    }
    EXPECT_LE(open, 20u);
    const std::string events = events_text();
    std::size_t lines = std::count(events.begin(), events.end(), '\n');
    EXPECT_LE(lines, 22u);
    std::size_t rejected_lines = 0;
    for (std::size_t at = 0; (at = events.find("\"control_rejected\"", at)) != std::string::npos;
         ++at)
        ++rejected_lines;
    EXPECT_EQ(rejected_lines, 20u);
}

}  // namespace
}  // namespace spark_slurm
