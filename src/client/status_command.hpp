// `spark-slurm status`: a running cluster as its daemons see it — workers, applications, HDFS —
// with the time left in the allocation, its addresses and the ssh tunnels to reach them.
//
// The pure part takes what was gathered (the record, the daemons' answers or their silence, the
// job's end) and makes text or JSON of it, so that the unit tests feed it recorded answers;
// status_command() gathers (libslurm, and libcurl with a 5 s timeout per daemon).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_record.hpp"
#include "options/options.hpp"
#include "probes/probes.hpp"

namespace spark_slurm {

struct ClusterStatus {
    ClusterRecord record;
    std::optional<SparkMasterState> master;  // nullopt: the master did not answer
    std::optional<NamenodeState> namenode;   // nullopt: no answer, or no HDFS
    std::optional<std::int64_t> end_time;    // the allocation's end (unix s); nullopt: unknown
    std::int64_t now = 0;                    // unix seconds
    std::string login_host;                  // this machine, as a laptop's ssh names it
    unsigned probe_timeout_seconds = 5;
};

// "1h 05m", "2d 3h", "4m 10s", "0s".
std::string format_duration(std::int64_t seconds);
// Bytes as "1.5 GiB", "48.0 KiB", "12 B".
std::string format_bytes(std::uint64_t bytes);

// The `ssh -N -L PORT:TARGET:PORT... LOGIN_HOST` line that forwards the master UI, the namenode
// UI (with HDFS) and Spark Connect (with Connect) through the login node — one line (issue 28);
// a second one, `ssh -N -J LOGIN_HOST ... LEADER`, only for what listens on the leader's
// loopback (with --wire-encryption on: the master's UI).
std::vector<std::string> tunnel_commands(const ClusterRecord& record,
                                         const std::string& login_host);
// The same commands, then a "# WHAT: URL" line for each forward.
std::vector<std::string> tunnel_lines(const ClusterRecord& record, const std::string& login_host);

std::string format_status_text(const ClusterStatus& status);
// One JSON object (see status_command.cpp for the fields); a daemon that did not answer is a
// string saying so in its fields.
std::string format_status_json(const ClusterStatus& status);

int status_command(const Options& options);

// `spark-slurm master-probe http://127.0.0.1:PORT` (hidden): prints the master's /json/ answer.
// `status` runs it on the leader through a step of the job (srun --overlap), because the master's
// web UI listens on the leader's loopback only.
inline constexpr const char* kMasterProbeCommandName = "master-probe";
int master_probe_command(const std::vector<std::string>& args);

}  // namespace spark_slurm
