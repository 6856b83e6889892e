// One connection of the Connect gateway (tls_gateway.hpp), from the TLS handshake to the last
// byte, and the small pieces the gateway's accept loop shares with it: the status through which
// the loop sees how useful a connection is and tells it to end (eviction), and the rate-limited
// log of dropped connections. Internal to connect/.
#pragma once

#include <openssl/ssl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "common/unique_fd.hpp"
#include "connect/tls_gateway.hpp"

namespace spark_slurm::gateway {

using Clock = std::chrono::steady_clock;

// What the accept loop and one connection's thread share. The thread writes the progress; the
// loop reads it to choose which connection to evict when a cap is reached, and makes `wake`
// readable to end the connection (evicted, or the gateway stops).
struct ConnectionStatus {
    // Throws LaunchError (with errno) when the eventfd cannot be made.
    explicit ConnectionStatus(Clock::time_point accepted_at);

    const Clock::time_point accepted_at;
    // When the Connect server last sent a byte to this client; Clock's epoch (the default) while
    // it never has: the handshake is not done, or the peer never spoke gRPC.
    std::atomic<Clock::time_point> last_server_byte{Clock::time_point{}};
    std::atomic<bool> finished{false};  // the thread is done with the connection (closed)
    UniqueFd wake;                      // an eventfd; written once to end the connection

    void end_now() const;  // makes `wake` readable
};

// Warnings about dropped connections, at most `kLinesPerMinute` a minute: a flood of bad
// connections must not fill the leader's log. What it holds back is counted and said in the
// next line it lets through. Thread-safe.
class DropLog {
  public:
    static constexpr int kLinesPerMinute = 20;
    void warn(const std::string& message);

  private:
    std::mutex mutex_;
    Clock::time_point window_start_{};
    int lines_in_window_ = 0;
    unsigned long held_back_ = 0;
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
// to 127.0.0.1:settings.backend_port until both directions have ended, either side fails, no
// byte has moved either way for settings.idle_limit, or `status.wake` is readable. Records in
// `status` when the server last answered; does not set `finished` (the caller does, once this
// has returned). Never throws.
void relay_connection(SSL_CTX* context, UniqueFd client, std::string peer,
                      const GatewaySettings& settings, ConnectionStatus& status, DropLog& drop_log);

}  // namespace spark_slurm::gateway
