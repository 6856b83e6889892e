// The transport of the control channel (control_protocol.hpp has the messages): TCP, one line per
// message, non-blocking. Every wait on it has a deadline: a peer that dies or vanishes is noticed,
// never waited for forever. Reads are bounded: a peer that sends a line longer than a message can
// be is cut off, so nobody can make the launcher hold unbounded input.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/unique_fd.hpp"
#include "control/control_protocol.hpp"

namespace spark_slurm {

using Received = std::variant<control::Message, control::ParseFailure>;

// TCP keepalive on every control connection: a peer node that vanished fails the connection
// within idle + interval x probes (25 s).
inline constexpr int kKeepaliveIdleSeconds = 10;
inline constexpr int kKeepaliveIntervalSeconds = 5;
inline constexpr int kKeepaliveProbes = 3;

class Connection {
  public:
    Connection() = default;
    Connection(int fd, std::string peer);

    int fd() const { return fd_.get(); }
    bool closed() const { return !fd_.valid() || closed_; }
    // Who is at the other end ("10.0.0.2:41234"), for logs.
    const std::string& peer() const { return peer_; }
    // The peer's IPv4 address alone ("10.0.0.2").
    std::string peer_address() const;
    // Best effort: a peer that is gone (or does not read for 2 s) makes the connection closed.
    void send(const control::Message& message);
    // Reads what is available without blocking; marks the connection closed at EOF, on an error
    // or on an over-long line (reported as a ParseFailure).
    std::vector<Received> receive();
    void close();
    std::chrono::steady_clock::time_point last_heard() const { return last_heard_; }
    std::chrono::steady_clock::time_point opened() const { return opened_; }

  private:
    UniqueFd fd_;
    bool closed_ = false;
    std::string peer_;
    std::string buffer_;
    std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_heard_ = opened_;
};

// The leader's listening socket. Every rank opens one on a port the kernel picks, before the
// rendezvous, so the port is held from the moment it is reported: two jobs on one node cannot
// be given the same control port. Only the leader keeps it. It listens on the one IPv4 address
// the workers are told to use, not on every interface.
class ControlServer {
  public:
    // Throws LaunchError when `address` is not an IPv4 address of this node.
    explicit ControlServer(const std::string& address);
    int fd() const { return fd_.get(); }
    std::uint16_t port() const { return port_; }
    std::optional<Connection> accept();
    void close();

  private:
    UniqueFd fd_;
    std::uint16_t port_ = 0;
};

// Connects to the leader, retrying until `deadline` (each attempt bounded by 2 s); nullopt if it
// never answers.
std::optional<Connection> connect_to_leader(const std::string& address, std::uint16_t port,
                                            std::chrono::steady_clock::time_point deadline);

}  // namespace spark_slurm
