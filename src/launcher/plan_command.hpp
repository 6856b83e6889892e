// `spark-slurm plan`: what `run` would start, without starting anything.
#pragma once

#include "options/options.hpp"

namespace spark_slurm {

// Returns the exit status. Inside an allocation this takes part in the rendezvous like `run`.
int plan_command(const Options& options, const Environment& environment, int* argc, char*** argv);

// The preview for --nodes N: synthetic reports, no MPI, no Slurm.
std::string preview_plan_text(const Options& options, const Environment& environment);

}  // namespace spark_slurm
