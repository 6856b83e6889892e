// Builds this rank's report for the rendezvous, and the per-job secret on the leader.
#pragma once

#include <string>

#include "allocation/allocation.hpp"
#include "options/options.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {

// Probes this node: hostname and address (or --leader-ip on rank 0, checked to be ours),
// cores and memory, free ports, the node-local work dir and the HDFS filesystem's capacity.
NodeReport probe_local_node(const Options& options, std::uint32_t job_id, unsigned rank,
                            const Environment& environment);

// 256 bits from the kernel's CSPRNG, hex encoded.
std::string generate_secret();

// The shared directory for logs: --job-dir, else $SLURM_SUBMIT_DIR/spark-slurm-JOBID.
std::string default_job_dir(const Options& options, const Allocation& allocation);

}  // namespace spark_slurm
