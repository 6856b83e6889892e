// What the leader tells its owner about a ready cluster, and takes back at teardown: the
// connection record (cluster/cluster_record.hpp) with the clients' configuration, the Spark
// Connect token and the gateway's certificate; the job's Slurm comment (addresses only: anyone
// can read it; the leader sets it through SlurmCalls, off its loop); and a banner in the job's
// output with what to type next. Nothing here talks to slurmctld.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/cluster_record.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {

// What the record says beyond the plan.
struct PublicationFacts {
    std::uint32_t step_id = 0;
    std::vector<std::string> nodes;
    std::string runtime;  // "none", "apptainer", "singularity"
    std::string image;
    std::string spark_home;
    std::string hadoop_home;
    std::string submit_host;  // SLURM_SUBMIT_HOST: the login node, for the ssh tunnel lines
};

// The files of the Connect TLS gateway: its certificate (also in the record, for clients to
// trust) and its private key (node-local, never in the record).
struct GatewayFiles {
    std::string certificate;
    std::string private_key;
};

class ClusterPublication {
  public:
    ClusterPublication(const Plan& plan, PublicationFacts facts);
    ~ClusterPublication();
    ClusterPublication(const ClusterPublication&) = delete;
    ClusterPublication& operator=(const ClusterPublication&) = delete;

    // Makes the record directory and a fresh TLS identity for the gateway. Throws LaunchError.
    GatewayFiles prepare_connect();

    // Once the cluster (and Connect) answers: the record and the banner. The job's end time is
    // not known yet (slurmctld may be slow to tell): see set_end_time. Throws LaunchError when
    // the record cannot be written.
    void publish();

    // Rewrites the record with the job's end (unix seconds), once slurmctld told it. Logs a
    // failure, never throws.
    void set_end_time(std::int64_t end_time) noexcept;

    // At teardown: the record goes. True when it had been published (the comment is then to be
    // changed). Never throws.
    bool withdraw() noexcept;

  private:
    const Plan& plan_;
    PublicationFacts facts_;
    std::string directory_;
    ClusterRecord record_;
    bool published_ = false;
};

// The tools a Connect-enabled record's bin/ wraps, and the wrapper of one: it runs the next
// TOOL on PATH without SPARK_REMOTE, which Spark 4's spark-submit refuses next to a master.
const std::vector<std::string>& wrapped_classic_tools();
std::string classic_tool_wrapper(const std::string& tool, std::uint32_t job_id);

// The comment `squeue -o %k` shows for a ready cluster: addresses only, never a secret.
std::string cluster_comment(const Plan& plan);
// The comment once the cluster stopped.
inline constexpr const char* kStoppedClusterComment = "spark-slurm: cluster stopped";

}  // namespace spark_slurm
