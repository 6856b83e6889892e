// When the cluster is ready, read from the daemons themselves: the master's list of registered
// workers (with the planned cores and memory), the namenode's live datanodes and safe mode.
// Progress goes to the log and the events file; a cluster that is not ready in time gets a
// message that says which node is missing what, with the log lines that tell why.
//
// The daemons are asked over HTTP without blocking (HttpRequests): the leader's loop polls the
// probes' descriptors with its own, hands their answers over each turn (receive_answers), and
// the probe_* calls decide from the answers that arrived, asking again when none is in flight.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "job/events.hpp"
#include "plan/plan.hpp"
#include "probes/probes.hpp"

namespace spark_slurm {

class Readiness {
  public:
    Readiness(const Plan& plan, EventLog& events, std::chrono::steady_clock::time_point start);

    // The loop's part: the probes' descriptors for its poll, how long it may sleep, and reading
    // what arrived (never blocks).
    void add_poll_fds(std::vector<pollfd>& fds) const { http_.add_poll_fds(fds); }
    std::chrono::milliseconds poll_timeout(std::chrono::milliseconds longest) const {
        return http_.poll_timeout(longest);
    }
    void receive_answers();

    // Called every turn; `ask_now` when a probe may be sent (the leader's probe interval, and its
    // check of who holds the master's port): a daemon not asked already is asked then.

    // The master and namenode, until both answered. Returns true the moment the master first
    // answers (its workers can start then).
    bool probe_leader_daemons(bool ask_now);
    bool master_up() const { return master_up_; }
    bool leader_daemons_up() const { return master_up_ && (namenode_up_ || !plan_.hdfs); }

    // Every worker registered with its planned offer, every datanode live, HDFS out of safe mode.
    // Decided on a round of answers (the master's and the namenode's).
    bool probe_cluster(bool ask_now);

    // Why the cluster is not ready, for --ready-timeout. `connected(rank)` says whether that
    // worker's launcher reached the leader.
    std::string timeout_message(const std::function<bool(unsigned)>& connected) const;

    // Where the namenode's state comes from: its JMX over HTTP unless set (with Kerberos its web
    // endpoints want SPNEGO: the leader reads `dfsadmin -report` instead, see NamenodeReports).
    void set_namenode_source(std::function<std::optional<NamenodeState>()> source);

  private:
    // One daemon's endpoint: the request in flight, or the answer not yet read.
    struct Probe {
        std::optional<HttpRequests::Id> request;
        std::optional<HttpAnswer> answer;
    };
    void ask(Probe& probe, const std::string& url);
    std::optional<SparkMasterState> take_master_answer();
    std::optional<NamenodeState> take_namenode_answer();
    bool namenode_over_http() const { return plan_.hdfs && !namenode_source_; }
    void on_namenode_up();
    double elapsed() const;
    const Plan& plan_;
    EventLog& events_;
    std::chrono::steady_clock::time_point start_;
    bool master_up_ = false;
    bool namenode_up_ = false;
    bool reported_safe_mode_ = false;
    unsigned last_workers_ = 0;
    unsigned last_datanodes_ = 0;
    std::function<std::optional<NamenodeState>()> namenode_source_;
    HttpRequests http_;
    Probe master_probe_;
    Probe namenode_probe_;
    std::optional<SparkMasterState> last_master_;  // the last answer, for timeout_message
};

}  // namespace spark_slurm
