// `spark-slurm list`: the caller's running clusters, one line each (or JSON). The formatting is
// pure (the clusters and the time in, text out) for the unit tests; list_command() asks Slurm.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/cluster_lookup.hpp"
#include "options/options.hpp"

namespace spark_slurm {

// A table: JOB NODES AGE LEFT MASTER, or a line saying there is none and how to start one.
std::string format_cluster_list(const std::vector<RunningCluster>& clusters, std::int64_t now);
// {"clusters": [{job_id, nodes, node_count, age_seconds, time_left_seconds, master_url, ...}]}
std::string format_cluster_list_json(const std::vector<RunningCluster>& clusters, std::int64_t now);

int list_command(const Options& options);

}  // namespace spark_slurm
