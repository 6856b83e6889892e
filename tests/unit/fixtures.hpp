// Synthetic clusters for the unit tests: what the rendezvous would have gathered from N nodes,
// the connection record of a running one, and the daemons' answers recorded from real ones.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cluster/cluster_record.hpp"
#include "common/sizes.hpp"
#include "plan/plan.hpp"

namespace spark_slurm::testing {

inline constexpr const char* kTestSecret = "0123456789abcdef";

// A new directory under the system's temporary directory, removed with everything in it when
// this goes.
class ScratchDirectory {
  public:
    explicit ScratchDirectory(const std::string& prefix) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp " + pattern + " failed");
        path_ = pattern;
    }
    ~ScratchDirectory() {
        std::error_code error;
        std::filesystem::remove_all(path_, error);
    }
    ScratchDirectory(const ScratchDirectory&) = delete;
    ScratchDirectory& operator=(const ScratchDirectory&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};
// A daemon's answer recorded from a real one (tests/data/recorded).
inline std::string recorded(const std::string& name) {
    std::ifstream file(std::string(SPARK_SLURM_TEST_DATA) + "/recorded/" + name);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// Node cnR+1 at 10.0.0.R+1 with the given resources, scratch under /tmp/spark-slurm-4242-R.
inline NodeReport synthetic_report(unsigned rank, NodeResources resources) {
    NodeReport report;
    report.rank = rank;
    report.hostname = "cn" + std::to_string(rank + 1);
    report.address = "10.0.0." + std::to_string(rank + 1);
    report.resources = resources;
    report.ports.control = 40000;
    report.ports.spark_worker = 40001;
    report.work_dir = "/tmp/spark-slurm-4242-" + std::to_string(rank);
    report.scratch_capacity = 500 * kGiB;
    return report;
}

// Job 4242 of alice on `nodes` identical nodes, `run` options at their defaults.
inline PlanInputs synthetic_inputs(unsigned nodes, NodeResources resources = {16, 64 * kGiB}) {
    PlanInputs inputs;
    inputs.options.command = Command::Run;
    inputs.job_id = 4242;
    inputs.job_dir = "/home/alice/spark-slurm-4242";
    inputs.secret = kTestSecret;
    for (unsigned rank = 0; rank < nodes; ++rank)
        inputs.nodes.push_back(synthetic_report(rank, resources));
    return inputs;
}

// Job 4242 of alice, ready at `ready_at` with 4 hours left: a host install (the Spark home's
// name has a space, for the quoting), HDFS and Spark Connect, leader node1 of node1..node3.
inline ClusterRecord sample_record(std::uint32_t job_id = 4242, std::int64_t ready_at = 1'000'000) {
    ClusterRecord record;
    record.job_id = job_id;
    record.user = "alice";
    record.command = "up";
    record.nodes = {"node1", "node2", "node3"};
    record.leader_hostname = "node1";
    record.leader_address = "10.213.77.11";
    record.master_url = "spark://10.213.77.11:7077";
    record.master_webui_url = "http://127.0.0.1:8080";
    record.hdfs_url = "hdfs://10.213.77.11:8020";
    record.namenode_webui_url = "http://10.213.77.11:9870";
    record.connect_url = "sc://10.213.77.11:15002/;use_ssl=true";
    record.connect_port = 15002;
    record.workers = 2;
    record.worker_cores = 16;
    record.worker_memory_mib = 65536;
    record.runtime = "none";
    record.spark_home = "/opt/spark dist";
    record.hadoop_home = "/opt/hadoop";
    record.job_dir = "/shared/alice/spark-slurm-4242";
    record.ready_at = ready_at;
    record.end_time = ready_at + 4 * 3600;
    return record;
}

}  // namespace spark_slurm::testing
