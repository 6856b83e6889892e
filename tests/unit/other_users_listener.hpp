// A listener on 127.0.0.1 that belongs to another user (nobody, uid 65534), in a child process
// that drops to that user: for tests of what the launcher does when someone else holds a port it
// handed out. It counts the connections and bytes it is sent until stopped. Needs root; callers
// skip without it (OtherUsersListener::possible()).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace spark_slurm::testing {

class OtherUsersListener {
  public:
    static constexpr unsigned kUid = 65534;
    static bool possible() { return ::getuid() == 0; }

    OtherUsersListener() {
        int ready[2], stop[2], report[2];
        if (::pipe(ready) != 0 || ::pipe(stop) != 0 || ::pipe(report) != 0) return;
        child_ = ::fork();
        if (child_ == 0) {
            ::close(ready[0]);
            ::close(stop[1]);
            ::close(report[0]);
            serve(ready[1], stop[0], report[1]);
        }
        ::close(ready[1]);
        ::close(stop[0]);
        ::close(report[1]);
        stop_ = stop[1];
        report_ = report[0];
        if (::read(ready[0], &port_, sizeof port_) != sizeof port_) port_ = 0;
        ::close(ready[0]);
    }
    ~OtherUsersListener() { stop_and_count(); }
    OtherUsersListener(const OtherUsersListener&) = delete;
    OtherUsersListener& operator=(const OtherUsersListener&) = delete;

    std::uint16_t port() const { return port_; }

    // Stops it; the connections plus the bytes it was sent.
    std::uint32_t stop_and_count() {
        if (child_ <= 0) return seen_;
        ::close(stop_);
        if (::read(report_, &seen_, sizeof seen_) != sizeof seen_) seen_ = ~0u;
        ::close(report_);
        ::waitpid(child_, nullptr, 0);
        child_ = -1;
        return seen_;
    }

  private:
    [[noreturn]] static void serve(int ready, int stop, int report) {
        if (::setgid(kUid) != 0 || ::setuid(kUid) != 0) ::_exit(1);
        int listening = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        if (::bind(listening, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listening, 16) != 0 ||
            ::getsockname(listening, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            ::_exit(1);
        const std::uint16_t port = ntohs(address.sin_port);
        if (::write(ready, &port, sizeof port) != sizeof port) ::_exit(1);
        std::uint32_t seen = 0;
        std::vector<pollfd> fds{{stop, POLLIN, 0}, {listening, POLLIN, 0}};
        while (::poll(fds.data(), fds.size(), 10000) > 0 &&
               !(fds[0].revents & (POLLIN | POLLHUP))) {
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
                if (fds[i].fd == listening) {
                    int connection = ::accept(listening, nullptr, nullptr);
                    if (connection >= 0) {
                        ++seen;
                        fds.push_back({connection, POLLIN, 0});
                    }
                } else {
                    char buffer[4096];
                    ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
                    if (n > 0) seen += static_cast<std::uint32_t>(n);
                    if (n <= 0) fds[i].events = 0;
                }
            }
        }
        if (::write(report, &seen, sizeof seen) != sizeof seen) ::_exit(1);
        ::_exit(0);
    }

    pid_t child_ = -1;
    int stop_ = -1;
    int report_ = -1;
    std::uint16_t port_ = 0;
    std::uint32_t seen_ = 0;
};

}  // namespace spark_slurm::testing
