// Which cluster a client command (env, status, list, down) talks to: the caller's connection
// records (cluster_record.hpp) checked against what Slurm says about their jobs. A record whose
// job has ended is stale (a launcher killed before its teardown) and is removed on sight.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "allocation/allocation.hpp"
#include "cluster/cluster_record.hpp"

namespace spark_slurm {

struct RunningCluster {
    ClusterRecord record;
    JobFacts job;
};

// The messages, pure so that the unit tests pin them down.
std::string not_owner_message(std::uint32_t job_id, const std::string& owner);
std::string no_cluster_message(const std::string& clusters_dir);
std::string several_clusters_message(const std::vector<RunningCluster>& clusters);

// The caller's clusters whose jobs are running, oldest first. Records of jobs Slurm no longer
// knows or that have ended are removed, saying so on stderr; those of pending or suspended jobs
// are skipped. Throws LaunchError when Slurm cannot be reached.
std::vector<RunningCluster> running_clusters(const SlurmLibrary& slurm);

// The cluster `job_id` (a running job of the caller's with a record), or, without one, the
// caller's only running cluster. Throws LaunchError saying what is wrong and what to do: not the
// caller's job, no such job, not running, no record, no cluster or several.
RunningCluster find_cluster(const SlurmLibrary& slurm, std::optional<std::uint32_t> job_id);

}  // namespace spark_slurm
