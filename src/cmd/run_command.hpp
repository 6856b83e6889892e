// `spark-slurm run`: one launcher per node. After the rendezvous, rank 0 (the leader) starts the
// Spark master and HDFS namenode, tells the workers to start their Spark worker and datanode,
// waits until the master and namenode show every planned worker (real signals, one deadline),
// runs the driver, and tears everything down on every path: driver exit, a signal from Slurm, a
// failed start, a lost peer.
#pragma once

#include "common/job_environment.hpp"
#include "options/options.hpp"

namespace spark_slurm {

// Returns the exit status: the driver's on the leader, 0 for a worker after a clean teardown.
int run_command(const Options& options, const JobEnvironment& environment, int* argc, char*** argv);

}  // namespace spark_slurm
