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

// probe_local_node for the rendezvous: a mistake the user can fix is carried in the report's
// `problem` (the leader then stops every rank with one message) instead of ending this rank
// alone, which would leave the others waiting in the rendezvous.
NodeReport report_for_rendezvous(const Options& options, std::uint32_t job_id, unsigned rank,
                                 const Environment& environment);

// On the leader, with every rank's report: refuses on any rank's problem, else plans the cluster
// with a fresh per-job secret.
Plan plan_on_leader(const Options& options, const Allocation& allocation,
                    std::vector<NodeReport> reports);

// 256 bits from the kernel's CSPRNG, hex encoded.
std::string generate_secret();

// The shared directory for logs: --job-dir, else $SLURM_SUBMIT_DIR/spark-slurm-JOBID.
std::string default_job_dir(const Options& options, const Allocation& allocation);

}  // namespace spark_slurm
