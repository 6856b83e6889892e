// A worker launcher (every rank but 0): connects to the leader, proves it belongs to the job,
// starts its Spark worker and datanode when told, reports their exits, and stops when told — or
// on its own when the leader is gone, requeueing the job if the leader was lost while it ran.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "allocation/allocation.hpp"
#include "control/control_channel.hpp"
#include "job/node_daemons.hpp"
#include "job/peer_watch.hpp"
#include "plan/plan.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

class Worker {
  public:
    Worker(const Plan& plan, const NodePlan& node, const Runtime& runtime,
           const SlurmLibrary& slurm);
    int run();

  private:
    // Serves one connection to the leader; an exit code once the worker is done, nullopt when
    // the connection ended before the leader welcomed this node (to be tried again).
    std::optional<int> serve();
    // Waits, or returns an exit code for a termination signal meanwhile.
    std::optional<int> pause(std::chrono::milliseconds how_long);
    // Reads the pending signals: on a termination, stops this node's daemons (if any) and
    // returns the exit code (128 + the signal).
    std::optional<int> take_signals();
    // Handles one message; returns an exit code once the worker is done.
    std::optional<int> handle(const control::Message& message);
    void report(const DaemonEvent& event);
    int leave(const std::string& why);

    const Plan& plan_;
    const NodePlan& node_;
    const SlurmLibrary& slurm_;
    NodeDaemons daemons_;
    SignalFd signals_;
    Connection leader_;
    std::string nonce_;         // this worker's, for the handshake
    std::string leader_nonce_;  // the leader's challenge
    bool welcomed_ = false;
    bool cluster_ready_ = false;
    PeerWatch leader_watch_{kPeerSilenceLimit, kLeaderPatience};
    std::chrono::steady_clock::time_point last_heartbeat_{};
};

}  // namespace spark_slurm
