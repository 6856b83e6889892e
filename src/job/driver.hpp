// The user's driver: run on the leader once the cluster is ready, with the cluster's addresses in
// its environment (services.hpp's driver_invocation), through the same runtime as the daemons.
// It keeps the launcher's stdin, stdout and stderr (the job's output) and its own process group.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

// Throws LaunchError when the command cannot be started.
Process start_driver(const Plan& plan, const std::vector<std::string>& command,
                     const Runtime& runtime);

}  // namespace spark_slurm
