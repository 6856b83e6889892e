// Finding the caller's cluster: records read from the home directory, jobs from libslurm.
#include "client/cluster_lookup.hpp"

#include <unistd.h>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace spark_slurm {

namespace {

constexpr const char* kStartHint =
    "start one with 'srun ... spark-slurm up' (see 'spark-slurm up --help')";

std::string job_list(const std::vector<RunningCluster>& clusters) {
    std::string text;
    for (const auto& cluster : clusters) {
        if (!text.empty()) text += ", ";
        text += std::to_string(cluster.record.job_id);
    }
    return text;
}

}  // namespace

std::string not_owner_message(std::uint32_t job_id, const std::string& owner) {
    return "job " + std::to_string(job_id) + " belongs to " + owner +
           "; a cluster's connection details are readable by its owner only";
}

std::string no_cluster_message(const std::string& clusters_dir) {
    return "you have no running cluster (no connection record of a running job under " +
           clusters_dir + "); " + kStartHint;
}

std::string several_clusters_message(const std::vector<RunningCluster>& clusters) {
    return "you have " + std::to_string(clusters.size()) + " running clusters (jobs " +
           job_list(clusters) + "); pick one with --job ID (see 'spark-slurm list')";
}

std::vector<RunningCluster> running_clusters(const SlurmLibrary& slurm) {
    std::vector<RunningCluster> running;
    for (auto& record : read_all_records()) {
        auto job = load_job(slurm, record.job_id);
        if (!job) {
            remove_record_directory(record.job_id);
            log::info("removed the connection record of job {}, which Slurm no longer knows",
                      record.job_id);
            continue;
        }
        if (job->user_id != ::getuid()) continue;  // a job id of another cluster, reused here
        if (job->ended) {
            remove_record_directory(record.job_id);
            log::info("removed the connection record of job {}, which has ended ({})",
                      record.job_id, job_state_name(job->state));
            continue;
        }
        if (!job->running) continue;
        running.push_back({std::move(record), std::move(*job)});
    }
    return running;
}

RunningCluster find_cluster(const SlurmLibrary& slurm, std::optional<std::uint32_t> job_id) {
    if (!job_id) {
        auto clusters = running_clusters(slurm);
        if (clusters.empty()) throw LaunchError(no_cluster_message(clusters_directory()));
        if (clusters.size() > 1) throw LaunchError(several_clusters_message(clusters));
        return std::move(clusters.front());
    }
    std::string id = std::to_string(*job_id);
    auto job = load_job(slurm, *job_id);
    if (job && job->user_id != ::getuid())
        throw LaunchError(not_owner_message(*job_id, job->user_name));
    if (!job) {
        remove_record_directory(*job_id);
        throw LaunchError("Slurm knows no job " + id + " (it may have ended a while ago); see " +
                          "your running clusters with 'spark-slurm list'");
    }
    if (!job->running) {
        if (job->ended) remove_record_directory(*job_id);
        throw LaunchError("job " + id + " is not running (it is " + job_state_name(job->state) +
                          "); see your running clusters with 'spark-slurm list'");
    }
    auto record = read_record(*job_id);
    if (!record) {
        throw LaunchError("job " + id +
                          " has no cluster connection record: it is not an interactive cluster, "
                          "or its cluster is not ready yet; " +
                          kStartHint);
    }
    return {std::move(*record), std::move(*job)};
}

}  // namespace spark_slurm
