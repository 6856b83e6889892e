#include "launcher/control_channel.hpp"

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
#include "plan/plan_json.hpp"

namespace spark_slurm {

Connection::Connection(int fd) : fd_(fd) {
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

Connection::Connection(Connection&& other) noexcept
    : fd_(other.fd_),
      closed_(other.closed_),
      buffer_(std::move(other.buffer_)),
      last_heard_(other.last_heard_) {
    other.fd_ = -1;
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        closed_ = other.closed_;
        buffer_ = std::move(other.buffer_);
        last_heard_ = other.last_heard_;
        other.fd_ = -1;
    }
    return *this;
}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
}

void Connection::send(const nlohmann::json& message) {
    if (closed_) return;
    std::string line = message.dump() + "\n";
    std::size_t sent = 0;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (sent < line.size()) {
        ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR) &&
                   std::chrono::steady_clock::now() < give_up) {
            pollfd writable{fd_, POLLOUT, 0};
            ::poll(&writable, 1, 100);
        } else {
            closed_ = true;
            return;
        }
    }
}

std::vector<nlohmann::json> Connection::receive() {
    std::vector<nlohmann::json> messages;
    char chunk[4096];
    while (!closed_) {
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
            last_heard_ = std::chrono::steady_clock::now();
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            break;
        } else {
            closed_ = true;
        }
    }
    std::size_t newline;
    while ((newline = buffer_.find('\n')) != std::string::npos) {
        auto message = nlohmann::json::parse(buffer_.substr(0, newline), nullptr, false);
        buffer_.erase(0, newline + 1);
        if (!message.is_discarded() && message.is_object()) messages.push_back(std::move(message));
    }
    // A peer that floods without newlines is not one of ours.
    if (buffer_.size() > (1u << 20)) closed_ = true;
    return messages;
}

ControlServer::ControlServer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw LaunchError("while opening the control port: socket failed");
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons(port);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 128) != 0) {
        int error = errno;
        ::close(fd_);
        throw LaunchError("while opening the control port " + std::to_string(port) + ": " +
                          std::strerror(error) +
                          " (another process took it after the rendezvous; run the job again)");
    }
}

ControlServer::~ControlServer() {
    if (fd_ >= 0) ::close(fd_);
}

std::optional<Connection> ControlServer::accept() {
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return {};
    return Connection(fd);
}

std::optional<Connection> connect_to_leader(const std::string& address, std::uint16_t port,
                                            std::chrono::steady_clock::time_point deadline) {
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &target.sin_addr) != 1) return {};
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return {};
        if (::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0)
            return Connection(fd);
        ::close(fd);
        // The leader opens its port right after the rendezvous; retry briefly until it does.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
}

std::string hello_token(const std::string& secret, unsigned rank) {
    return secret_fingerprint(secret + ":hello:" + std::to_string(rank));
}

}  // namespace spark_slurm
