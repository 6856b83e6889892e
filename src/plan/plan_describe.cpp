// `spark-slurm plan`'s text: the plan as a person reads it (the secret is never shown).
#include <fmt/format.h>

#include "common/enum_names.hpp"
#include "common/sizes.hpp"
#include "plan/plan.hpp"
#include "plan/scaling.hpp"

namespace spark_slurm {

std::string describe_plan(const Plan& plan) {
    std::string out;
    out += fmt::format("job {}{}: {} node(s), {} worker(s) x {} cores, {} memory\n", plan.job_id,
                       plan.restart_count ? fmt::format(" (restart {})", plan.restart_count) : "",
                       plan.nodes.size(), plan.worker_count, plan.worker_cores,
                       format_size(plan.worker_memory));
    out += fmt::format("leader       {} ({})\n", plan.leader_hostname, plan.leader_address);
    out += fmt::format("spark master {}   web UI {} ({})\n", plan.master_url, plan.master_webui_url,
                       ui_reverse_proxy(plan.wire_encryption)
                           ? "the door to every Spark UI of the job"
                           : "on " + plan.leader_hostname + " only");
    if (plan.hdfs) {
        out += fmt::format("hdfs         {}   web UI {}   replication {}\n", plan.hdfs_url,
                           plan.namenode_webui_url, plan.replication);
        out += plan.kerberos
                   ? fmt::format("hdfs auth    kerberos, realm {} (KDC on the leader)\n",
                                 kerberos_names(plan).realm)
                   : "hdfs auth    none: anyone who reaches the namenode may claim to be you\n";
    } else {
        out +=
            "hdfs         off (--no-hdfs): read and write file:// paths on a shared filesystem\n";
    }
    out += fmt::format("scaling      {}\n", describe_scaling(scaling_keys(plan)));
    out += fmt::format("logs         {}\n", plan.log_dir);
    out += fmt::format("event logs   {}\n",
                       plan.event_log_dir.empty() ? "off (--no-event-log)" : plan.event_log_dir);
    out += fmt::format("state        {}\n",
                       plan.state_dir.empty() ? "none (ephemeral cluster)" : plan.state_dir);
    constexpr std::size_t kShown = 20;
    out += fmt::format("{:<6} {:<24} {:<16} {:<14} {:>6} {:>8}\n", "rank", "host", "address",
                       "role", "cores", "memory");
    for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
        if (plan.nodes.size() > kShown + 1 && i == kShown / 2) {
            out += fmt::format("... {} more node(s) ...\n", plan.nodes.size() - kShown);
            i = plan.nodes.size() - kShown / 2 - 1;
            continue;
        }
        const NodePlan& node = plan.nodes[i];
        out += fmt::format("{:<6} {:<24} {:<16} {:<14} {:>6} {:>8}\n", node.rank, node.hostname,
                           node.address, to_string(node.role),
                           node.runs_worker() ? std::to_string(node.worker_cores) : "-",
                           node.runs_worker() ? format_size(node.worker_memory) : "-");
    }
    return out;
}

}  // namespace spark_slurm
