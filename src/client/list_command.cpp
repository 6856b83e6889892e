// `spark-slurm list`: the running clusters from client/cluster_lookup, as a table or JSON.
#include "client/list_command.hpp"

#include <fmt/format.h>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/status_command.hpp"

namespace spark_slurm {

namespace {

using nlohmann::json;

std::string node_text(const RunningCluster& cluster) {
    std::string list = cluster.job.node_list;
    if (list.empty()) list = fmt::format("{}", fmt::join(cluster.record.nodes, ","));
    return fmt::format("{} ({})", cluster.record.nodes.size(), list);
}

std::int64_t end_of(const RunningCluster& cluster) {
    return cluster.job.end_time > 0 ? cluster.job.end_time : cluster.record.end_time;
}

}  // namespace

std::string format_cluster_list(const std::vector<RunningCluster>& clusters, std::int64_t now) {
    if (clusters.empty()) {
        return "No running clusters; start one with 'srun ... spark-slurm up' (see "
               "'spark-slurm up --help').\n";
    }
    std::vector<std::vector<std::string>> rows = {{"JOB", "NODES", "AGE", "LEFT", "MASTER"}};
    for (const auto& cluster : clusters) {
        std::int64_t end = end_of(cluster);
        rows.push_back({std::to_string(cluster.record.job_id), node_text(cluster),
                        format_duration(now - cluster.record.ready_at),
                        end > 0 ? format_duration(end - now) : "?", cluster.record.master_url});
    }
    std::vector<std::size_t> widths(rows.front().size(), 0);
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += i + 1 < row.size() ? fmt::format("{:<{}}  ", row[i], widths[i]) : row[i];
        }
        out += line + "\n";
    }
    return out;
}

std::string format_cluster_list_json(const std::vector<RunningCluster>& clusters,
                                     std::int64_t now) {
    json list = json::array();
    for (const auto& cluster : clusters) {
        std::int64_t end = end_of(cluster);
        list.push_back({
            {"job_id", cluster.record.job_id},
            {"nodes", cluster.record.nodes},
            {"node_count", cluster.record.nodes.size()},
            {"age_seconds", std::max<std::int64_t>(0, now - cluster.record.ready_at)},
            {"time_left_seconds",
             end > 0 ? json(std::max<std::int64_t>(0, end - now)) : json(nullptr)},
            {"master_url", cluster.record.master_url},
            {"master_webui_url", cluster.record.master_webui_url},
            {"hdfs_url",
             cluster.record.hdfs_url.empty() ? json(nullptr) : json(cluster.record.hdfs_url)},
            {"connect_url",
             cluster.record.connect_url.empty() ? json(nullptr) : json(cluster.record.connect_url)},
        });
    }
    return json{{"clusters", list}}.dump(2) + "\n";
}

int list_command(const Options& options) {
    SlurmLibrary slurm;
    auto clusters = running_clusters(slurm);
    auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::cout << (options.json ? format_cluster_list_json(clusters, now)
                               : format_cluster_list(clusters, now))
              << std::flush;
    return 0;
}

}  // namespace spark_slurm
