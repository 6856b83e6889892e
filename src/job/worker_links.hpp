// The leader's side of the control channel: the listening port, the handshake that admits a
// worker launcher (control_protocol.hpp), heartbeats, and noticing a worker that is gone.
// Whatever arrives that is not an admitted worker speaking the protocol is dropped and logged
// (and written to the events file): it can never stop, stall or requeue the job.
#pragma once

#include <poll.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/control_channel.hpp"
#include "job/events.hpp"
#include "job/peer_watch.hpp"
#include "plan/plan.hpp"
#include "services/services.hpp"

namespace spark_slurm {

// What the leader hears from its workers.
struct WorkerNews {
    enum class Kind {
        Joined,
        DaemonRestarting,
        DaemonExited,
        StartFailed,
        Stopped,
        Silent,  // no heartbeat for kPeerSilenceLimit, its connection still up
        Back,    // heard again after Silent
        Lost,
    } kind;
    unsigned rank = 0;
    std::string daemon;  // DaemonRestarting, DaemonExited
    std::string status;  // DaemonRestarting, DaemonExited
    unsigned attempt = 0;
    // DaemonExited: the log tail; StartFailed: the reason; Lost: what happened ("exited or ...").
    std::string text;
};

class WorkerLinks {
  public:
    WorkerLinks(const Plan& plan, ControlServer server, EventLog& events);

    // The descriptors to wait on (the port and every connection).
    void add_poll_fds(std::vector<pollfd>& fds) const;

    // Accepts, reads and handshakes; drops strangers. `watch` false (while stopping): a worker
    // that goes away is expected and not news.
    std::vector<WorkerNews> service(bool watch);

    // To one admitted worker, once per daemon.
    void start_daemon(unsigned rank, Daemon daemon);
    // To every admitted worker.
    void broadcast(const control::Message& message);
    void heartbeat();

    bool admitted(unsigned rank) const;
    unsigned admitted_count() const;
    // Admitted workers neither stopped nor lost.
    unsigned live_count() const;
    // Admitted workers that have neither confirmed their stop nor gone away.
    unsigned awaiting_stop() const;
    std::vector<unsigned> admitted_ranks() const;

  private:
    struct Link {
        Connection connection;
        std::string nonce;             // the challenge sent to it
        std::optional<unsigned> rank;  // set once admitted
        std::set<Daemon> started;
        bool stopped = false;  // confirmed its stop, or was reported lost
        PeerWatch watch{kPeerSilenceLimit, kWorkerPatience};
    };
    void accept_new();
    void enforce_pending_quotas(std::chrono::steady_clock::time_point round_started);
    void report_rejections(bool now);
    void reject(Link& link, const std::string& reason);
    void handle(Link& link, const control::Message& message, std::vector<WorkerNews>& news);
    void admit(Link& link, const control::Hello& hello);

    const Plan& plan_;
    ControlServer server_;
    EventLog& events_;
    std::vector<Link> links_;
    std::chrono::steady_clock::time_point last_heartbeat_{};
    unsigned rejected_ = 0;
    unsigned rejections_not_written_ = 0;
    std::chrono::steady_clock::time_point rejections_written_{};
};

}  // namespace spark_slurm
