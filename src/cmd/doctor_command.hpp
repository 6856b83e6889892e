// `spark-slurm doctor`: checks what the launcher needs on this machine — Slurm reachable and its
// version, the PMIx/PMI2 MPI plugins, the requeue setting, the container runtime and whether
// unprivileged users can run it, the image's contract, the host's Java/Spark/Hadoop, the default
// ports, node-local scratch — and prints one line per check with what to fix. The checks
// themselves, output → result, are doctor/doctor_checks.hpp.
#pragma once

#include "common/job_environment.hpp"
#include "options/options.hpp"

namespace spark_slurm {

// doctor_command.cpp: runs every check, prints one line each to stdout; returns doctor_exit_code.
int doctor_command(const Options& options, const JobEnvironment& environment);

}  // namespace spark_slurm
