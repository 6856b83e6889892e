// The leader launcher (rank 0): runs the Spark master and HDFS namenode, tells the workers when
// to start their daemons, decides when the cluster is ready, runs the driver, and tears it all
// down. One event loop serves everything — signals, the control channel, the daemons, and the
// helper commands (format, saveNamespace) and driver, which run as child processes — so no step,
// however slow, keeps the leader from answering its workers. Calls to slurmctld go through
// SlurmCalls (a helper thread with deadlines): a stalled controller delays the job's comment or
// its time limit, never a heartbeat. An exception in the loop is a failed job with its message,
// never a leader that goes quiet. The HTTP probes of the daemons go through libcurl's multi
// interface (probes/http_requests.hpp): their sockets are polled with the loop's own, so a
// daemon that is slow to answer, or never does, delays only its own answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "allocation/allocation.hpp"
#include "allocation/slurm_calls.hpp"
#include "job/cluster_publication.hpp"
#include "job/events.hpp"
#include "job/leader_rules.hpp"
#include "job/namenode_reports.hpp"
#include "job/node_daemons.hpp"
#include "job/readiness.hpp"
#include "job/worker_links.hpp"
#include "network/network.hpp"
#include "plan/plan.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/process.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

class Leader {
  public:
    using Phase = LeaderPhase;

    Leader(const Plan& plan, const Runtime& runtime, std::vector<std::string> driver_command,
           const SlurmLibrary& slurm, ControlServer server, EventLog& events,
           PublicationFacts publication, std::chrono::steady_clock::time_point start);

    // Returns the job's exit code: the driver's (`run`), 0 when a held cluster was asked to stop
    // (`up`), 128 + a signal, or 1 for a failed start.
    int run();

  private:
    void enter(Phase phase);
    bool stopping() const { return is_stopping(phase_); }
    // What the rules (leader_rules.hpp) decide from.
    LeaderState state() const;
    void service(std::chrono::milliseconds timeout);
    void step();
    void on_loop_error(const std::string& what);
    void on_signal(int signal);
    void on_news(const WorkerNews& news);
    void on_daemon_event(const DaemonEvent& event);
    void fail(const std::string& message);
    void begin_stopping(int code, bool wait_for_late_workers);
    void step_stopping();

    void start_local(Daemon daemon);
    // False (and the start failed, naming them) when another user listens on loopback `port`.
    // False (and the start failed, naming the squatter) when another user listens on this
    // node's `address`:`port`, handed to `handed_to`: they may have bound a port this launcher
    // claimed before its daemon did (the claims are visible to all in /proc/net/unix). Checked
    // before anything is sent there.
    bool port_is_ours(const std::string& address, std::uint16_t port, const char* handed_to);

    // HDFS's start-up and end (leader_hdfs.cpp).
    void probe_kdc();  // StartingKdc: on_kdc_ready once the KDC made every keytab
    void on_kdc_ready();
    // Formats a new namespace (alongside the KDC), or starts HDFS on the one there is (once the
    // KDC is ready).
    void start_namespace();
    void on_namespace_formatted(const HelperSteps::Outcome& outcome);
    void start_hdfs();
    void start_token_fetch();  // with Kerberos, once the namenode answers
    void on_token_fetched(const HelperSteps::Outcome& outcome);
    void save_namespace();  // after the work, with a state dir
    void on_namespace_saved(const HelperSteps::Outcome& outcome);

    void continue_when_ready();  // after on_ready (and the token): Connect, then the driver
    void decide_readiness(bool ask_now);  // StartingDaemons, WaitingForWorkers: every turn
    void on_master_up();
    void on_ready();
    void start_connect();
    void step_starting_connect();
    void on_connect_ready();
    void on_serving();
    // Asks slurmctld (off the loop) when the job ends; `then` gets nullopt if it cannot tell.
    void ask_end_time(std::function<void(std::optional<std::int64_t>)> then);
    void set_comment();  // off the loop; again (retry_comment_when_due) if slurmctld failed it
    void retry_comment_when_due();
    void schedule_walltime_stop(std::optional<std::int64_t> end_time);
    void on_worker_lost(const std::string& node, const std::string& what);
    // At a termination: the requeue policy asks slurmctld off the loop while the stop goes on.
    void requeue_if_needed_off_the_loop();
    void finish_stopping();
    void step_holding();
    void finish_holding(const std::string& why);
    void on_driver_exit(int status);
    void after_work();
    void on_helpers_done(const HelperSteps::Outcome& outcome);
    unsigned expected_workers() const;
    double elapsed() const;

    const Plan& plan_;
    const NodePlan& node_;
    const Runtime& runtime_;
    std::vector<std::string> driver_command_;
    const SlurmLibrary& slurm_;
    EventLog& events_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point deadline_;

    SignalFd signals_;
    WorkerLinks links_;
    NodeDaemons daemons_;
    Readiness readiness_;

    Phase phase_ = Phase::StartingDaemons;
    bool ready_ = false;
    bool namenode_started_ = false;
    bool kdc_ready_ = false;
    bool formatting_ = false;
    int exit_code_ = 0;
    // The work is over: `run`'s driver exited (work_exit_code_ is its code), or `up`'s cluster
    // was asked to stop (0). From then on that result stands: a termination signal does not
    // requeue the job.
    bool work_finished_ = false;
    int work_exit_code_ = 0;
    bool terminated_ = false;  // a termination signal was handled
    // A worker lost before the cluster was ready: the failure, and when to report it.
    std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>> worker_lost_;
    std::chrono::steady_clock::time_point last_probe_{};

    ClusterPublication publication_;
    std::optional<Process> gateway_;  // the Spark Connect TLS gateway
    std::chrono::steady_clock::time_point connect_started_{};
    // StartingConnect: connections to the server (loopback) and the gateway, under way.
    std::optional<std::pair<ConnectionProbe, ConnectionProbe>> connect_probes_;
    std::chrono::steady_clock::time_point stop_at_{};  // `up`: --stop-before-end the walltime
    bool stop_at_set_ = false;
    bool asking_end_time_ = false;
    enum class CommentState { NotYet, InFlight, Set, Failed };
    CommentState comment_state_ = CommentState::NotYet;
    bool comment_retried_ = false;
    std::chrono::steady_clock::time_point next_comment_try_{};
    std::chrono::steady_clock::time_point next_end_time_ask_{};
    // The workers that were lost after the cluster was ready, for the message when too few remain.
    std::vector<std::string> lost_workers_;
    unsigned loop_errors_ = 0;  // exceptions caught in the loop while stopping

    std::optional<Process> driver_;
    std::optional<std::chrono::steady_clock::time_point> driver_exit_seen_;
    std::optional<HelperSteps> helpers_;  // the format, or the steps of saving the namespace
    std::optional<NamenodeReports> namenode_reports_;  // with Kerberos, until ready
    std::chrono::steady_clock::time_point save_started_{};
    std::chrono::steady_clock::time_point helpers_started_{};
    // The executors' delegation token (Kerberos): fetched while the workers start.
    enum class Token { NotStarted, Fetching, Fetched } token_ = Token::NotStarted;

    bool stop_sent_ = false;
    std::chrono::steady_clock::time_point late_workers_until_{};
    std::chrono::steady_clock::time_point stop_started_{};
    bool withdrawn_ = false;

    // Last: its callbacks use the members above, so it goes first.
    SlurmCalls slurm_calls_;
};

}  // namespace spark_slurm
