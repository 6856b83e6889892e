// Facts about this node's network that the plan needs: the address other nodes reach it at,
// whether an address is one of ours, and which ports are free.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace spark_slurm {

std::string this_hostname();

// The first non-loopback IPv4 address `hostname` resolves to; empty if none.
std::string resolve_address(const std::string& hostname);

// True when `address` is assigned to an interface of this node.
bool is_local_address(const std::string& address);

// How a port check binds: on every address (as the daemons bind) or on 127.0.0.1 only; with
// SO_REUSEADDR (as the daemons bind: connections of an earlier job still in TIME_WAIT do not
// make a port unusable for them) or without it.
enum class BindScope { AllAddresses, Loopback };
enum class ReuseAddress { No, Yes };

// The one "is this TCP port free here" check: binds `port` (0: one the kernel picks) for a moment
// and returns the port it got, or 0 when it is taken. Nothing listens; the port is free again
// when this returns.
std::uint16_t try_bind_tcp(std::uint16_t port, BindScope scope, ReuseAddress reuse);

// The ports this launcher took for its node's daemons, held until it exits. Two launchers on one
// node (jobs sharing nodes, job arrays) probe at the same moment and would both find the
// defaults free; a claim is an abstract Unix socket named after the port, which exists only
// while its holder lives and lives in the same network namespace as the port itself, so a port
// claimed by one launcher is never handed to another, and nothing is left on disk. A process
// other than a launcher may still take a port between the check and the daemon's bind: the
// daemon then fails to start and the launcher reports it with the daemon's log.
class PortClaims {
  public:
    // `preferred` when no launcher claimed it and nothing listens on it here, else a free
    // ephemeral port; claimed either way. Throws LaunchError when none can be found.
    std::uint16_t claim(std::uint16_t preferred);
    const std::set<std::uint16_t>& ports() const { return ports_; }

  private:
    std::vector<UniqueFd> claims_;  // the abstract sockets, one a port of ports_
    std::set<std::uint16_t> ports_;
};

// True when `address` is an IPv4 address in dotted form.
bool is_ipv4_address(const std::string& address);

// Whether a TCP connection to ADDRESS:PORT (IPv4) is accepted, asked from an event loop without
// ever waiting: the connection is started at construction and result() says, each turn, whether
// it was accepted (true), refused or not answered by `limit` (false), or is still under way
// (nullopt). Nothing is sent; the socket closes with this.
class ConnectionProbe {
  public:
    ConnectionProbe(const std::string& address, std::uint16_t port,
                    std::chrono::milliseconds limit);
    std::optional<bool> result();

  private:
    UniqueFd fd_;
    std::optional<bool> result_;
    std::chrono::steady_clock::time_point deadline_;
};

inline constexpr const char* kLoopbackAddress = "127.0.0.1";

// The uids of the processes' sockets that listen on TCP `port` where a connection to `address`
// (IPv4, dotted; for 127.0.0.1 ::1 too) would land — that address, its IPv4-mapped IPv6 form or
// every address — as the kernel reports them in this network namespace's /proc/net/tcp and
// tcp6. Empty when nothing listens. Before the launcher trusts a port it handed out on this node
// (readiness, forwarding a client's bytes, sending the UI token), it checks that its own uid is
// the only one: another user on the node may have taken the port first.
std::vector<unsigned> listener_uids(const std::string& address, std::uint16_t port);
// "uid 1001 (mallory)" when a process of another user than this one listens there.
std::optional<std::string> foreign_listener(const std::string& address, std::uint16_t port);
// The same, read from the text of /proc/net/tcp or /proc/net/tcp6; empty for an `address` that
// is not IPv4.
std::vector<unsigned> listener_uids_in(const std::string& proc_net_tcp, const std::string& address,
                                       std::uint16_t port);

// The address of this machine that packets to `address` leave from (a UDP socket connect()ed
// to it, then getsockname(): routing only, nothing is sent). Empty when there is no route.
std::string local_address_towards(const std::string& address);

// This machine's fully qualified name, as `hostname -f` prints it (the canonical name of
// gethostname()); the short name when the resolver knows no other.
std::string canonical_hostname();

}  // namespace spark_slurm
