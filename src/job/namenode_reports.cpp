#include "job/namenode_reports.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "job/node_daemons.hpp"
#include "network/network.hpp"
#include "services/services.hpp"

namespace spark_slurm {

NamenodeReports::NamenodeReports(const Plan& plan, const NodePlan& node, const Runtime& runtime)
    : plan_(plan),
      node_(node),
      runtime_(runtime),
      output_((std::filesystem::path(node.tmp_dir) / "dfsadmin-report.txt").string()) {}

void NamenodeReports::poll() {
    if (stopped_) return;
    if (running_) {
        auto status = running_->exit_status();
        if (!status) return;
        running_.reset();
        if (*status == 0) {
            std::ifstream file(output_);
            std::stringstream text;
            text << file.rdbuf();
            if (auto state = parse_dfsadmin_report(text.str())) latest_ = state;
        }
    }
    // A dfsadmin (a JVM) only once the namenode's RPC port accepts: asked without waiting, a
    // new attempt each poll after a refusal.
    if (!rpc_port_open_) {
        if (!rpc_probe_) {
            rpc_probe_.emplace(plan_.leader_address, node_.ports.namenode_rpc,
                               std::chrono::seconds(1));
        }
        const auto accepted = rpc_probe_->result();
        if (!accepted) return;
        rpc_probe_.reset();
        rpc_port_open_ = *accepted;
        if (!rpc_port_open_) return;
    }
    std::error_code error;
    std::filesystem::remove(output_, error);
    const DaemonSpec spec = dfsadmin_spec(plan_, node_, {"-report", "-live"});
    Execution execution = runtime_.prepare(spec.invocation);
    try {
        running_ = Process::spawn(
            {execution.argv, execution.environment, execution.working_dir, output_, false},
            "hdfs dfsadmin -report");
    } catch (const LaunchError&) {
        // Tried again at the next poll; the readiness deadline bounds it.
    }
}

void NamenodeReports::request_stop() {
    stopped_ = true;
    if (running_) running_->request_stop(kDaemonStopGrace);
}

bool NamenodeReports::gone() { return !running_ || running_->gone(); }

}  // namespace spark_slurm
