// The messages of the control channel between the leader and worker launchers, one struct per
// message, and their wire form (one JSON object per line, "type" naming the message).
//
// The port is reachable by anyone who can reach the node, so nothing read from it is trusted:
// parse_message() never throws, and anything it cannot read as one of these messages, exactly,
// is reported as a ParseFailure for the caller to drop and log. A worker is admitted by a
// challenge-response over the job's secret (HMAC-SHA256 over both sides' fresh nonces), so a
// token seen on the wire cannot be replayed on another connection; the leader proves itself the
// same way before a worker acts on anything it says.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace spark_slurm::control {

// A line longer than this is not one of ours: the connection is dropped.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;
// Daemon log tails sent to the leader are cut to this size so a message always fits a line.
inline constexpr std::size_t kMaxLogTailBytes = 16 * 1024;

// Leader -> worker, first thing on a new connection.
struct Challenge {
    std::string nonce;
};
// Worker -> leader: rank and the proof it holds the job's secret.
struct Hello {
    unsigned rank = 0;
    std::string nonce;
    std::string mac;
};
// Leader -> worker: the leader's proof, answering the worker's nonce.
struct Welcome {
    std::string mac;
};
// Leader -> worker: start one of your daemons (by file name: "spark-worker", "hdfs-datanode").
struct StartDaemon {
    std::string daemon;
};
// Leader -> worker: every daemon is up; a daemon that exits from now on is restarted.
struct ClusterReady {};
// Leader -> worker: stop your daemons and confirm.
struct Stop {};
// Both ways, every second: the peer is alive.
struct Heartbeat {};
// Worker -> leader.
struct DaemonRestarting {
    std::string daemon;
    std::string status;
    unsigned attempt = 0;
};
struct DaemonExited {
    std::string daemon;
    std::string status;
    std::string log_tail;
};
struct StartFailed {
    std::string reason;
};
struct Stopped {};

using Message = std::variant<Challenge, Hello, Welcome, StartDaemon, ClusterReady, Stop, Heartbeat,
                             DaemonRestarting, DaemonExited, StartFailed, Stopped>;

// Why a line was not a message.
struct ParseFailure {
    std::string reason;
};

// One line (without its newline) to a message; never throws.
std::variant<Message, ParseFailure> parse_message(std::string_view line);

// The line for a message, newline included.
std::string serialize(const Message& message);

// The message's type as it appears on the wire, for logs.
const char* type_name(const Message& message);

// 128 bits from the kernel's CSPRNG, hex encoded.
std::string fresh_nonce();

// The proofs of the handshake: HMAC-SHA256 keyed with the job's secret, hex encoded. The two
// sides' MACs differ in their label, so one cannot stand for the other.
std::string hello_mac(const std::string& secret, unsigned rank, const std::string& leader_nonce,
                      const std::string& worker_nonce);
std::string welcome_mac(const std::string& secret, unsigned rank, const std::string& leader_nonce,
                        const std::string& worker_nonce);

// Compares MACs in time independent of where they differ.
bool same_mac(const std::string& a, const std::string& b);

}  // namespace spark_slurm::control
