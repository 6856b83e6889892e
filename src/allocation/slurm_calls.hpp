// Calls to slurmctld made off an event loop. A controller has bad minutes (a restart, an
// upgrade, a scheduling storm): a libslurm call then waits as long as slurmctld does, and a loop
// that made it would stop answering its peers — the leader's workers would hear no heartbeat.
// Each call runs on one helper thread, in the order submitted; its outcome comes back to the
// loop through a descriptor the loop polls, or as "no answer within N s" once its deadline
// passes first. An overdue call is left to finish on its own and what it returns is dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "allocation/allocation.hpp"

namespace spark_slurm {

class SlurmCalls {
  public:
    // The error of a call (its exception's message, or that it did not answer in time); nullopt
    // when it succeeded.
    using Done = std::function<void(const std::optional<std::string>& error)>;

    explicit SlurmCalls(const SlurmLibrary& slurm);
    // Waits a moment for a call in flight; a call stuck in slurmctld is left behind, and then
    // libslurm is not torn down at exit (slurm_fini under a running call would crash).
    ~SlurmCalls();
    SlurmCalls(const SlurmCalls&) = delete;
    SlurmCalls& operator=(const SlurmCalls&) = delete;

    // Readable when an outcome waits for collect().
    int fd() const;

    // Queues `call` (run on the helper thread: it may block; it must own what it touches) and
    // `done` (run on the loop's thread, by collect(), once `call` returned or `limit` passed).
    void submit(std::string what, std::function<void()> call, std::chrono::milliseconds limit,
                Done done);

    // Runs `done` for every call that finished or is overdue. On the loop's thread.
    void collect();

    // Calls submitted whose `done` has not run yet.
    std::size_t pending() const { return waiting_.size(); }

    // The earliest deadline among the pending calls, for the loop's poll timeout.
    std::optional<std::chrono::steady_clock::time_point> next_deadline() const;

  private:
    struct Shared;
    struct Waiting {
        std::string what;
        std::chrono::steady_clock::time_point deadline;
        std::chrono::milliseconds limit;
        Done done;
    };
    const SlurmLibrary& slurm_;
    std::shared_ptr<Shared> shared_;
    std::map<std::uint64_t, Waiting> waiting_;
    std::uint64_t next_id_ = 1;
};

}  // namespace spark_slurm
