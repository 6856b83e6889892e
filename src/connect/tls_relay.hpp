// One connection of the Connect gateway (tls_gateway.hpp), from the TLS handshake to the last
// byte, and the small pieces the gateway's accept loop shares with it. Internal to connect/.
#pragma once

#include <openssl/ssl.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "connect/tls_gateway.hpp"

namespace spark_slurm::gateway {

// Owns one file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

// The reason OpenSSL put on this thread's error queue ("" when none); empties the queue.
std::string take_openssl_reason();

enum class Wait { Ready, Timeout, Stopped };

// Waits for `events` on `fd` (if fd >= 0) and `other_events` on `other` (if >= 0), until the
// deadline (none: nullopt) or until `stop_fd` is readable.
Wait wait_for(int stop_fd, int fd, short events, int other, short other_events,
              std::optional<std::chrono::steady_clock::time_point> deadline);

// Serves one accepted client (a non-blocking socket, closed on return) in the calling thread:
// handshake within settings.handshake_limit (a failure is logged in one line), then forwarding
// to 127.0.0.1:settings.backend_port until both directions have ended, either side fails, or
// `stop_fd` is readable. Never throws.
void relay_connection(SSL_CTX* context, Fd client, std::string peer,
                      const GatewaySettings& settings, int stop_fd);

}  // namespace spark_slurm::gateway
