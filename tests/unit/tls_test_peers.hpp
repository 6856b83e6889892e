// The peers of the gateway's unit tests: an echo server behind it, a TLS client in front of it
// (trusting only the job's certificate), and waits that poll a real signal with a deadline.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace spark_slurm::testing {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Polls `done` until it is true or `limit` has passed.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (done()) return true;
        ::poll(nullptr, 0, 10);
    }
    return done();
}

inline std::size_t open_fd_count() {
    std::size_t count = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    while (dir && ::readdir(dir)) ++count;
    if (dir) ::closedir(dir);
    return count;
}

// Connects to 127.0.0.1:port from `source`: any 127.x.y.z works on Linux, which lets one test
// play clients on different hosts.
inline int connect_tcp(std::uint16_t port, const char* source = "127.0.0.1") {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
        ::close(fd);
        return -1;
    }
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
inline bool closed_by_peer(int fd, std::chrono::milliseconds limit) {
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
    TlsClient(std::uint16_t port, const std::string& certificate_pem, std::string alpn,
              const char* source = "127.0.0.1") {
        context_.reset(SSL_CTX_new(TLS_client_method()));
        SSL_CTX_set_min_proto_version(context_.get(), TLS1_3_VERSION);
        SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER, nullptr);
        BIO* bio = BIO_new_mem_buf(certificate_pem.data(), int(certificate_pem.size()));
        X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
        X509_STORE_add_cert(SSL_CTX_get_cert_store(context_.get()), certificate);
        X509_free(certificate);
        BIO_free(bio);
        fd_ = connect_tcp(port, source);
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

inline std::string random_bytes(std::size_t size) {
    std::mt19937_64 generator(42);
    std::string data(size, '\0');
    for (auto& c : data) c = char(generator());
    return data;
}

}  // namespace spark_slurm::testing
