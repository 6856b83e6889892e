// The TLS gateway over loopback, in front of an echo server: what a gRPC client gets (TLS 1.3,
// h2, its bytes back, half-close), and what hostile or broken peers get (dropped within the
// handshake limit, without delaying anyone or leaking descriptors). Every wait polls a real
// signal with a deadline; nothing sleeps for a fixed time.
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

#include "connect/gateway_command.hpp"
#include "connect/tls_certificate.hpp"
#include "tls_test_peers.hpp"

namespace spark_slurm {
namespace {

using namespace spark_slurm::testing;

// A job directory with a fresh certificate, an echo server and a gateway in front of it, served
// by a thread until the fixture ends.
class GatewayTest : public ::testing::Test {
  protected:
    void start(unsigned max_connections = 64, std::chrono::seconds handshake_limit = 10s) {
        char pattern[] = "/tmp/spark-slurm-gateway-test-XXXXXX";
        directory_ = ::mkdtemp(pattern);
        identity_ = make_self_signed_identity({"localhost"}, {"127.0.0.1"}, 1h);
        std::ofstream(directory_ + "/cert.pem") << identity_.certificate_pem;
        std::ofstream(directory_ + "/key.pem") << identity_.private_key_pem;
        GatewaySettings settings{.listen_address = "127.0.0.1",
                                 .listen_port = 0,
                                 .backend_port = echo_.port(),
                                 .certificate_file = directory_ + "/cert.pem",
                                 .private_key_file = directory_ + "/key.pem",
                                 .max_connections = max_connections,
                                 .handshake_limit = handshake_limit};
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
    std::unique_ptr<TlsClient> client(const std::string& alpn = "h2") {
        return std::make_unique<TlsClient>(port(), identity_.certificate_pem, alpn);
    }

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
    start(64, 1s);
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
    start(64, 30s);
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

TEST_F(GatewayTest, ClosesConnectionsOverTheCapAtOnce) {
    start(2, 30s);
    int first = connect_tcp(port()), second = connect_tcp(port());
    int third = connect_tcp(port());
    EXPECT_TRUE(closed_by_peer(third, 5s));
    EXPECT_FALSE(closed_by_peer(first, 0ms));
    ::close(third);
    ::close(first);
    ::close(second);
    // Once those two are gone, there is room again.
    EXPECT_TRUE(eventually([&] { return client()->echo("room") == "room"; }, 10s));
}

TEST_F(GatewayTest, BadConnectionsLeaveNoDescriptorsBehind) {
    start(64, 1s);
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
