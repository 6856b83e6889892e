// Each connection runs its own small poll loop over two non-blocking sockets in its own thread
// (tls_gateway.cpp starts it): a silent or hostile peer can only ever stall that thread, and
// every wait has a deadline (the handshake limit, the idle limit) or the connection's wake fd.
#include "connect/tls_relay.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "network/network.hpp"

namespace spark_slurm::gateway {

namespace {

// Per direction: at most this much is read from one side before the other side has taken it,
// so a slow reader throttles a fast writer instead of growing a buffer (one TLS record's worth).
constexpr std::size_t kChunkBytes = 16 * 1024;

// Once the server has closed its end and the client has been told (close_notify), a client that
// keeps its end open gets this long before the gateway lets go of the connection.
constexpr auto kLingerAfterBackendClosed = std::chrono::seconds(5);

struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// One direction of the stream: a fixed buffer that is refilled only once it has drained.
struct Pipe {
    std::vector<char> buffer = std::vector<char>(kChunkBytes);
    std::size_t begin = 0, end = 0;
    bool source_ended = false;  // EOF read from the source
    bool sink_closed = false;   // ...and passed on to the sink, after the buffer drained
    bool empty() const { return begin == end; }
    bool wants_input() const { return !source_ended && empty(); }
    void filled(std::size_t n) { begin = 0, end = n; }
};

short poll_events_for(int ssl_error) {
    return ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
}

// One accepted connection, from the TLS handshake to the last byte. Its destructor closes both
// sockets and frees the SSL object, whichever way run() ended.
class Relay {
  public:
    Relay(SSL_CTX* context, UniqueFd client, std::string peer, const GatewaySettings& settings,
          ConnectionStatus& status, DropLog& drop_log)
        : client_(std::move(client)),
          peer_(std::move(peer)),
          settings_(settings),
          status_(status),
          drop_log_(drop_log),
          stop_fd_(status.wake.get()),
          ssl_(SSL_new(context)) {}

    void run() {
        if (!ssl_ || SSL_set_fd(ssl_.get(), client_.get()) != 1) {
            reject("cannot set up TLS: " + take_openssl_reason());
            return;
        }
        if (!handshake() || !connect_backend()) return;
        forward();
        ERR_clear_error();
    }

  private:
    void reject(const std::string& reason) {
        drop_log_.warn("dropped the connection from " + peer_ + ": " + reason);
    }

    bool handshake() {
        const auto deadline = Clock::now() + settings_.handshake_limit;
        while (true) {
            ERR_clear_error();
            int result = SSL_accept(ssl_.get());
            if (result == 1) break;
            int error = SSL_get_error(ssl_.get(), result);
            if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
                std::string reason = take_openssl_reason();
                reject("TLS handshake failed: " +
                       (reason.empty() ? "the peer closed the connection" : reason));
                return false;
            }
            switch (wait_for(stop_fd_, client_.get(), poll_events_for(error), -1, 0, deadline)) {
                case Wait::Ready:
                    continue;
                case Wait::Timeout:
                    reject("no TLS handshake within " +
                           std::to_string(settings_.handshake_limit.count()) + " s");
                    return false;
                case Wait::Stopped:
                    return false;
            }
        }
        // A client that offers no ALPN at all gets through the callback: refuse it here.
        const unsigned char* protocol = nullptr;
        unsigned int length = 0;
        SSL_get0_alpn_selected(ssl_.get(), &protocol, &length);
        if (length != 2 || std::memcmp(protocol, "h2", 2) != 0) {
            reject("the client did not negotiate ALPN h2 (gRPC needs HTTP/2)");
            return false;
        }
        return true;
    }

    // Only once the peer has proven it holds a TLS client: the server sees no connection from
    // scanners. A connect() on loopback completes or is refused at once, so it may block.
    bool connect_backend() {
        // The owner's decrypted session, token included, goes to whatever listens there: to
        // this job's Connect server, never to another user's process that took the port (if the
        // server stopped, say). Checked before any connection is made.
        if (auto stranger = foreign_listener(kLoopbackAddress, settings_.backend_port)) {
            drop_log_.warn("dropped the connection from " + peer_ + ": the Connect server's port " +
                           std::to_string(settings_.backend_port) +
                           " on 127.0.0.1 is held by another user's process (uid " + *stranger +
                           "); nothing was forwarded");
            return false;
        }
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(settings_.backend_port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        backend_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (backend_.get() < 0 ||
            ::connect(backend_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            drop_log_.warn("cannot reach the Connect server on 127.0.0.1:" +
                           std::to_string(settings_.backend_port) + ": " + std::strerror(errno));
            return false;
        }
        int one = 1;
        ::setsockopt(backend_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(client_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::fcntl(backend_.get(), F_SETFL, ::fcntl(backend_.get(), F_GETFL) | O_NONBLOCK);
        return true;
    }

    // Copies both ways until both directions have ended, either side fails, nothing has moved
    // for the idle limit, or the wake fd fires. Each round does every step that can progress
    // without blocking (which also drains what OpenSSL has already decrypted, invisible to
    // poll), then sleeps in poll on exactly the readiness the blocked steps are waiting for.
    void forward() {
        std::optional<Clock::time_point> linger_until;
        auto last_moved = Clock::now();
        while (true) {
            bool progressed = true, moved = false;
            while (progressed) {
                progressed = false;
                if (!step_client_to_backend(progressed) || !step_backend_to_client(progressed))
                    return;
                moved = moved || progressed;
            }
            const auto now = Clock::now();
            if (moved) last_moved = now;
            if (up_.sink_closed && down_.sink_closed) return;
            // A connection that moves nothing holds a slot and a thread for nobody: a gRPC
            // client whose channel was closed while idle reconnects on its next call.
            const auto idle_until = last_moved + settings_.idle_limit;
            if (now >= idle_until) {
                reject("no bytes either way for " + std::to_string(settings_.idle_limit.count()) +
                       " s (idle limit)");
                ERR_clear_error();
                SSL_shutdown(ssl_.get());  // best effort: the client sees an orderly end
                return;
            }
            if (down_.sink_closed && !linger_until)
                linger_until = Clock::now() + kLingerAfterBackendClosed;

            short client_events = 0, backend_events = 0;
            if (up_.wants_input()) client_events |= read_wants_;
            if (!down_.empty() || (down_.source_ended && !down_.sink_closed))
                client_events |= write_wants_;
            if (!up_.empty()) backend_events |= POLLOUT;
            if (down_.wants_input()) backend_events |= POLLIN;
            // A descriptor nobody waits on is left out: its error or hangup would otherwise wake
            // poll over and over; the next operation on it reports it.
            const auto deadline = linger_until ? std::min(*linger_until, idle_until) : idle_until;
            switch (wait_for(stop_fd_, client_events ? client_.get() : -1, client_events,
                             backend_events ? backend_.get() : -1, backend_events, deadline)) {
                case Wait::Ready:
                    continue;
                case Wait::Timeout:
                    if (linger_until && Clock::now() >= *linger_until) return;
                    continue;  // the idle limit: the next round says so
                case Wait::Stopped:
                    return;
            }
        }
    }

    // false: the connection is over (an error on either side).
    bool step_client_to_backend(bool& progressed) {
        if (up_.wants_input()) {
            ERR_clear_error();
            int n = SSL_read(ssl_.get(), up_.buffer.data(), static_cast<int>(up_.buffer.size()));
            if (n > 0) {
                up_.filled(static_cast<std::size_t>(n));
                progressed = true;
            } else {
                int error = SSL_get_error(ssl_.get(), n);
                if (error == SSL_ERROR_ZERO_RETURN) {
                    up_.source_ended = progressed = true;
                } else if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
                    read_wants_ = poll_events_for(error);
                } else {
                    return false;
                }
            }
        }
        if (!up_.empty()) {
            ssize_t n = ::send(backend_.get(), up_.buffer.data() + up_.begin, up_.end - up_.begin,
                               MSG_NOSIGNAL);
            if (n > 0) {
                up_.begin += static_cast<std::size_t>(n);
                progressed = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return false;
            }
        }
        if (up_.source_ended && up_.empty() && !up_.sink_closed) {
            // The client's half-close, passed on: the server sees EOF and may still answer.
            ::shutdown(backend_.get(), SHUT_WR);
            up_.sink_closed = progressed = true;
        }
        return true;
    }

    bool step_backend_to_client(bool& progressed) {
        if (down_.wants_input()) {
            ssize_t n = ::recv(backend_.get(), down_.buffer.data(), down_.buffer.size(), 0);
            if (n > 0) {
                down_.filled(static_cast<std::size_t>(n));
                progressed = true;
                // The server answered: this connection is in use, not a candidate for eviction.
                status_.last_server_byte.store(Clock::now());
            } else if (n == 0) {
                down_.source_ended = progressed = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return false;
            }
        }
        if (!down_.empty()) {
            ERR_clear_error();
            int n = SSL_write(ssl_.get(), down_.buffer.data() + down_.begin,
                              static_cast<int>(down_.end - down_.begin));
            if (n > 0) {
                down_.begin += static_cast<std::size_t>(n);
                progressed = true;
            } else if (!note_ssl_wait(SSL_get_error(ssl_.get(), n))) {
                return false;
            }
        }
        if (down_.source_ended && down_.empty() && !down_.sink_closed) {
            // The server's end, passed on as close_notify (TLS 1.3 allows the client to go on
            // sending after it, so the other direction keeps running).
            ERR_clear_error();
            int result = SSL_shutdown(ssl_.get());
            if (result >= 0) {
                down_.sink_closed = progressed = true;
            } else if (!note_ssl_wait(SSL_get_error(ssl_.get(), result))) {
                return false;
            }
        }
        return true;
    }

    // For a blocked SSL_write or SSL_shutdown: remembers what it waits for; false on a failure.
    bool note_ssl_wait(int error) {
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) return false;
        write_wants_ = poll_events_for(error);
        return true;
    }

    UniqueFd client_;
    std::string peer_;
    const GatewaySettings& settings_;
    ConnectionStatus& status_;
    DropLog& drop_log_;
    int stop_fd_;
    SslPtr ssl_;  // declared after client_: freed before the socket it uses is closed
    UniqueFd backend_;
    Pipe up_, down_;  // client -> backend, backend -> client
    short read_wants_ = POLLIN, write_wants_ = POLLOUT;
};

}  // namespace

ConnectionStatus::ConnectionStatus(Clock::time_point accepted)
    : accepted_at(accepted), wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (wake.get() < 0)
        throw LaunchError(std::string("cannot make an eventfd: ") + std::strerror(errno));
}

void ConnectionStatus::end_now() const {
    const std::uint64_t one = 1;
    // Cannot fail but by overflowing the counter, which is then readable anyway.
    [[maybe_unused]] ssize_t written = ::write(wake.get(), &one, sizeof one);
}

void DropLog::warn(const std::string& message) {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (now - window_start_ >= std::chrono::minutes(1)) {
        window_start_ = now;
        lines_in_window_ = 0;
    }
    if (lines_in_window_ >= kLinesPerMinute) {
        ++held_back_;
        return;
    }
    ++lines_in_window_;
    std::string held_back_note;
    if (held_back_ > 0)
        held_back_note = " (and " + std::to_string(std::exchange(held_back_, 0)) +
                         " earlier such lines held back)";
    log::warn("Connect gateway: {}{}", message, held_back_note);
}

std::string take_openssl_reason() {
    std::string reason;
    if (unsigned long code = ERR_peek_error(); code != 0) {
        if (ERR_SYSTEM_ERROR(code)) {
            reason = std::strerror(ERR_GET_REASON(code));  // a failed open() or read()
        } else if (const char* text = ERR_reason_error_string(code)) {
            reason = text;
        } else {
            char text_buffer[256];
            ERR_error_string_n(code, text_buffer, sizeof text_buffer);
            reason = text_buffer;
        }
    }
    ERR_clear_error();
    return reason;
}

Wait wait_for(int stop_fd, int fd, short events, int other, short other_events,
              std::optional<Clock::time_point> deadline) {
    pollfd fds[3] = {{stop_fd, POLLIN, 0}, {fd, events, 0}, {other, other_events, 0}};
    while (true) {
        int timeout_ms = -1;
        if (deadline) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
            if (left.count() <= 0) return Wait::Timeout;
            timeout_ms = static_cast<int>(left.count());
        }
        int n = ::poll(fds, 3, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Wait::Stopped;  // cannot wait any more: treat as the end
        if (fds[0].revents != 0) return Wait::Stopped;
        if (n > 0) return Wait::Ready;
    }
}

void relay_connection(SSL_CTX* context, UniqueFd client, std::string peer,
                      const GatewaySettings& settings, ConnectionStatus& status,
                      DropLog& drop_log) {
    try {
        Relay(context, std::move(client), std::move(peer), settings, status, drop_log).run();
    } catch (const std::exception& error) {
        // Out of memory, at most: this connection ends (its socket closes), the gateway goes on.
        drop_log.warn(std::string("dropped a connection: ") + error.what());
    }
}

}  // namespace spark_slurm::gateway
