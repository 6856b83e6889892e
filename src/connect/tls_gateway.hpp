// The TLS gateway in front of the leader's Spark Connect server. Spark 4.0's Connect server speaks
// only plaintext gRPC, and its thin Python client sends the job's token only over TLS (unless the
// host is literally "localhost"). So the server listens on 127.0.0.1 and this gateway, a process
// of its own next to it, listens on the leader's network address: it terminates TLS 1.3 with the
// job's self-signed certificate, insists on ALPN "h2" (gRPC needs HTTP/2; a proxy without ALPN
// makes the client hang) and copies the plaintext bytes both ways to 127.0.0.1:backend_port.
//
// Robustness contract: a peer that sends nothing, garbage or the wrong protocol is dropped after
// at most `handshake_limit`, logged (at most 20 such lines a minute), and never delays other
// connections (each connection has its own thread); no connection holds more than a fixed
// buffer per direction (the slower side throttles the faster one); a connection that moves no
// byte either way for `idle_limit` is closed.
//
// Slots, so that nobody can lock the owner out with connections that do nothing: the gateway
// cannot tell the owner's connections from a stranger's (the token travels inside HTTP/2, for
// the server to check), so it keeps room by what connections do. A connection is *in use* while
// the Connect server has sent it a byte within `quiet_before_evictable`; any other (handshaking,
// silent after its handshake, or quiet) may be evicted. A new connection from an address that
// already holds `max_connections_per_peer` evicts that address's own least useful connection;
// one that finds `max_connections` open evicts the least useful connection of the address that
// holds the most. Only when every candidate is in use is the new connection closed instead. So a
// stranger's idle connections, however many and from however many addresses, never keep the
// owner out; and one address (a login node shared with strangers) can only ever push out its
// own connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace spark_slurm {

struct GatewaySettings {
    std::string listen_address;  // numeric IPv4 or IPv6 address of this node
    std::uint16_t listen_port;   // 0: the kernel picks one (TlsGateway::port() says which)
    std::uint16_t backend_port;  // on 127.0.0.1
    std::string certificate_file;
    std::string private_key_file;
    // The reasons for these values are in docs/security.md ("Spark Connect's gateway").
    unsigned max_connections = 64;
    unsigned max_connections_per_peer = 16;  // per client IP address
    std::chrono::seconds handshake_limit{10};
    std::chrono::seconds idle_limit{600};
    std::chrono::seconds quiet_before_evictable{60};
};

// The gateway as an object, for embedding and tests. Construction loads the certificate and key
// and opens the listening socket (throws LaunchError on failure); serve() then runs in the calling
// thread until `stop_fd` becomes readable, closes every connection, joins their threads and
// returns. serve() ignores SIGPIPE process-wide (a peer that vanishes mid-write must not kill the
// process).
class TlsGateway {
  public:
    explicit TlsGateway(const GatewaySettings& settings);
    ~TlsGateway();
    TlsGateway(const TlsGateway&) = delete;
    TlsGateway& operator=(const TlsGateway&) = delete;

    std::uint16_t port() const;
    void serve(int stop_fd);

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// The gateway process's main loop: serves until SIGTERM or SIGINT, then closes everything and
// returns 0. Blocks those two signals in the calling thread (they are read through a signalfd),
// so call it before starting other threads. Throws LaunchError when it cannot start.
int run_tls_gateway(const GatewaySettings& settings);

}  // namespace spark_slurm
