// How the job's secret and Spark Connect token reach the ranks: through the shared filesystem,
// never the network. The leader writes them to 0600 files in the job's credentials directory
// (<job dir>/credentials, 0700, where the Kerberos keytabs are too); the MPI broadcast of the plan
// carries only their fingerprints (plan_json.hpp); every other rank reads the files and checks
// them against the fingerprints. Before this the broadcast carried both in clear, which defeated
// --wire-encryption on (issue 27).
#pragma once

#include <string>

#include "plan/plan.hpp"

namespace spark_slurm {

struct JobSecretFiles {
    std::string directory;      // <job dir>/credentials
    std::string secret;         // <directory>/job-secret
    std::string connect_token;  // <directory>/connect-token
    std::string ui_token;       // <directory>/ui-token: read by the web UIs' filter itself
};
JobSecretFiles job_secret_files(const Plan& plan);

// On the leader, before the broadcast: writes plan.secret, plan.ui_token, and with Connect
// plan.connect_token,
// to their files (0600, synced, so that another node that opens them after the broadcast reads
// this run's), making the directory 0700 if needed. Refuses a directory or file that is not the
// user's own or is a symbolic link. Throws LaunchError naming the path and the fix.
void write_job_secrets(const Plan& plan);

// On every other rank, after the broadcast: reads the files into plan.secret (and, with
// Connect, plan.connect_token) and checks each against the fingerprint the leader broadcast.
// Throws LaunchError naming the path and the fix when a file cannot be read, is not private
// (owned by another user, or readable by others) or does not match.
void read_job_secrets(Plan& plan, const std::string& secret_fingerprint,
                      const std::string& connect_token_fingerprint);

}  // namespace spark_slurm
