#include "plan/scaling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "plan/plan.hpp"

namespace spark_slurm {

ScalingKeys scaling_keys(unsigned workers) {
    const unsigned n = std::max(workers, 1u);
    ScalingKeys keys;
    // The namenode's RPC handler threads serve every datanode's heartbeats and block reports
    // and every client. Hadoop's hdfs-default.xml leaves 10; Cloudera's sizing guidance (and
    // Cloudera Manager's default rule) is 20 x ln(number of datanodes), capped at 200.
    keys.namenode_handlers =
        std::clamp(static_cast<unsigned>(20.0 * std::log(static_cast<double>(n))), 10u, 200u);
    // The accept backlog of every Hadoop RPC server (core-default.xml: 256): at a start all
    // datanodes register at once. One slot per datanode; Linux caps it at net.core.somaxconn
    // (4096 by default since 5.4).
    keys.rpc_listen_queue = std::max(256u, n);
    // The first full block report of each datanode goes at a random moment within this many
    // seconds (hdfs-default.xml: 0, all at once). It matters with blocks to report (--state-dir,
    // where safe mode waits for them): from 100 datanodes on, spread the reports over N/100 s,
    // a 10 s spread for 1,000, so that the namenode's queue takes them in turn.
    keys.block_report_initial_delay = n >= 100 ? n / 100 : 0;
    // The leader holds a control connection per worker and its probes' and daemons' descriptors:
    // the usual soft limit of 1024 ends near 1,000 workers. Four per worker above the stock 1024
    // (raised up to the hard limit at start).
    keys.leader_open_files = 1024 + 4ull * n;
    return keys;
}

ScalingKeys scaling_keys(const Plan& plan) { return scaling_keys(plan.worker_count); }

std::string describe_scaling(const ScalingKeys& keys) {
    return fmt::format(
        "namenode handlers {} (20 ln N, 10..200), RPC backlog {} (one a datanode, >= 256), "
        "first block reports within {} s, leader descriptors >= {}",
        keys.namenode_handlers, keys.rpc_listen_queue, keys.block_report_initial_delay,
        keys.leader_open_files);
}

}  // namespace spark_slurm
