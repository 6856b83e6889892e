// Synthetic clusters for the unit tests: what the rendezvous would have gathered from N nodes.
#pragma once

#include <string>

#include "common/sizes.hpp"
#include "plan/plan.hpp"

namespace spark_slurm::testing {

inline constexpr const char* kTestSecret = "0123456789abcdef";

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

}  // namespace spark_slurm::testing
