// The leader and worker launchers talk over TCP after the rendezvous, one JSON object per line:
// the leader says when to start and stop and sends a heartbeat; workers say hello (with a token
// derived from the job's secret), report daemons that exit, and confirm they have stopped. Every
// wait on it has a deadline: a peer that dies or vanishes is noticed, never waited for forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace spark_slurm {

class Connection {
  public:
    explicit Connection(int fd);
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    int fd() const { return fd_; }
    bool closed() const { return closed_; }
    // Best effort: a peer that is gone makes the connection closed.
    void send(const nlohmann::json& message);
    // Reads what is available without blocking; marks the connection closed at EOF or error.
    std::vector<nlohmann::json> receive();
    std::chrono::steady_clock::time_point last_heard() const { return last_heard_; }

  private:
    int fd_ = -1;
    bool closed_ = false;
    std::string buffer_;
    std::chrono::steady_clock::time_point last_heard_ = std::chrono::steady_clock::now();
};

class ControlServer {
  public:
    explicit ControlServer(std::uint16_t port);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;
    int fd() const { return fd_; }
    std::optional<Connection> accept();

  private:
    int fd_ = -1;
};

// Connects to the leader, retrying until `deadline`; nullopt if it never answers.
std::optional<Connection> connect_to_leader(const std::string& address, std::uint16_t port,
                                            std::chrono::steady_clock::time_point deadline);

// What a worker proves it belongs to this job with.
std::string hello_token(const std::string& secret, unsigned rank);

}  // namespace spark_slurm
