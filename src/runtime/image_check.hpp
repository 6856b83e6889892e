// Whether a container image follows the contract (singularity/README.md: java on PATH, and
// SPARK_HOME/HADOOP_HOME with their launch scripts), checked on the leader before anything
// starts. It runs a fixed check through the runtime's own command line — the same binds,
// environment, --spark-home/--hadoop-home and sudo as the daemons get — so what it approves is
// what the daemons will see. Unlike the rest of runtime/, this runs a process.
#pragma once

#include <string>

#include "runtime/runtime.hpp"

namespace spark_slurm {

// The problem, naming the image and what it lacks, or "" when the image is fine (or no image
// is used).
std::string image_problem(const RuntimeSettings& settings, bool hdfs);

}  // namespace spark_slurm
