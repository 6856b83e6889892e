// `spark-slurm down`: asks a cluster's launcher to stop it (SIGUSR2 to the launcher's step,
// which only the job's owner or an administrator may send), then waits until its record is gone
// or its job has ended.
#pragma once

#include "options/options.hpp"

namespace spark_slurm {

// 0 once the cluster has stopped; throws LaunchError when it is not the caller's, or when it
// has not stopped within --timeout.
int down_command(const Options& options);

}  // namespace spark_slurm
