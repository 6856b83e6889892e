// A real HTTP server on 127.0.0.1 for the unit tests of the HTTP probes: a thread that answers
// one connection at a time, each after a chosen delay, or never (it then holds the connection
// until it is stopped). Its answers are whole responses, so a test can send any status or size.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace spark_slurm::testing {

// A descriptor closed when it goes.
class TestFd {
  public:
    explicit TestFd(int fd = -1) : fd_(fd) {}
    TestFd(TestFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    TestFd& operator=(TestFd&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~TestFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

// "HTTP/1.1 200 OK" with `body`.
inline std::string http_ok(const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

class LocalHttpServer {
  public:
    // `respond` gets the request's target (path and query) and returns the whole response, or
    // nullopt to never answer. Each answer is sent `delay` after its request was read.
    explicit LocalHttpServer(std::function<std::optional<std::string>(const std::string&)> respond,
                             std::chrono::milliseconds delay = std::chrono::milliseconds(0))
        : respond_(std::move(respond)), delay_(delay) {
        listener_ = TestFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        int pipe_fds[2];
        if (listener_.get() < 0 ||
            ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::listen(listener_.get(), 8) != 0 ||
            ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
            ::pipe2(pipe_fds, O_CLOEXEC) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        stop_read_ = TestFd(pipe_fds[0]);
        stop_write_ = TestFd(pipe_fds[1]);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~LocalHttpServer() {
        (void)!::write(stop_write_.get(), "x", 1);
        thread_.join();
    }
    LocalHttpServer(const LocalHttpServer&) = delete;
    LocalHttpServer& operator=(const LocalHttpServer&) = delete;

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    unsigned requests() const { return requests_; }

  private:
    // Waits for `fd` or the stop; false when stopped (or `timeout` passed, if not negative).
    bool wait_for(int fd, int timeout_ms) {
        pollfd fds[2] = {{stop_read_.get(), POLLIN, 0}, {fd, POLLIN, 0}};
        int ready = ::poll(fds, fd < 0 ? 1 : 2, timeout_ms);
        return ready > 0 && !(fds[0].revents & POLLIN);
    }
    bool stop_requested() {
        pollfd fd{stop_read_.get(), POLLIN, 0};
        return ::poll(&fd, 1, 0) > 0;
    }

    void serve() {
        while (wait_for(listener_.get(), -1)) {
            TestFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (connection.get() < 0) continue;
            std::string request;
            char buffer[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                if (!wait_for(connection.get(), -1)) return;
                ssize_t n = ::read(connection.get(), buffer, sizeof buffer);
                if (n <= 0) break;
                request.append(buffer, static_cast<std::size_t>(n));
            }
            ++requests_;
            const auto target_start = request.find(' ') + 1;
            const std::string target =
                request.substr(target_start, request.find(' ', target_start) - target_start);
            auto response = respond_(target);
            if (delay_.count() > 0 || !response) {
                // Stopped while waiting (or never answering): nothing more to do.
                wait_for(-1, response ? static_cast<int>(delay_.count()) : -1);
                if (stop_requested()) return;
            }
            std::size_t sent = 0;
            while (sent < response->size()) {
                ssize_t n = ::send(connection.get(), response->data() + sent,
                                   response->size() - sent, MSG_NOSIGNAL);
                if (n <= 0) break;  // the client gave up (a size cap)
                sent += static_cast<std::size_t>(n);
            }
        }
    }

    std::function<std::optional<std::string>(const std::string&)> respond_;
    std::chrono::milliseconds delay_;
    TestFd listener_;
    TestFd stop_read_;
    TestFd stop_write_;
    unsigned short port_ = 0;
    std::atomic<unsigned> requests_ = 0;
    std::thread thread_;
};

}  // namespace spark_slurm::testing
