// `spark-slurm history [JOBID...]`: Spark's history server over finished (or running) jobs' event
// logs, on the machine it is run on (a login node), as the user, in the foreground.
//
// Which logs: history/event_logs.hpp finds each job's event-log directory (the leader's record in
// ~/.spark-slurm/history, --job-dir, or ./spark-slurm-JOBID). One directory is served as it is;
// several through a private directory of symbolic links, refreshed while the server runs.
// Everything the server needs — its 0600 properties file, that directory, its JVM's temporary
// directory and its log — lives in one 0700 directory under $TMPDIR that is removed when the
// command ends (by the janitor if the command is killed).
//
// The server listens on 127.0.0.1 only (SPARK_LOCAL_IP), on a free port or --port. Once
// /api/v1/applications answers, the URL and the ssh tunnel line are printed; SIGINT, SIGTERM or
// SIGHUP stop it. Spark comes from the host install (--spark-home, SPARK_HOME) or, when there is
// none, from --image through the container runtime.
#pragma once

#include <cstdint>
#include <string>

#include "common/job_environment.hpp"
#include "options/options.hpp"

namespace spark_slurm {

// The ssh line that makes a history server on `host`'s loopback `port` reachable from the
// user's machine at http://localhost:PORT/.
std::string ssh_tunnel_line(const std::string& host, std::uint16_t port);

// Returns the exit status: 0 after a stop by signal. Throws UsageError (nothing found, port
// taken, no Spark) and LaunchError (the server did not start or died).
int history_command(const Options& options, const JobEnvironment& environment);

}  // namespace spark_slurm
