// `spark-slurm env`: the shell exports that point Spark and Hadoop clients on this machine (the
// login node) at a running cluster, for eval "$(spark-slurm env)".
//
// The pure part (what to export, and as shell text) takes data, so that the unit tests check the
// quoting and the choices without a cluster; env_command() finds the cluster and reads the
// files.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/cluster_record.hpp"
#include "options/options.hpp"

namespace spark_slurm {

// `text` as one word for a POSIX shell: bare when only harmless characters, else in single
// quotes (a quote inside written '\'').
std::string shell_quote(const std::string& text);

struct EnvInputs {
    ClusterRecord record;
    std::string record_dir;  // record_directory(job)
    std::string local_ip;    // this machine's address towards the leader; "" if unknown
    std::optional<std::string> connect_token;  // with Connect: connect-token's content
    bool spark_home_here = false;              // record.spark_home is a host install visible here
    std::string path;                          // this shell's PATH
    std::string ui_jars_dir;  // this machine's share/spark-slurm/ui (the UI login filter's jars)
    // The record's client-env (with Kerberos: KRB5PRINCIPAL, KRB5KEYTAB, HADOOP_OPTS...).
    std::vector<std::pair<std::string, std::string>> client_environment;
};

// One variable: a value to export, or nullopt to unset (so that switching clusters leaves
// nothing of the previous one's Connect or HDFS behind).
using EnvVariable = std::pair<std::string, std::optional<std::string>>;

std::vector<EnvVariable> env_variables(const EnvInputs& inputs);

// "export NAME=VALUE" / "unset NAME", one a line.
std::string format_exports(const std::vector<EnvVariable>& variables);

// Finds the cluster (--job, or the only one), prints its exports on stdout; 0, or throws.
int env_command(const Options& options);

}  // namespace spark_slurm
