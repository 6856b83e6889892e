// `spark-slurm plan`: what `run` would start, without starting anything.
#pragma once

#include "common/job_environment.hpp"
#include "options/options.hpp"

namespace spark_slurm {

// Returns the exit status. Inside an allocation this takes part in the rendezvous like `run` (a dry
// run of it: no daemon is started) and the leader prints the plan.
int plan_command(const Options& options, const JobEnvironment& environment, int* argc,
                 char*** argv);

}  // namespace spark_slurm
