#include "control/control_channel.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/errors.hpp"

namespace spark_slurm {

namespace {

std::string describe_peer(const sockaddr_in& address) {
    char text[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(address.sin_port));
}

}  // namespace

Connection::Connection(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {
    int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A peer's node that vanishes (powered off, cut off) answers no keepalive: the kernel then
    // fails the connection, which is evidence. A peer that is only slow (stopped, blocked in a
    // call) still has a kernel that answers: the connection stays up, and silence alone is not
    // taken for a loss (worker_links.hpp).
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    int idle = kKeepaliveIdleSeconds, interval = kKeepaliveIntervalSeconds,
        count = kKeepaliveProbes;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    // Data the peer's kernel does not acknowledge in this time fails the connection too.
    unsigned user_timeout_ms = 1000u * (idle + interval * count);
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
                 sizeof user_timeout_ms);
    ::fcntl(fd_.get(), F_SETFL, ::fcntl(fd_.get(), F_GETFL) | O_NONBLOCK);
}

std::string Connection::peer_address() const { return peer_.substr(0, peer_.rfind(':')); }

void Connection::close() {
    fd_.reset();
    closed_ = true;
    buffer_.clear();
}

void Connection::send(const control::Message& message) {
    if (closed()) return;
    const std::string line = control::serialize(message);
    std::size_t sent = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (sent < line.size()) {
        ssize_t n = ::send(fd_.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR) &&
                   std::chrono::steady_clock::now() < give_up) {
            pollfd writable{fd_.get(), POLLOUT, 0};
            ::poll(&writable, 1, 100);
        } else {
            closed_ = true;
            return;
        }
    }
}

std::vector<Received> Connection::receive() {
    std::vector<Received> received;
    char chunk[4096];
    while (!closed()) {
        ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            last_heard_ = std::chrono::steady_clock::now();
            // Stop reading once more than a line's worth is waiting: the rest stays in the
            // kernel until the lines before it are handled.
            if (buffer_.size() > control::kMaxLineBytes + 1) break;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            break;
        } else {
            closed_ = true;
        }
    }
    std::size_t start = 0, newline;
    while ((newline = buffer_.find('\n', start)) != std::string::npos) {
        received.push_back(
            control::parse_message(std::string_view(buffer_).substr(start, newline - start)));
        start = newline + 1;
    }
    buffer_.erase(0, start);
    if (buffer_.size() > control::kMaxLineBytes) {
        received.push_back(control::ParseFailure{"line too long"});
        close();
    }
    return received;
}

ControlServer::ControlServer(const std::string& listen_address) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = 0;
    if (::inet_pton(AF_INET, listen_address.c_str(), &address.sin_addr) != 1)
        throw LaunchError("while opening the control port: '" + listen_address +
                          "' is not an IPv4 address");
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd_.valid())
        throw LaunchError(std::string("while opening the control port: ") + std::strerror(errno));
    socklen_t length = sizeof address;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_.get(), SOMAXCONN) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        int error = errno;
        close();
        throw LaunchError("while opening the control port on " + listen_address + ": " +
                          std::strerror(error));
    }
    port_ = ntohs(address.sin_port);
}

void ControlServer::close() { fd_.reset(); }

std::optional<Connection> ControlServer::accept() {
    if (!fd_.valid()) return {};
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    int fd = ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
    if (fd < 0) return {};
    return Connection(fd, describe_peer(peer));
}

namespace {

// One attempt, bounded by `limit`: a leader whose backlog is full (a flood of strangers) or whose
// node does not answer must not hold the worker in connect() for the kernel's minutes.
int connect_within(const sockaddr_in& target, std::chrono::milliseconds limit) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0) return fd;
    if (errno == EINPROGRESS) {
        pollfd writable{fd, POLLOUT, 0};
        int error = 0;
        socklen_t length = sizeof error;
        if (::poll(&writable, 1, static_cast<int>(limit.count())) == 1 &&
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0)
            return fd;
    }
    ::close(fd);
    return -1;
}

}  // namespace

std::optional<Connection> connect_to_leader(const std::string& address, std::uint16_t port,
                                            std::chrono::steady_clock::time_point deadline) {
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &target.sin_addr) != 1) return {};
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = connect_within(target, std::chrono::seconds(2));
        if (fd >= 0) return Connection(fd, describe_peer(target));
        // The leader's port is open from before the rendezvous; a refusal means its node is
        // not reachable yet (a network still coming up): retry briefly.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
}

}  // namespace spark_slurm
