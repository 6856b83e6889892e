// Builds this rank's report for the rendezvous, and the per-job secret on the leader.
#pragma once

#include <string>

#include "allocation/allocation.hpp"
#include "common/job_environment.hpp"
#include "network/network.hpp"
#include "options/options.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {

// Probes this node: hostname and address, cores and memory, free ports, and the capacity of the
// filesystem for HDFS data. None of it depends on the rank, so every rank probes before MPI_Init
// and no rank then waits, spinning in MPI, for another that is still probing.
// The ports it reports are claimed in `claims`, which the caller holds for the job's lifetime.
NodeReport probe_local_node(const Options& options, const JobEnvironment& environment,
                            PortClaims& claims);

// The rank's part, once MPI has told it: the node-local work dir, and on rank 0 --leader-ip
// (checked to be an address of this node).
void assign_rank(NodeReport& report, const Options& options, std::uint32_t job_id, unsigned rank,
                 const JobEnvironment& environment);

// The two above for the rendezvous: a mistake the user can fix is carried in the report's
// `problem` (the leader then stops every rank with one message) instead of ending this rank
// alone, which would leave the others waiting in the rendezvous.
NodeReport report_for_rendezvous(const Options& options, const JobEnvironment& environment,
                                 PortClaims& claims);
void assign_rank_for_rendezvous(NodeReport& report, const Options& options, std::uint32_t job_id,
                                unsigned rank, const JobEnvironment& environment);

// On the leader, with every rank's report: refuses on any rank's problem, else plans the cluster
// with a fresh per-job secret. `requeueable` is the job's flag, which the leader alone asks
// slurmctld for; the workers learn it from the plan.
Plan plan_on_leader(const Options& options, const Allocation& allocation, bool requeueable,
                    std::vector<NodeReport> reports);

// 256 bits from the kernel's CSPRNG, hex encoded.
std::string generate_secret();

// The shared directory for logs: --job-dir, else $SLURM_SUBMIT_DIR/spark-slurm-JOBID.
std::string default_job_dir(const Options& options, const Allocation& allocation);

}  // namespace spark_slurm
