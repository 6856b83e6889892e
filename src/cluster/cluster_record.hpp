// The connection record of a running cluster: what a client of the job's owner needs to use it
// from any shell (`spark-slurm env/status/list/down`), written by the leader once the cluster is
// ready and removed at its teardown.
//
// Where: $HOME/.spark-slurm/clusters/JOBID/ of the job's owner (the home directory from the
// password database, not $HOME, so that the login node and the compute nodes agree). The home is
// the one place every node and the login node share for a user and that no other user can
// write; the job dir may be anywhere (a project space, a group-writable scratch) and cannot be
// found again from a shell that only knows the job id. Every directory on the way is 0700 and
// every file 0600: the record holds the job's secrets.
//
// Layout of a record directory:
//   cluster.json            the ClusterRecord below (written last, atomically: it means "ready")
//   spark-conf/             spark-defaults.conf (master URL, RPC secret), for SPARK_CONF_DIR
//   hadoop-conf/            core-site.xml, hdfs-site.xml, for HADOOP_CONF_DIR (HDFS only)
//   connect-token           the Spark Connect token (Connect only)
//   ui-token                the web UIs' login token (`spark-slurm ui` makes the link of it)
//   connect-ca.pem          the certificate of the Connect TLS gateway, for the client to trust
//   client-env              NAME=VALUE lines a client's environment needs besides the conf dirs
//                           (with Kerberos: the owner's principal, keytab and krb5.conf option)
//   bin/                    classic spark-submit & co. without SPARK_REMOTE (with Connect)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spark_slurm {

struct ClusterRecord {
    int format = 1;
    std::uint32_t job_id = 0;
    std::uint32_t step_id = 0;  // the launcher's step: `down` signals it
    std::string user;
    std::string command;  // "up" or "run"
    std::vector<std::string> nodes;
    std::string leader_hostname;
    std::string leader_address;
    std::string master_url;        // spark://ADDR:PORT
    std::string master_webui_url;  // http://ADDR:PORT
    std::string hdfs_url;          // hdfs://ADDR:PORT, "" without HDFS
    std::string namenode_webui_url;
    // Spark Connect through the TLS gateway, "" without Connect. The token is not in here: it is
    // in connect-token. connect_url is "sc://ADDR:PORT/;use_ssl=true".
    std::string connect_url;
    std::uint16_t connect_port = 0;
    unsigned workers = 0;
    unsigned worker_cores = 0;
    std::uint64_t worker_memory_mib = 0;
    std::string runtime;        // "none", "apptainer", "singularity"
    std::string image;          // the Spark image, "" for a host install
    std::string spark_home;     // on the nodes (inside the image for a container runtime)
    std::string hadoop_home;    // likewise
    std::string job_dir;        // shared: the daemons' logs
    std::string state_dir;      // "" when ephemeral
    std::int64_t ready_at = 0;  // unix seconds
    std::int64_t end_time = 0;  // the allocation's end, unix seconds; 0 when unknown

    bool operator==(const ClusterRecord&) const = default;
};

// $HOME/.spark-slurm/clusters of the calling user (the home of user_account()). Throws
// LaunchError when the password database has no home for them.
std::string clusters_directory();
// clusters_directory()/JOBID
std::string record_directory(std::uint32_t job_id);

// The record as JSON text, and back. Parsing throws LaunchError naming the file on anything
// malformed or of another format.
std::string record_to_json(const ClusterRecord& record);
ClusterRecord record_from_json(const std::string& text, const std::string& origin);

}  // namespace spark_slurm

namespace spark_slurm {

// Creates clusters_directory() and its parents as needed, and the directory `path` under it,
// each with mode 0700; refuses (LaunchError naming the directory and the fix) one that another
// user owns or that group or others may write or read.
void make_private_directory(const std::string& path);

// Creates (or empties, for a requeued run of the same job) record_directory(job_id), 0700.
std::string prepare_record_directory(std::uint32_t job_id);

// Writes cluster.json into record_directory(record.job_id) — last, since it means "ready".
void publish_record(const ClusterRecord& record);

// The record of `job_id` of the calling user; nullopt when there is none.
std::optional<ClusterRecord> read_record(std::uint32_t job_id);

// Every record under clusters_directory(), oldest first; unreadable ones are skipped with a
// warning.
std::vector<ClusterRecord> read_all_records();

// The client-env lines of `record_dir` (empty when there is none); names that are not shell
// variable names are skipped.
std::vector<std::pair<std::string, std::string>> read_client_environment(
    const std::string& record_dir);

// A token file of `record_dir` (connect-token, ui-token), without its trailing line end; nullopt
// when there is none. Throws PrivateFileError when it is not the user's own private file.
std::optional<std::string> read_record_token(const std::string& record_dir,
                                             const std::string& name);

// The web UIs' login token of `record_dir` (read_record_token of ui-token); nullopt, with a
// warning, when it is not the user's own private file, and without when there is none (a record
// of an older launcher).
std::optional<std::string> read_ui_token(const std::string& record_dir);

// Removes record_directory(job_id) and everything in it; never throws.
void remove_record_directory(std::uint32_t job_id) noexcept;

}  // namespace spark_slurm

// The same, under an explicit clusters directory instead of the calling user's: the functions
// above call these with clusters_directory(). For the unit tests, which work in a temporary
// directory; a caller can only point them at directories it could write anyway, and the same
// ownership and permission checks apply. make_private_directory's chain of private directories
// starts at the parent of `clusters_dir` (for the real one, $HOME/.spark-slurm).
namespace spark_slurm::records_in {

std::string record_directory(const std::string& clusters_dir, std::uint32_t job_id);
void make_private_directory(const std::string& clusters_dir, const std::string& path);
std::string prepare_record_directory(const std::string& clusters_dir, std::uint32_t job_id);
void publish_record(const std::string& clusters_dir, const ClusterRecord& record);
std::optional<ClusterRecord> read_record(const std::string& clusters_dir, std::uint32_t job_id);
std::vector<ClusterRecord> read_all_records(const std::string& clusters_dir);
void remove_record_directory(const std::string& clusters_dir, std::uint32_t job_id) noexcept;

}  // namespace spark_slurm::records_in
