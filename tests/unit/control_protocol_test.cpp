// The control channel's messages and transport: every message round-trips; anything else —
// garbage, wrong types, missing or extra fields, over-long lines, random bytes — is a
// ParseFailure, never an exception; the handshake MACs bind the secret, the rank and both nonces.
#include "control/control_protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "control/control_channel.hpp"

namespace spark_slurm {
namespace {

using namespace control;
using ::testing::HasSubstr;

const std::string kNonceA(32, 'a');
const std::string kNonceB(32, 'b');
const std::string kMac(64, 'c');

std::vector<Message> every_message() {
    return {Challenge{kNonceA},
            Hello{3, kNonceB, kMac},
            Welcome{kMac},
            StartDaemon{"spark-worker"},
            ClusterReady{},
            Stop{},
            Heartbeat{},
            DaemonRestarting{"hdfs-datanode", "exit status 1", 2},
            DaemonExited{"spark-worker", "killed by signal 9 (Killed)", "    a log line\n"},
            StartFailed{"while starting spark worker: No such file"},
            Stopped{}};
}

bool is_failure(std::string_view line) {
    return std::holds_alternative<ParseFailure>(parse_message(line));
}

TEST(ControlProtocol, EveryMessageRoundTrips) {
    for (const auto& message : every_message()) {
        std::string line = serialize(message);
        ASSERT_EQ(line.back(), '\n');
        line.pop_back();
        auto parsed = parse_message(line);
        ASSERT_TRUE(std::holds_alternative<Message>(parsed)) << line;
        EXPECT_EQ(serialize(std::get<Message>(parsed)), line + "\n");
        EXPECT_STREQ(type_name(std::get<Message>(parsed)), type_name(message));
    }
}

TEST(ControlProtocol, TheLineThatCrashedALeaderIsAParseFailure) {
    // A worker of the old protocol said {"hello": RANK}; the leader did get<unsigned>() on it.
    auto parsed = parse_message(R"({"hello":"x"})");
    ASSERT_TRUE(std::holds_alternative<ParseFailure>(parsed));
    EXPECT_THAT(std::get<ParseFailure>(parsed).reason, HasSubstr("no message type"));
}

TEST(ControlProtocol, RejectsWrongTypesMissingAndExtraFields) {
    for (
        const char* line :
        {"",
         "not json",
         "[1,2]",
         "42",
         "null",
         R"({"type":7})",
         R"({"type":"launch"})",
         R"({"type":"hello","rank":"1","nonce":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","mac":"x"})",
         R"({"type":"hello","rank":-1,"nonce":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","mac":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"})",
         R"({"type":"hello","rank":1.5,"nonce":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","mac":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"})",
         R"({"type":"hello","rank":99999999999,"nonce":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","mac":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"})",
         R"({"type":"hello","rank":1,"nonce":"AAAA","mac":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"})",
         R"({"type":"hello","rank":1,"nonce":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})",
         R"({"type":"challenge","nonce":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","extra":1})",
         R"({"type":"stop","now":true})",
         R"({"type":"start","daemon":["x"]})",
         R"({"type":"daemon_restarting","daemon":"x","status":"y","attempt":"2"})",
         R"({"type":"daemon_exited","daemon":"x","status":"y"})",
         R"({"type":"start_failed","reason":null})",
         R"({"type":"heartbeat")"}) {
        EXPECT_TRUE(is_failure(line)) << line;
    }
    const std::string with_nul("{\"type\":\"stop\"}\0garbage", 24);
    EXPECT_TRUE(is_failure(with_nul));
}

TEST(ControlProtocol, RefusesLinesLongerThanAMessageCanBe) {
    std::string line =
        R"({"type":"start_failed","reason":")" + std::string(kMaxLineBytes, 'x') + "\"}";
    auto parsed = parse_message(line);
    ASSERT_TRUE(std::holds_alternative<ParseFailure>(parsed));
    EXPECT_THAT(std::get<ParseFailure>(parsed).reason, HasSubstr("too long"));
}

TEST(ControlProtocol, LongLogTailsAreCutToFitALine) {
    std::string line = serialize(
        DaemonExited{"spark-worker", "exit status 1", std::string(10 * kMaxLineBytes, 'y')});
    line.pop_back();
    EXPECT_LT(line.size(), kMaxLineBytes);
    EXPECT_TRUE(std::holds_alternative<Message>(parse_message(line)));
}

TEST(ControlProtocol, InvalidUtf8InALogTailDoesNotThrow) {
    std::string line = serialize(DaemonExited{"spark-worker", "exit", "\xff\xfe bytes"});
    EXPECT_TRUE(std::holds_alternative<Message>(parse_message(line.substr(0, line.size() - 1))));
}

// A seeded fuzz loop: random bytes and random mutations of valid lines. Nothing may throw, and a
// mutated line that still parses must serialize back to a valid message.
TEST(ControlProtocol, FuzzedInputNeverThrows) {
    std::mt19937 random(20261126);
    std::vector<std::string> valid;
    for (const auto& message : every_message()) {
        std::string line = serialize(message);
        line.pop_back();
        valid.push_back(line);
    }
    const std::string alphabet = "{}[]\":,0123456789abcdefxyz-+.eE\\ \ttruefalsenull\x80\xff";
    for (int round = 0; round < 20000; ++round) {
        std::string line;
        if (round % 2 == 0) {
            line.resize(random() % 200);
            for (auto& c : line) c = static_cast<char>(random() % 256);
        } else {
            line = valid[random() % valid.size()];
            for (int edit = 0, edits = 1 + random() % 4; edit < edits; ++edit) {
                std::size_t at = random() % (line.size() + 1);
                switch (random() % 3) {
                    case 0:
                        line.insert(at, 1, alphabet[random() % alphabet.size()]);
                        break;
                    case 1:
                        if (at < line.size()) line.erase(at, 1);
                        break;
                    default:
                        if (at < line.size()) line[at] = alphabet[random() % alphabet.size()];
                }
            }
        }
        std::variant<Message, ParseFailure> parsed;
        ASSERT_NO_THROW(parsed = parse_message(line)) << line;
        if (auto* message = std::get_if<Message>(&parsed)) {
            std::string again = serialize(*message);
            again.pop_back();
            EXPECT_TRUE(std::holds_alternative<Message>(parse_message(again))) << line;
        }
    }
}

TEST(ControlProtocol, MacsBindSecretRankAndBothNonces) {
    const std::string secret = "s3cret";
    const auto mac = hello_mac(secret, 1, kNonceA, kNonceB);
    EXPECT_EQ(mac.size(), 64u);
    EXPECT_TRUE(same_mac(mac, hello_mac(secret, 1, kNonceA, kNonceB)));
    EXPECT_FALSE(same_mac(mac, hello_mac("other", 1, kNonceA, kNonceB)));
    EXPECT_FALSE(same_mac(mac, hello_mac(secret, 2, kNonceA, kNonceB)));
    EXPECT_FALSE(same_mac(mac, hello_mac(secret, 1, kNonceB, kNonceB)));
    EXPECT_FALSE(same_mac(mac, hello_mac(secret, 1, kNonceA, kNonceA)));
    // The leader's answer can never be mistaken for (or made from) a worker's hello.
    EXPECT_FALSE(same_mac(mac, welcome_mac(secret, 1, kNonceA, kNonceB)));
    EXPECT_FALSE(same_mac(mac, mac.substr(0, 63)));
    EXPECT_NE(fresh_nonce(), fresh_nonce());
    EXPECT_EQ(fresh_nonce().size(), 32u);
}

// The transport over a socketpair: what one side sends, the other receives in order, whole;
// a line split across reads is joined; an over-long line closes the connection.
class ConnectionPair : public ::testing::Test {
  protected:
    void SetUp() override {
        int fds[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        a = Connection(fds[0], "a");
        b = Connection(fds[1], "b");
    }
    std::vector<Received> receive_all(Connection& connection, std::size_t at_least) {
        std::vector<Received> all;
        for (int tries = 0; tries < 100 && all.size() < at_least; ++tries) {
            for (auto& received : connection.receive()) all.push_back(std::move(received));
            if (all.size() < at_least) ::usleep(10000);  // the kernel moves the bytes; poll
        }
        return all;
    }
    Connection a, b;
};

TEST_F(ConnectionPair, MessagesArriveInOrder) {
    for (const auto& message : every_message()) a.send(message);
    auto received = receive_all(b, every_message().size());
    ASSERT_EQ(received.size(), every_message().size());
    for (std::size_t i = 0; i < received.size(); ++i) {
        ASSERT_TRUE(std::holds_alternative<Message>(received[i]));
        EXPECT_STREQ(type_name(std::get<Message>(received[i])), type_name(every_message()[i]));
    }
    EXPECT_FALSE(b.closed());
}

TEST_F(ConnectionPair, ALineSplitAcrossWritesIsJoined) {
    const std::string line = serialize(StartDaemon{"hdfs-datanode"});
    ASSERT_EQ(::write(a.fd(), line.data(), 5), 5);
    EXPECT_TRUE(b.receive().empty());
    ASSERT_EQ(::write(a.fd(), line.data() + 5, line.size() - 5),
              static_cast<ssize_t>(line.size() - 5));
    auto received = receive_all(b, 1);
    ASSERT_EQ(received.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<Message>(received[0]));
}

TEST_F(ConnectionPair, GarbageIsReportedAndTheNextLineStillParses) {
    const std::string garbage = "\x01\x02 not a message\n" + serialize(Stop{});
    ASSERT_EQ(::write(a.fd(), garbage.data(), garbage.size()),
              static_cast<ssize_t>(garbage.size()));
    auto received = receive_all(b, 2);
    ASSERT_EQ(received.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<ParseFailure>(received[0]));
    EXPECT_TRUE(std::holds_alternative<Message>(received[1]));
}

TEST_F(ConnectionPair, AnEndlessLineClosesTheConnection) {
    const std::string flood(4096, 'x');
    std::vector<Received> received;
    for (std::size_t sent = 0; sent <= 2 * kMaxLineBytes && !b.closed(); sent += flood.size()) {
        if (::send(a.fd(), flood.data(), flood.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) break;
        for (auto& item : b.receive()) received.push_back(std::move(item));
    }
    if (received.empty()) received = receive_all(b, 1);
    ASSERT_FALSE(received.empty());
    ASSERT_TRUE(std::holds_alternative<ParseFailure>(received.back()));
    EXPECT_THAT(std::get<ParseFailure>(received.back()).reason, HasSubstr("too long"));
    EXPECT_TRUE(b.closed());
}

TEST_F(ConnectionPair, APeerThatLeavesMakesTheConnectionClosed) {
    a.close();
    receive_all(b, 1);
    EXPECT_TRUE(b.closed());
    b.send(Heartbeat{});  // must not raise SIGPIPE or throw
}

}  // namespace
}  // namespace spark_slurm
