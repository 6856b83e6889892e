// The namenode's state for the leader's readiness check when HDFS runs with Kerberos: its web
// endpoints then want SPNEGO, which the launcher does not speak, so the state comes from
// `hdfs dfsadmin -report -live` (run as the job's owner, logged in from the owner's keytab)
// instead of the JMX servlet. One report at a time, the next as soon as the last one finished;
// watched from the leader's event loop, so nothing blocks. The first waits until the namenode's
// RPC port accepts connections: each report is a JVM of about a CPU-second, which a starting
// namenode (and whatever else starts on the node) would otherwise share its cores with.
#pragma once

#include <optional>
#include <string>

#include "network/network.hpp"
#include "plan/plan.hpp"
#include "probes/probes.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

class NamenodeReports {
  public:
    NamenodeReports(const Plan& plan, const NodePlan& node, const Runtime& runtime);

    // Reads the report that finished, and starts the next one when none runs.
    void poll();
    // The last report the namenode answered; nullopt until it first does.
    const std::optional<NamenodeState>& latest() const { return latest_; }

    void request_stop();
    bool gone();

  private:
    const Plan& plan_;
    const NodePlan& node_;
    const Runtime& runtime_;
    std::string output_;  // node-local: the report of the run in progress
    std::optional<Process> running_;
    std::optional<NamenodeState> latest_;
    bool rpc_port_open_ = false;
    std::optional<ConnectionProbe> rpc_probe_;  // until the namenode's RPC port accepts
    bool stopped_ = false;
};

}  // namespace spark_slurm
