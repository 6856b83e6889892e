// When the cluster is ready, read from the daemons themselves: the master's list of registered
// workers (with the planned cores and memory), the namenode's live datanodes and safe mode.
// Progress goes to the log and the events file; a cluster that is not ready in time gets a
// message that says which node is missing what, with the log lines that tell why.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "job/events.hpp"
#include "plan/plan.hpp"
#include "probes/probes.hpp"

namespace spark_slurm {

class Readiness {
  public:
    Readiness(const Plan& plan, EventLog& events, std::chrono::steady_clock::time_point start);

    // Probes the master and namenode until both answer. Returns true the moment the master
    // first answers (its workers can start then).
    bool probe_leader_daemons();
    bool master_up() const { return master_up_; }
    bool leader_daemons_up() const { return master_up_ && (namenode_up_ || !plan_.hdfs); }

    // Every worker registered with its planned offer, every datanode live, HDFS out of safe mode.
    bool probe_cluster();

    // Why the cluster is not ready, for --ready-timeout. `connected(rank)` says whether that
    // worker's launcher reached the leader.
    std::string timeout_message(const std::function<bool(unsigned)>& connected) const;

    // Where the namenode's state comes from: its JMX over HTTP unless set (with Kerberos its web
    // endpoints want SPNEGO: the leader reads `dfsadmin -report` instead, see NamenodeReports).
    void set_namenode_source(std::function<std::optional<NamenodeState>()> source);

  private:
    std::optional<NamenodeState> namenode_state() const;
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
};

}  // namespace spark_slurm
