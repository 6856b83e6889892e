// One thread per connection, each running its own small poll loop over non-blocking sockets: a
// silent or hostile peer can then only ever stall its own thread, every wait has a deadline or a
// stop signal, and the code reads top to bottom (handshake, connect, forward). The listening
// thread only accepts, enforces the connection cap and joins finished threads.
#include "connect/tls_gateway.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <list>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

// Per direction: at most this much is read from one side before the other side has taken it,
// so a slow reader throttles a fast writer instead of growing a buffer (one TLS record's worth).
constexpr std::size_t kChunkBytes = 16 * 1024;

// Once the server has closed its end and the client has been told (close_notify), a client that
// keeps its end open gets this long before the gateway lets go of the connection.
constexpr auto kLingerAfterBackendClosed = std::chrono::seconds(5);

struct SslCtxFree {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

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

// The reason OpenSSL put on this thread's error queue ("" when none), and the queue emptied.
std::string take_openssl_reason() {
    std::string reason;
    if (unsigned long code = ERR_peek_error(); code != 0) {
        const char* text = ERR_reason_error_string(code);
        reason = text ? text : "error " + std::to_string(code);
    }
    ERR_clear_error();
    return reason;
}

std::string describe_peer(const sockaddr_storage& address) {
    char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
    ::getnameinfo(reinterpret_cast<const sockaddr*>(&address), sizeof address, host, sizeof host,
                  port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
    return address.ss_family == AF_INET6 ? "[" + std::string(host) + "]:" + port
                                         : std::string(host) + ":" + port;
}

// gRPC runs on HTTP/2 only: a client that cannot speak it is refused during the handshake (with
// the no_application_protocol alert) instead of being let through to fail later.
int select_h2(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
              unsigned int in_length, void*) {
    static const unsigned char kH2[] = {2, 'h', '2'};
    unsigned char* selected = nullptr;
    unsigned char length = 0;
    if (SSL_select_next_proto(&selected, &length, kH2, sizeof kH2, in, in_length) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = selected;
    *out_length = length;
    return SSL_TLSEXT_ERR_OK;
}

SslCtxPtr make_server_context(const GatewaySettings& settings) {
    const auto fail = [](const std::string& doing) {
        return LaunchError("while starting the Connect gateway: " + doing + ": " +
                           take_openssl_reason());
    };
    SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
    if (!context) throw fail("creating the TLS context");
    SSL_CTX* ctx = context.get();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        throw fail("restricting it to TLS 1.3");
    if (SSL_CTX_use_certificate_chain_file(ctx, settings.certificate_file.c_str()) != 1)
        throw fail("loading the certificate " + settings.certificate_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, settings.private_key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        throw fail("loading the private key " + settings.private_key_file);
    if (SSL_CTX_check_private_key(ctx) != 1)
        throw fail("checking that the key belongs to the certificate");
    SSL_CTX_set_alpn_select_cb(ctx, select_h2, nullptr);
    // A peer that drops TCP without close_notify is an ordinary end of its stream here, not an
    // error (the bytes are forwarded either way; a truncation is the backend's to notice).
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    // No resumption: every client connects a handful of times; tickets would only add writes.
    SSL_CTX_set_num_tickets(ctx, 0);
    // Our send buffers move as they drain; partial writes let SSL_write take what fits.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    return context;
}

Fd open_listener(const std::string& address, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string where = address + " port " + std::to_string(port);
    if (int error = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
        error != 0)
        throw LaunchError("while starting the Connect gateway: '" + address +
                          "' is not a numeric IP address: " + ::gai_strerror(error));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
    Fd listener(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    int one = 1;
    // SO_REUSEADDR: a gateway restarted on the same port must not wait out TIME_WAIT.
    if (listener.get() < 0 ||
        ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(listener.get(), found->ai_addr, found->ai_addrlen) != 0 ||
        ::listen(listener.get(), 128) != 0)
        throw LaunchError("while starting the Connect gateway on " + where + ": " +
                          std::strerror(errno));
    return listener;
}

enum class Wait { Ready, Timeout, Stopped };

// Waits for `events` on `fd` (if fd >= 0) and `other_events` on `other` (if >= 0), until the
// deadline (none: nullopt) or until `stop_fd` is readable.
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
    Relay(SSL_CTX* context, Fd client, std::string peer, const GatewaySettings& settings,
          int stop_fd)
        : client_(std::move(client)),
          peer_(std::move(peer)),
          settings_(settings),
          stop_fd_(stop_fd),
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
        log::warn("Connect gateway: dropped the connection from {}: {}", peer_, reason);
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
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(settings_.backend_port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        backend_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (backend_.get() < 0 ||
            ::connect(backend_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            log::warn("Connect gateway: cannot reach the Connect server on 127.0.0.1:{}: {}",
                      settings_.backend_port, std::strerror(errno));
            return false;
        }
        int one = 1;
        ::setsockopt(backend_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(client_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::fcntl(backend_.get(), F_SETFL, ::fcntl(backend_.get(), F_GETFL) | O_NONBLOCK);
        return true;
    }

    // Copies both ways until both directions have ended, either side fails, or the stop fd
    // fires. Each round does every step that can progress without blocking (which also drains
    // what OpenSSL has already decrypted, invisible to poll), then sleeps in poll on exactly the
    // readiness the blocked steps are waiting for.
    void forward() {
        std::optional<Clock::time_point> linger_until;
        while (true) {
            bool progressed = true;
            while (progressed) {
                progressed = false;
                if (!step_client_to_backend(progressed) || !step_backend_to_client(progressed))
                    return;
            }
            if (up_.sink_closed && down_.sink_closed) return;
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
            if (wait_for(stop_fd_, client_events ? client_.get() : -1, client_events,
                         backend_events ? backend_.get() : -1, backend_events,
                         linger_until) != Wait::Ready)
                return;
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

    Fd client_;
    std::string peer_;
    const GatewaySettings& settings_;
    int stop_fd_;
    SslPtr ssl_;  // declared after client_: freed before the socket it uses is closed
    Fd backend_;
    Pipe up_, down_;  // client -> backend, backend -> client
    short read_wants_ = POLLIN, write_wants_ = POLLOUT;
};

// A connection's thread, and whether it has finished (then it only needs joining).
struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace

struct TlsGateway::State {
    GatewaySettings settings;
    SslCtxPtr context;
    Fd listener;
    std::uint16_t port = 0;
    std::list<Worker> workers;

    void join_finished() {
        for (auto it = workers.begin(); it != workers.end();) {
            if (it->finished->load()) {
                it->thread.join();
                it = workers.erase(it);
            } else {
                ++it;
            }
        }
    }

    void accept_one(int stop_fd) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        Fd client(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                            SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (client.get() < 0) {
            // Out of descriptors: the pending connection stays queued and would wake poll at
            // once; a short pause (still ended by the stop fd) keeps this from spinning.
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                wait_for(stop_fd, -1, 0, -1, 0, Clock::now() + std::chrono::milliseconds(100));
            return;
        }
        join_finished();
        if (workers.size() >= settings.max_connections) {
            log::warn("Connect gateway: dropped the connection from {}: {} connections are open",
                      describe_peer(peer), workers.size());
            return;  // `client` closes it
        }
        Worker& worker = workers.emplace_back();
        try {
            worker.thread =
                std::thread([this, stop_fd, client = std::move(client), name = describe_peer(peer),
                             finished = worker.finished]() mutable {
                    {
                        Relay relay(context.get(), std::move(client), std::move(name), settings,
                                    stop_fd);
                        relay.run();
                    }
                    finished->store(true);
                });
        } catch (const std::system_error& error) {
            // No thread (the lambda, and with it the client socket, is gone): not counted.
            workers.pop_back();
            log::warn("Connect gateway: dropped a connection: cannot start a thread: {}",
                      error.what());
        }
    }
};

TlsGateway::TlsGateway(const GatewaySettings& settings) : state_(std::make_unique<State>()) {
    state_->settings = settings;
    state_->context = make_server_context(settings);
    state_->listener = open_listener(settings.listen_address, settings.listen_port);
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(state_->listener.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    state_->port =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

TlsGateway::~TlsGateway() {
    // serve() joins its threads before returning; this only covers a serve() that threw.
    for (auto& worker : state_->workers)
        if (worker.thread.joinable()) worker.thread.detach();
}

std::uint16_t TlsGateway::port() const { return state_->port; }

void TlsGateway::serve(int stop_fd) {
    ::signal(SIGPIPE, SIG_IGN);
    while (wait_for(stop_fd, state_->listener.get(), POLLIN, -1, 0, std::nullopt) == Wait::Ready)
        state_->accept_one(stop_fd);
    // The stop fd stays readable: every connection thread sees it too and ends.
    state_->listener.reset();
    for (auto& worker : state_->workers) worker.thread.join();
    state_->workers.clear();
}

int run_tls_gateway(const GatewaySettings& settings) {
    // Blocked here, before any thread exists, so that every thread inherits the mask and the
    // signals stay pending: the signalfd then remains readable and serves as the stop fd.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    Fd stop(::signalfd(-1, &stop_signals, SFD_CLOEXEC));
    if (stop.get() < 0)
        throw LaunchError(std::string("while starting the Connect gateway: signalfd: ") +
                          std::strerror(errno));
    TlsGateway gateway(settings);
    log::info("Connect gateway: TLS on {} port {}, forwarding to 127.0.0.1:{}",
              settings.listen_address, gateway.port(), settings.backend_port);
    gateway.serve(stop.get());
    return 0;
}

}  // namespace spark_slurm
