// The one moment all ranks talk through MPI: every rank reports its node to the leader (one
// gather), the leader plans, and the plan goes back to everyone (one broadcast). Both are
// collectives, so the cost grows with log(ranks); an unusually long report or plan adds a message
// or a second broadcast. MPI is finalized right after: collectives are not fault tolerant, and
// nothing later may wait on a peer without a deadline. The job's secret and Connect token are not
// in the broadcast, only their fingerprints: they go through the shared job dir (job_secrets.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {

// MPI_Init .. MPI_Finalize for the rendezvous only.
class MpiSession {
  public:
    MpiSession(int* argc, char*** argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    unsigned rank() const { return rank_; }
    unsigned size() const { return size_; }
    void finalize();

  private:
    unsigned rank_ = 0;
    unsigned size_ = 1;
    bool finalized_ = false;
};

// Gathers every rank's report on rank 0, calls `plan_on_leader` there, writes the plan's secrets
// to the job dir and broadcasts the rest of the plan; the other ranks read the secrets back and
// check them (a LaunchError naming the file and the fix when they cannot). A UsageError or
// LaunchError thrown by `plan_on_leader` (or while writing the secrets) is rethrown on rank 0 and
// turns into PeerFailed on the others. If the exchange has not finished by `deadline` (a rank died
// or never started), the process reports that and exits.
//
// `plan`'s dry run starts nothing, so it has no secret to hand out and writes no file (its job
// dir may be node-local): every rank's plan holds the same placeholder, kDryRunSecret, which
// protects nothing and is never used, so that each rank prints the plan the leader made.
enum class SecretDelivery { SharedFiles, DryRunPlaceholder };
inline constexpr const char* kDryRunSecret = "dry run: no secret";
Plan rendezvous(MpiSession& mpi, const NodeReport& mine,
                const std::function<Plan(std::vector<NodeReport>)>& plan_on_leader,
                std::chrono::seconds deadline,
                SecretDelivery delivery = SecretDelivery::SharedFiles);

}  // namespace spark_slurm
