// What a peer launcher's silence means — one rule for the leader watching its workers and for a
// worker watching its leader. Silence alone is not a loss: a peer that has sent nothing for the
// silence limit is reported, and waited for while its connection is up (its kernel still answers
// TCP keepalive: the process is stopped or stalled, not gone). The evidence of a loss is the
// connection closed or failed (the process exited; keepalive gave up on its node), or a silence
// longer than the patience. Pure: the caller passes what it saw, and reports what changed.
#pragma once

#include <chrono>

namespace spark_slurm {

// Both sides send a heartbeat every kHeartbeatInterval. A peer silent for kPeerSilenceLimit is
// reported; it is taken for lost only on evidence — its connection closed or failed (a vanished
// node fails it through TCP keepalive, control_channel.hpp) — or after a patience that outlasts
// a stopped or stalled process: the leader waits kWorkerPatience for a worker, a worker waits
// kLeaderPatience for its leader (whose loop never blocks on slurmctld, but whose machine may).
inline constexpr std::chrono::seconds kHeartbeatInterval{1};
inline constexpr std::chrono::seconds kPeerSilenceLimit{15};
inline constexpr std::chrono::seconds kWorkerPatience{60};
inline constexpr std::chrono::seconds kLeaderPatience{300};

class PeerWatch {
  public:
    enum class Change {
        None,
        WentSilent,  // quiet past the silence limit, its connection up: report, wait
        CameBack,    // heard again after WentSilent
        Lost,        // its connection ended, or it was quiet past the patience
    };

    PeerWatch(std::chrono::steady_clock::duration silence_limit,
              std::chrono::steady_clock::duration patience)
        : silence_limit_(silence_limit), patience_(patience) {}

    // `quiet`: how long since anything was heard from the peer. Lost is returned once; after it
    // the watch says None.
    Change update(bool connection_closed, std::chrono::steady_clock::duration quiet) {
        if (lost_) return Change::None;
        if (connection_closed || quiet > patience_) {
            lost_ = true;
            return Change::Lost;
        }
        if (quiet > silence_limit_ && !silent_) {
            silent_ = true;
            return Change::WentSilent;
        }
        if (quiet <= silence_limit_ && silent_) {
            silent_ = false;
            return Change::CameBack;
        }
        return Change::None;
    }

    bool silent() const { return silent_; }

  private:
    std::chrono::steady_clock::duration silence_limit_;
    std::chrono::steady_clock::duration patience_;
    bool silent_ = false;
    bool lost_ = false;
};

}  // namespace spark_slurm
