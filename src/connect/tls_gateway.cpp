// The listening side of the gateway: the TLS context, the listening socket, and a loop that only
// accepts, enforces the connection caps (evicting the least useful connection to make room, see
// tls_gateway.hpp), starts a thread per connection (tls_relay.cpp does the rest) and joins
// finished ones. One thread per connection keeps each connection's code a plain sequence
// (handshake, connect, forward) and a stalled peer from ever delaying another.
#include "connect/tls_gateway.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <tuple>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "connect/tls_relay.hpp"

namespace spark_slurm {

namespace {

using gateway::Clock;
using gateway::ConnectionStatus;
using gateway::take_openssl_reason;
using gateway::Wait;
using gateway::wait_for;

struct SslCtxFree {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// The client's IP address alone: the unit of the per-peer cap.
std::string peer_address(const sockaddr_storage& address) {
    char host[NI_MAXHOST] = "?";
    ::getnameinfo(reinterpret_cast<const sockaddr*>(&address), sizeof address, host, sizeof host,
                  nullptr, 0, NI_NUMERICHOST);
    return host;
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

UniqueFd open_listener(const std::string& address, std::uint16_t port) {
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
    UniqueFd listener(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
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

// Evicted connections whose threads have not ended yet, at most: past it a new connection is
// closed at once rather than evicting another one.
constexpr unsigned kMaxClosingConnections = 64;

// A connection's thread and what the accept loop knows of it.
struct Worker {
    std::thread thread;
    std::shared_ptr<ConnectionStatus> status;
    std::string address;   // the peer's, without the port
    std::string name;      // address and port, for the log
    bool evicted = false;  // told to end: no longer counted against the caps
};

// Where a connection stands in the eviction order, first evicted first: one already finished
// (free to take), then one the server never answered (handshaking, or silent after its
// handshake: a real gRPC client is answered within a round trip), oldest first, then one whose
// server has been quiet for `quiet_before_evictable`, quietest first. nullopt: in use, never
// evicted.
using EvictionRank = std::tuple<int, Clock::time_point>;
std::optional<EvictionRank> eviction_rank(const Worker& worker, Clock::time_point now,
                                          std::chrono::seconds quiet_before_evictable) {
    const ConnectionStatus& status = *worker.status;
    if (status.finished.load()) return EvictionRank{0, status.accepted_at};
    const Clock::time_point answered = status.last_server_byte.load();
    if (answered == Clock::time_point{}) return EvictionRank{1, status.accepted_at};
    if (now - answered >= quiet_before_evictable) return EvictionRank{2, answered};
    return std::nullopt;
}

std::string describe_state(const Worker& worker, Clock::time_point now) {
    const Clock::time_point answered = worker.status->last_server_byte.load();
    if (answered == Clock::time_point{}) return "never answered by the server";
    return "quiet for " +
           std::to_string(
               std::chrono::duration_cast<std::chrono::seconds>(now - answered).count()) +
           " s";
}

}  // namespace

struct TlsGateway::State {
    GatewaySettings settings;
    SslCtxPtr context;
    UniqueFd listener;
    std::uint16_t port = 0;
    std::list<Worker> workers;
    gateway::DropLog drop_log;
    // Written by each connection's thread as it finishes, so that the loop joins it (and frees
    // its descriptors) at once rather than at the next accept.
    UniqueFd finished_signal;

    void join_finished() {
        for (auto it = workers.begin(); it != workers.end();) {
            if (it->status->finished.load()) {
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
        UniqueFd client(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                                  SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (client.get() < 0) {
            // Out of descriptors: the pending connection stays queued and would wake poll at
            // once; a short pause (still ended by the stop fd) keeps this from spinning.
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                wait_for(stop_fd, -1, 0, -1, 0, Clock::now() + std::chrono::milliseconds(100));
            return;
        }
        const auto now = Clock::now();
        Worker incoming;
        incoming.address = peer_address(peer);
        incoming.name = describe_peer(peer);
        if (!make_room_for(incoming, now)) return;  // `client` closes it
        try {
            incoming.status = std::make_shared<ConnectionStatus>(now);
        } catch (const LaunchError& error) {
            drop_log.warn("dropped the connection from " + incoming.name + ": " + error.what());
            return;
        }
        Worker& worker = workers.emplace_back(std::move(incoming));
        try {
            worker.thread = std::thread([this, client = std::move(client), name = worker.name,
                                         status = worker.status]() mutable {
                // Returns with the connection closed: only then may it stop counting.
                gateway::relay_connection(context.get(), std::move(client), std::move(name),
                                          settings, *status, drop_log);
                status->finished.store(true);
                const std::uint64_t one = 1;
                [[maybe_unused]] ssize_t written = ::write(finished_signal.get(), &one, sizeof one);
            });
        } catch (const std::system_error& error) {
            // No thread (the lambda, and with it the client socket, is gone): not counted.
            workers.pop_back();
            drop_log.warn(std::string("dropped a connection: cannot start a thread: ") +
                          error.what());
        }
    }

    // Applies the caps to a new connection: evicts the least useful one in its way, if any may
    // be evicted. false: the new connection is to be closed (logged).
    bool make_room_for(const Worker& incoming, Clock::time_point now) {
        std::map<std::string, unsigned> open_per_address;
        unsigned open = 0, ending = 0;
        for (const Worker& worker : workers) {
            if (worker.evicted) {
                ++ending;
            } else {
                ++open;
                ++open_per_address[worker.address];
            }
        }
        const auto refuse = [&](const std::string& why) {
            drop_log.warn("dropped the connection from " + incoming.name + ": " + why);
            return false;
        };
        // Evicted connections end within moments, but a flood on a starved CPU can evict faster
        // than their threads get to run: this bounds the threads.
        if (ending >= kMaxClosingConnections)
            return refuse(std::to_string(ending) + " evicted connections are still closing");
        std::string why;
        const std::string* only_address = nullptr;
        if (open_per_address[incoming.address] >= settings.max_connections_per_peer) {
            why = "its address holds " + std::to_string(settings.max_connections_per_peer) +
                  " connections (the per-address cap)";
            only_address = &incoming.address;
        } else if (open >= settings.max_connections) {
            why = std::to_string(open) + " connections are open (the cap)";
        } else {
            return true;
        }
        // The victim: of the addresses holding the most connections (only the newcomer's own,
        // at its per-address cap), the connection first in the eviction order.
        Worker* victim = nullptr;
        std::tuple<long, EvictionRank> victim_key;
        for (Worker& worker : workers) {
            if (worker.evicted || (only_address && worker.address != *only_address)) continue;
            const auto rank = eviction_rank(worker, now, settings.quiet_before_evictable);
            if (!rank) continue;
            const std::tuple<long, EvictionRank> key{
                -static_cast<long>(open_per_address[worker.address]), *rank};
            if (!victim || key < victim_key) victim = &worker, victim_key = key;
        }
        if (!victim) return refuse(why + ", all in use");
        drop_log.warn("evicted the connection from " + victim->name + " (" +
                      describe_state(*victim, now) + ") to make room for " + incoming.name + ": " +
                      why);
        victim->evicted = true;
        victim->status->end_now();
        return true;
    }
};

TlsGateway::TlsGateway(const GatewaySettings& settings) : state_(std::make_unique<State>()) {
    state_->settings = settings;
    state_->context = make_server_context(settings);
    state_->listener = open_listener(settings.listen_address, settings.listen_port);
    state_->finished_signal = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (state_->finished_signal.get() < 0)
        throw LaunchError(std::string("while starting the Connect gateway: eventfd: ") +
                          std::strerror(errno));
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
    while (wait_for(stop_fd, state_->listener.get(), POLLIN, state_->finished_signal.get(), POLLIN,
                    std::nullopt) == Wait::Ready) {
        std::uint64_t count;
        [[maybe_unused]] ssize_t drained =
            ::read(state_->finished_signal.get(), &count, sizeof count);
        state_->join_finished();
        state_->accept_one(stop_fd);  // returns at once when nobody is waiting (EAGAIN)
    }
    state_->listener.reset();
    for (auto& worker : state_->workers) worker.status->end_now();
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
    UniqueFd stop(::signalfd(-1, &stop_signals, SFD_CLOEXEC));
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
