// Settings whose stock defaults assume a small cluster, derived from the plan's worker count
// (issue 31): each rule, and where it comes from, next to it in scaling.cpp. Pure: configs.cpp
// writes them into the daemons' files, the leader applies its descriptor limit, `plan` shows
// them (`plan --nodes 1000`).
#pragma once

#include <cstdint>
#include <string>

namespace spark_slurm {

struct Plan;

struct ScalingKeys {
    unsigned namenode_handlers = 10;          // dfs.namenode.handler.count
    unsigned rpc_listen_queue = 256;          // ipc.server.listen.queue.size
    unsigned block_report_initial_delay = 0;  // dfs.blockreport.initialDelay, seconds
    std::uint64_t leader_open_files = 1024;   // the leader's RLIMIT_NOFILE soft limit, at least
};

// The keys for a cluster of `workers` workers (datanodes, with HDFS).
ScalingKeys scaling_keys(unsigned workers);
ScalingKeys scaling_keys(const Plan& plan);

// One line for `plan`: the keys and, briefly, why.
std::string describe_scaling(const ScalingKeys& keys);

}  // namespace spark_slurm
