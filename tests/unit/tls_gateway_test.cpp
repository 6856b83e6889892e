// The TLS gateway over loopback, in front of an echo server: what a gRPC client gets (TLS 1.3,
// h2, its bytes back, half-close), and what hostile or broken peers get (dropped within the
// handshake limit, without delaying anyone or leaking descriptors). Every wait polls a real
// signal with a deadline; nothing sleeps for a fixed time.
#include "connect/tls_gateway.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "common/errors.hpp"
#include "connect/gateway_command.hpp"
#include "connect/tls_certificate.hpp"

namespace spark_slurm {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Polls `done` until it is true or `limit` has passed.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (done()) return true;
        ::poll(nullptr, 0, 10);
    }
    return done();
}

std::size_t open_fd_count() {
    std::size_t count = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    while (dir && ::readdir(dir)) ++count;
    if (dir) ::closedir(dir);
    return count;
}

int connect_tcp(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// True once the peer has closed `fd` (EOF or reset), within `limit`.
bool closed_by_peer(int fd, std::chrono::milliseconds limit) {
    char byte;
    return eventually(
        [&] {
            pollfd readable{fd, POLLIN, 0};
            if (::poll(&readable, 1, 20) <= 0) return false;
            ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT);
            return n == 0 || (n < 0 && errno != EAGAIN);
        },
        limit);
}

// Echoes every byte on every connection; ends its side when the client ends its own.
class EchoServer {
  public:
    EchoServer() {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
        ::listen(listener_, 64);
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~EchoServer() {
        ::shutdown(listener_, SHUT_RDWR);  // wakes accept()
        acceptor_.join();
        {
            std::lock_guard lock(mutex_);
            for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
        }
        for (auto& thread : connections_) thread.join();
        ::close(listener_);
    }
    std::uint16_t port() const { return port_; }

  private:
    void accept_loop() {
        while (true) {
            int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) return;
            std::lock_guard lock(mutex_);
            open_.push_back(fd);
            connections_.emplace_back([this, fd] { echo(fd); });
        }
    }
    void echo(int fd) {
        char buffer[64 * 1024];
        ssize_t n;
        while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
            for (ssize_t sent = 0, m; sent < n; sent += m)
                if ((m = ::send(fd, buffer + sent, n - sent, MSG_NOSIGNAL)) <= 0) break;
        ::shutdown(fd, SHUT_WR);
        std::lock_guard lock(mutex_);
        std::erase(open_, fd);
        ::close(fd);
    }

    int listener_;
    std::uint16_t port_;
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<int> open_;
    std::vector<std::thread> connections_;
};

// A TLS client that trusts only the job's certificate, with the ALPN list it is given.
class TlsClient {
  public:
    TlsClient(std::uint16_t port, const std::string& certificate_pem, std::string alpn) {
        context_.reset(SSL_CTX_new(TLS_client_method()));
        SSL_CTX_set_min_proto_version(context_.get(), TLS1_3_VERSION);
        SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
        BIO* bio = BIO_new_mem_buf(certificate_pem.data(), int(certificate_pem.size()));
        X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        X509_STORE_add_cert(SSL_CTX_get_cert_store(context_.get()), certificate);
        X509_free(certificate);
        BIO_free(bio);
        fd_ = connect_tcp(port);
        ssl_.reset(SSL_new(context_.get()));
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), "127.0.0.1");
        if (!alpn.empty()) {
            std::string wire = char(alpn.size()) + alpn;
            SSL_set_alpn_protos(ssl_.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                                unsigned(wire.size()));
        }
        // Blocking with a timeout for the handshake; non-blocking afterwards.
        timeval limit{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        SSL_set_fd(ssl_.get(), fd_);
        handshake_ok_ = fd_ >= 0 && SSL_connect(ssl_.get()) == 1;
        ERR_clear_error();
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
    ~TlsClient() {
        ssl_.reset();
        if (fd_ >= 0) ::close(fd_);
    }
    bool handshake_ok() const { return handshake_ok_; }
    std::string alpn() const {
        const unsigned char* protocol = nullptr;
        unsigned length = 0;
        SSL_get0_alpn_selected(ssl_.get(), &protocol, &length);
        return std::string(reinterpret_cast<const char*>(protocol), length);
    }
    int version() const { return SSL_version(ssl_.get()); }

    // Sends `data` and reads as many bytes back, interleaving the two so that neither side's
    // buffers ever need to hold the whole payload. Returns what came back (short on failure).
    std::string echo(const std::string& data, std::chrono::seconds limit = 30s) {
        std::string received;
        std::size_t sent = 0;
        const auto deadline = Clock::now() + limit;
        std::vector<char> buffer(64 * 1024);
        while (received.size() < data.size() && Clock::now() < deadline) {
            bool progressed = false;
            if (sent < data.size()) {
                int n = SSL_write(ssl_.get(), data.data() + sent,
                                  int(std::min<std::size_t>(data.size() - sent, 64 * 1024)));
                if (n > 0) sent += std::size_t(n), progressed = true;
            }
            int n = SSL_read(ssl_.get(), buffer.data(), int(buffer.size()));
            if (n > 0) {
                received.append(buffer.data(), std::size_t(n));
                progressed = true;
            } else if (int error = SSL_get_error(ssl_.get(), n);
                       error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
                break;
            }
            ERR_clear_error();
            if (!progressed) {
                pollfd ready{fd_, short(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
                ::poll(&ready, 1, 50);
            }
        }
        return received;
    }

    // Sends close_notify (our half-close) and waits for the other side's: true when it comes.
    bool half_close_and_wait_for_end(std::chrono::seconds limit = 10s) {
        SSL_shutdown(ssl_.get());
        char byte;
        return eventually(
            [&] {
                int n = SSL_read(ssl_.get(), &byte, 1);
                int error = SSL_get_error(ssl_.get(), n);
                ERR_clear_error();
                return n <= 0 && error == SSL_ERROR_ZERO_RETURN;
            },
            limit);
    }

    // True once the gateway has closed the connection (EOF, reset or a TLS alert).
    bool dropped(std::chrono::milliseconds limit) {
        char byte;
        return eventually(
            [&] {
                int n = SSL_read(ssl_.get(), &byte, 1);
                int error = SSL_get_error(ssl_.get(), n);
                ERR_clear_error();
                return n <= 0 && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE;
            },
            limit);
    }

  private:
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context_{nullptr, SSL_CTX_free};
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl_{nullptr, SSL_free};
    int fd_ = -1;
    bool handshake_ok_ = false;
};

std::string random_bytes(std::size_t size) {
    std::mt19937_64 generator(42);
    std::string data(size, '\0');
    for (auto& c : data) c = char(generator());
    return data;
}

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
        GatewaySettings settings{"127.0.0.1",
                                 0,
                                 echo_.port(),
                                 directory_ + "/cert.pem",
                                 directory_ + "/key.pem",
                                 max_connections,
                                 handshake_limit};
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

TEST(GatewayCommand, ParsesItsFourOptions) {
    auto settings = parse_gateway_arguments(
        {"--listen", "10.0.0.1:15002", "--backend-port", "40000", "--cert", "c", "--key", "k"});
    EXPECT_EQ(settings.listen_address, "10.0.0.1");
    EXPECT_EQ(settings.listen_port, 15002);
    EXPECT_EQ(settings.backend_port, 40000);
    EXPECT_EQ(settings.certificate_file, "c");
    EXPECT_EQ(settings.private_key_file, "k");
    auto v6 = parse_gateway_arguments(
        {"--key", "k", "--cert", "c", "--listen", "[fd00::1]:1", "--backend-port", "2"});
    EXPECT_EQ(v6.listen_address, "fd00::1");
}

TEST(GatewayCommand, RejectsMalformedCommandLines) {
    const std::vector<std::string> good = {
        "--listen", "10.0.0.1:15002", "--backend-port", "40000", "--cert", "c", "--key", "k"};
    EXPECT_NO_THROW(parse_gateway_arguments(good));
    EXPECT_THROW(parse_gateway_arguments({}), UsageError);
    EXPECT_THROW(parse_gateway_arguments({good.begin(), good.end() - 2}), UsageError);  // no key
    EXPECT_THROW(parse_gateway_arguments({good.begin(), good.end() - 1}), UsageError);  // no value
    auto with = [&](std::size_t index, const std::string& value) {
        auto args = good;
        args[index] = value;
        return args;
    };
    EXPECT_THROW(parse_gateway_arguments(with(1, "10.0.0.1")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(1, "10.0.0.1:70000")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(3, "0")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(3, "12x")), UsageError);
    EXPECT_THROW(parse_gateway_arguments(with(0, "--bogus")), UsageError);
    auto twice = good;
    twice.insert(twice.end(), {"--key", "k2"});
    EXPECT_THROW(parse_gateway_arguments(twice), UsageError);
}

}  // namespace
}  // namespace spark_slurm
