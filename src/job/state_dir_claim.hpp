// A --state-dir serves one job at a time: its "owner" file names the job using it. The claim is
// made with O_EXCL (atomic on NFS and Lustre too), so two jobs starting on one state dir at once
// cannot both take it; a claim left by a job that has ended is moved aside by rename(), which
// only one of two racers can do to the same file, and the mover checks that what it moved was
// that stale claim, and puts it back otherwise. A requeued run (the same job id) finds its own
// claim and keeps it. (Three jobs taking over one stale claim in the same microseconds can still
// lose one of their claims: the third may create its own while the second's put-back is due.)
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "allocation/allocation.hpp"

namespace spark_slurm {

// job_activity() in a job; a stand-in in the unit tests.
using JobActivityLookup = std::function<JobActivity(std::uint32_t job_id)>;

// Claims `state_dir` (created if missing) for `job_id`. Throws UsageError naming the directory
// and the fix when another active job holds it, when slurmctld cannot tell whether the holder
// still runs (asked three times), or when the directory cannot be created or written.
void claim_state_dir(const std::string& state_dir, std::uint32_t job_id,
                     const JobActivityLookup& activity);

}  // namespace spark_slurm
