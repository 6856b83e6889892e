// The TLS gateway over loopback, in front of an echo server: what a gRPC client gets (TLS 1.3,
// h2, its bytes back, half-close), what hostile or broken peers get (dropped within the
// handshake limit, without delaying anyone or leaking descriptors), and the limits that keep
// the owner from being locked out (the caps with eviction, the idle limit). Clients on other
// hosts are played from other loopback addresses (127.0.0.x). Every wait polls a real signal
// with a deadline; nothing sleeps for a fixed time.
#include "connect/tls_gateway.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>

#include "connect/gateway_command.hpp"
#include "connect/tls_certificate.hpp"
#include "other_users_listener.hpp"
#include "tls_test_peers.hpp"

namespace spark_slurm {
namespace {

using namespace spark_slurm::testing;

// A job directory with a fresh certificate, an echo server and a gateway in front of it, served
// by a thread until the fixture ends.
class GatewayTest : public ::testing::Test {
  protected:
    // The production settings, but for what `adjust` changes.
    void start(const std::function<void(GatewaySettings&)>& adjust = [](GatewaySettings&) {}) {
        char pattern[] = "/tmp/spark-slurm-gateway-test-XXXXXX";
        directory_ = ::mkdtemp(pattern);
        identity_ = make_self_signed_identity({"localhost"}, {"127.0.0.1"}, 1h);
        std::ofstream(directory_ + "/cert.pem") << identity_.certificate_pem;
        std::ofstream(directory_ + "/key.pem") << identity_.private_key_pem;
        GatewaySettings settings{.listen_address = "127.0.0.1",
                                 .listen_port = 0,
                                 .backend_port = echo_.port(),
                                 .certificate_file = directory_ + "/cert.pem",
                                 .private_key_file = directory_ + "/key.pem"};
        adjust(settings);
        gateway_ = std::make_unique<TlsGateway>(settings);
        ASSERT_EQ(::pipe2(stop_, O_CLOEXEC), 0);
        server_ = std::thread([this] { gateway_->serve(stop_[0]); });
    }
    void TearDown() override {
        if (server_.joinable()) {
            ASSERT_EQ(::write(stop_[1], "x", 1), 1);
            server_.join();
            ::close(stop_[0]);
            ::close(stop_[1]);
        }
        if (!directory_.empty()) std::filesystem::remove_all(directory_);
    }
    std::uint16_t port() const { return gateway_->port(); }
    std::unique_ptr<TlsClient> client(const std::string& alpn = "h2",
                                      const char* source = "127.0.0.1") {
        return std::make_unique<TlsClient>(port(), identity_.certificate_pem, alpn, source);
    }
    std::unique_ptr<TlsClient> client_from(const char* source) { return client("h2", source); }

    EchoServer echo_;
    std::string directory_;
    TlsIdentity identity_;
    std::unique_ptr<TlsGateway> gateway_;
    int stop_[2] = {-1, -1};
    std::thread server_;
};

TEST_F(GatewayTest, EchoesSmallAndLargePayloadsOverTls13WithH2) {
    start();
    auto good = client();
    ASSERT_TRUE(good->handshake_ok());
    EXPECT_EQ(good->alpn(), "h2");
    EXPECT_EQ(good->version(), TLS1_3_VERSION);
    EXPECT_EQ(good->echo("hello"), "hello");
    const std::string payload = random_bytes(8 * 1024 * 1024);
    EXPECT_TRUE(good->echo(payload) == payload);
    // The client's half-close reaches the server, whose end comes back as close_notify.
    EXPECT_TRUE(good->half_close_and_wait_for_end());
}

TEST_F(GatewayTest, RefusesClientsThatDoNotNegotiateH2) {
    start();
    EXPECT_FALSE(client("http/1.1")->handshake_ok());
    auto no_alpn = client("");
    EXPECT_TRUE(!no_alpn->handshake_ok() || no_alpn->dropped(5s));
    EXPECT_EQ(client()->echo("still fine"), "still fine");
}

TEST_F(GatewayTest, DropsGarbageAndStalledHandshakesWithinTheLimitWhileOthersAreServed) {
    start([](GatewaySettings& settings) { settings.handshake_limit = 1s; });
    int garbage = connect_tcp(port());
    ASSERT_GE(garbage, 0);
    const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ::send(garbage, request, sizeof request - 1, MSG_NOSIGNAL);
    // A TLS record header announcing 255 bytes that never come: the handshake stalls.
    int stalled = connect_tcp(port());
    ::send(stalled, "\x16\x03\x01\x00\xff", 5, MSG_NOSIGNAL);
    int silent = connect_tcp(port());

    EXPECT_EQ(client()->echo("served meanwhile"), "served meanwhile");
    const auto started = Clock::now();
    EXPECT_TRUE(closed_by_peer(garbage, 5s));
    EXPECT_TRUE(closed_by_peer(stalled, 5s));
    EXPECT_TRUE(closed_by_peer(silent, 5s));
    EXPECT_LT(Clock::now() - started, 5s);
    for (int fd : {garbage, stalled, silent}) ::close(fd);
    EXPECT_EQ(client()->echo("and after"), "and after");
}

TEST_F(GatewayTest, SilentConnectionsDoNotDelayOthers) {
    start([](GatewaySettings& settings) {
        settings.handshake_limit = 30s;
        settings.max_connections_per_peer = 64;  // all of them stay: none is evicted
    });
    std::vector<int> silent;
    for (int i = 0; i < 20; ++i) silent.push_back(connect_tcp(port()));
    auto good = client();
    ASSERT_TRUE(good->handshake_ok());
    EXPECT_EQ(good->echo(random_bytes(256 * 1024)), random_bytes(256 * 1024));
    // They were still open all along: the good client did not wait for them to be dropped.
    for (int fd : silent) {
        EXPECT_FALSE(closed_by_peer(fd, 0ms));
        ::close(fd);
    }
}

TEST_F(GatewayTest, EvictsTheOldestSilentConnectionToMakeRoom) {
    start([](GatewaySettings& settings) {
        settings.max_connections = 2;
        settings.handshake_limit = 30s;
    });
    int first = connect_tcp(port(), "127.0.0.2"), second = connect_tcp(port(), "127.0.0.3");
    // Room for the owner: the oldest of the two, silent, goes; the other stays.
    EXPECT_EQ(client()->echo("room"), "room");
    EXPECT_TRUE(closed_by_peer(first, 5s));
    EXPECT_FALSE(closed_by_peer(second, 0ms));
    ::close(first);
    ::close(second);
}

// The lock-out of issue 27: today's 64 idle connections, from a stranger on other hosts.
TEST_F(GatewayTest, IdleConnectionsFromManyAddressesDoNotLockTheOwnerOut) {
    start();
    std::vector<int> idle;
    std::vector<std::unique_ptr<TlsClient>> idle_after_handshake;
    for (const char* stranger : {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"}) {
        for (int i = 0; i < 14; ++i) idle.push_back(connect_tcp(port(), stranger));
        for (int i = 0; i < 2; ++i) idle_after_handshake.push_back(client_from(stranger));
    }
    // 80 idle connections, over the cap of 64: the owner still gets in, from a host of its own
    // and from one of the stranger's, and its bytes go through.
    auto owner = client_from("127.0.0.100");
    ASSERT_TRUE(owner->handshake_ok());
    EXPECT_EQ(owner->echo("owner"), "owner");
    auto owner_on_a_shared_host = client_from("127.0.0.2");
    ASSERT_TRUE(owner_on_a_shared_host->handshake_ok());
    EXPECT_EQ(owner_on_a_shared_host->echo("shared host"), "shared host");
    EXPECT_EQ(owner->echo(random_bytes(256 * 1024)), random_bytes(256 * 1024));
    for (int fd : idle) ::close(fd);
}

// A login node: the owner's ssh tunnel and a stranger come from the same address.
TEST_F(GatewayTest, IdleConnectionsFromTheOwnersOwnAddressDoNotLockTheOwnerOut) {
    start();
    std::vector<int> idle;
    for (int i = 0; i < 70; ++i) idle.push_back(connect_tcp(port()));
    auto owner = client();
    ASSERT_TRUE(owner->handshake_ok());
    EXPECT_EQ(owner->echo("owner"), "owner");
    // The address holds at most its cap, the owner's connection among them: the stranger's
    // oldest went first.
    std::size_t still_open = 0;
    for (int fd : idle) still_open += closed_by_peer(fd, 0ms) ? 0 : 1;
    EXPECT_LE(still_open, 15u);
    EXPECT_TRUE(closed_by_peer(idle.front(), 0ms));
    EXPECT_FALSE(closed_by_peer(idle.back(), 0ms));
    for (int fd : idle) ::close(fd);
}

TEST_F(GatewayTest, OneAddressCanOnlyEvictItsOwnConnections) {
    start([](GatewaySettings& settings) {
        settings.max_connections = 8;
        settings.max_connections_per_peer = 4;
        settings.handshake_limit = 30s;
    });
    std::vector<int> flood;
    for (int i = 0; i < 40; ++i) flood.push_back(connect_tcp(port(), "127.0.0.2"));
    // The flooding address keeps its 4 newest; the other half of the slots stays for others.
    ASSERT_TRUE(eventually(
        [&] {
            std::size_t open = 0;
            for (int fd : flood) open += closed_by_peer(fd, 0ms) ? 0 : 1;
            return open == 4;
        },
        5s));
    for (std::size_t i = flood.size() - 4; i < flood.size(); ++i)
        EXPECT_FALSE(closed_by_peer(flood[i], 0ms)) << i;
    std::vector<std::unique_ptr<TlsClient>> neighbours;
    for (int i = 0; i < 4; ++i) {
        neighbours.push_back(client_from("127.0.0.3"));
        EXPECT_EQ(neighbours.back()->echo("neighbour"), "neighbour") << i;
    }
    for (int fd : flood) ::close(fd);
}

TEST_F(GatewayTest, AConnectionInUseIsNotEvicted) {
    start();
    auto owner = client();
    ASSERT_EQ(owner->echo("in use"), "in use");
    std::vector<int> flood;
    for (const char* stranger : {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"})
        for (int i = 0; i < 40; ++i) flood.push_back(connect_tcp(port(), stranger));
    EXPECT_EQ(owner->echo("still in use"), "still in use");
    for (int fd : flood) ::close(fd);
}

TEST_F(GatewayTest, RefusesANewConnectionWhenEveryOneIsInUse) {
    start([](GatewaySettings& settings) { settings.max_connections = 2; });
    auto first = client_from("127.0.0.2"), second = client_from("127.0.0.3");
    ASSERT_EQ(first->echo("one"), "one");
    ASSERT_EQ(second->echo("two"), "two");
    auto third = client_from("127.0.0.4");
    EXPECT_TRUE(!third->handshake_ok() || third->dropped(5s));
    EXPECT_EQ(first->echo("one again"), "one again");
    EXPECT_EQ(second->echo("two again"), "two again");
}

TEST_F(GatewayTest, AQuietConnectionMakesRoomOnceQuietForLongEnough) {
    start([](GatewaySettings& settings) {
        settings.max_connections = 1;
        settings.quiet_before_evictable = 1s;
    });
    auto quiet = client_from("127.0.0.2");
    ASSERT_EQ(quiet->echo("then quiet"), "then quiet");
    const auto answered = Clock::now();
    // Refused while the first is in use; let in once it has been quiet for a second.
    std::unique_ptr<TlsClient> newcomer;
    EXPECT_TRUE(eventually(
        [&] {
            newcomer = client_from("127.0.0.3");
            return newcomer->echo("in", 1s) == "in";
        },
        10s));
    EXPECT_GE(Clock::now() - answered, 900ms);
    EXPECT_TRUE(quiet->dropped(5s));
}

TEST_F(GatewayTest, ClosesConnectionsThatMoveNothingForTheIdleLimit) {
    start([](GatewaySettings& settings) { settings.idle_limit = 1s; });
    auto idle = client(), busy = client(), silent_after_handshake = client();
    ASSERT_EQ(idle->echo("then idle"), "then idle");
    ASSERT_TRUE(silent_after_handshake->handshake_ok());
    const auto started = Clock::now();
    // `busy` talks every 200 ms for 3 s, well past the limit: it stays.
    while (Clock::now() - started < 3s) {
        ASSERT_EQ(busy->echo("ping"), "ping");
        ::poll(nullptr, 0, 200);
    }
    EXPECT_TRUE(idle->dropped(0ms));
    EXPECT_TRUE(silent_after_handshake->dropped(0ms));
    EXPECT_EQ(busy->echo("still here"), "still here");
}

TEST_F(GatewayTest, AFloodOfBadConnectionsLogsAFewLines) {
    start();
    ::testing::internal::CaptureStderr();
    std::vector<int> garbage;
    for (int i = 0; i < 60; ++i) {
        garbage.push_back(connect_tcp(port(), "127.0.0.2"));
        ::send(garbage.back(), "garbage\n", 8, MSG_NOSIGNAL);
    }
    for (int fd : garbage) {
        EXPECT_TRUE(closed_by_peer(fd, 5s));
        ::close(fd);
    }
    EXPECT_EQ(client()->echo("x"), "x");
    const std::string logged = ::testing::internal::GetCapturedStderr();
    std::size_t lines = 0;
    for (std::size_t at = logged.find("Connect gateway:"); at != std::string::npos;
         at = logged.find("Connect gateway:", at + 1))
        ++lines;
    EXPECT_GE(lines, 1u);
    EXPECT_LE(lines, 20u) << logged;
}

TEST_F(GatewayTest, BadConnectionsLeaveNoDescriptorsBehind) {
    start([](GatewaySettings& settings) { settings.handshake_limit = 1s; });
    EXPECT_EQ(client()->echo("warm up"), "warm up");
    const std::size_t baseline = open_fd_count();
    for (int round = 0; round < 20; ++round) {
        int garbage = connect_tcp(port());
        ::send(garbage, "garbage\n", 8, MSG_NOSIGNAL);
        ::close(garbage);
        int gone = connect_tcp(port());
        ::close(gone);
        client("http/1.1");
        client("");
        client()->echo("x");
    }
    int silent = connect_tcp(port());
    EXPECT_TRUE(closed_by_peer(silent, 5s));
    ::close(silent);
    EXPECT_TRUE(eventually([&] { return open_fd_count() <= baseline; }, 10s))
        << open_fd_count() << " descriptors open, " << baseline << " before";
}

// The process entry point: SIGTERM ends it with status 0.
// Issue 27: another user's process on the Connect server's port (the server stopped, and the
// port was taken) gets neither a connection nor a byte: the gateway drops the client instead.
TEST_F(GatewayTest, NothingIsForwardedToAnotherUsersListenerOnTheBackendPort) {
    if (!OtherUsersListener::possible()) GTEST_SKIP() << "needs root to listen as another user";
    OtherUsersListener squatter;
    ASSERT_NE(squatter.port(), 0);
    start([&](GatewaySettings& settings) { settings.backend_port = squatter.port(); });
    auto owner = client();
    ASSERT_TRUE(owner->handshake_ok());
    EXPECT_TRUE(owner->dropped(3s));
    EXPECT_EQ(squatter.stop_and_count(), 0u) << "the squatter got connections or bytes";
}

TEST(TlsGatewayProcess, StopsOnSigtermWithStatusZero) {
    char pattern[] = "/tmp/spark-slurm-gateway-test-XXXXXX";
    const std::string directory = ::mkdtemp(pattern);
    auto identity = make_self_signed_identity({"localhost"}, {"127.0.0.1"}, 1h);
    std::ofstream(directory + "/cert.pem") << identity.certificate_pem;
    std::ofstream(directory + "/key.pem") << identity.private_key_pem;
    // A port that was free a moment ago (the child binds it itself).
    int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
    const std::uint16_t port = ntohs(address.sin_port);
    ::close(probe);

    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int status = 3;
        try {
            status = gateway_command({"--listen", "127.0.0.1:" + std::to_string(port),
                                      "--backend-port", "1", "--cert", directory + "/cert.pem",
                                      "--key", directory + "/key.pem"});
        } catch (...) {
        }
        ::_exit(status);
    }
    EXPECT_TRUE(eventually(
        [&] {
            int fd = connect_tcp(port);
            if (fd >= 0) ::close(fd);
            return fd >= 0;
        },
        10s));
    ::kill(child, SIGTERM);
    int status = -1;
    EXPECT_TRUE(eventually([&] { return ::waitpid(child, &status, WNOHANG) == child; }, 10s));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace spark_slurm
