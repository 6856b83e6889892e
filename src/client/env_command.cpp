// `spark-slurm env`: the record of the cluster, this machine's address towards its leader, the
// Connect token, and the exports made from them.
#include "client/env_command.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include "allocation/allocation.hpp"
#include "client/cluster_lookup.hpp"
#include "common/errors.hpp"
#include "common/ui_login.hpp"
#include "network/network.hpp"

namespace spark_slurm {

namespace {

bool harmless(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
}

}  // namespace

std::string shell_quote(const std::string& text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), harmless)) return text;
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

std::vector<EnvVariable> env_variables(const EnvInputs& inputs) {
    const ClusterRecord& record = inputs.record;
    std::vector<EnvVariable> variables;
    auto set = [&](const char* name, std::string value) {
        variables.emplace_back(name, std::move(value));
    };
    auto unset = [&](const char* name) { variables.emplace_back(name, std::nullopt); };

    set("SPARK_SLURM_JOB_ID", std::to_string(record.job_id));
    set("SPARK_MASTER_URL", record.master_url);
    set("SPARK_CONF_DIR", inputs.record_dir + "/spark-conf");
    if (record.hdfs_url.empty()) {
        unset("HDFS_URL");
        unset("HADOOP_CONF_DIR");
    } else {
        set("HDFS_URL", record.hdfs_url);
        set("HADOOP_CONF_DIR", inputs.record_dir + "/hadoop-conf");
    }
    // The job's spark-env.sh puts the UI login filter of this install on the class path.
    if (!inputs.ui_jars_dir.empty()) set(kUiJarsVariable, inputs.ui_jars_dir);
    // A driver started here: its RPC on this machine's address towards the cluster (Spark's
    // spark.driver.host defaults to SPARK_LOCAL_HOSTNAME), its web UI on the loopback (Spark's
    // UIs bind SPARK_LOCAL_IP), as on the cluster's nodes: the login node's other users do not
    // reach it, and the filter asks the owner for the job's token.
    if (inputs.local_ip.empty()) {
        unset("SPARK_LOCAL_IP");
        unset("SPARK_LOCAL_HOSTNAME");
    } else {
        set("SPARK_LOCAL_IP", std::string(kWebUiAddress));
        set("SPARK_LOCAL_HOSTNAME", inputs.local_ip);
    }
    if (!record.connect_url.empty() && inputs.connect_token) {
        set("SPARK_REMOTE", record.connect_url + ";token=" + *inputs.connect_token);
        set("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", inputs.record_dir + "/connect-ca.pem");
    } else {
        unset("SPARK_REMOTE");
        unset("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH");
    }
    // Each directory goes first, once: evaluating the exports again leaves PATH as it was.
    for (const auto& [name, value] : inputs.client_environment) set(name.c_str(), value);
    std::string path = inputs.path;
    bool path_changed = false;
    auto prepend = [&](const std::string& bin) {
        std::string rest;
        std::istringstream entries(path);
        for (std::string entry; std::getline(entries, entry, ':');) {
            if (entry != bin) rest += (rest.empty() ? "" : ":") + entry;
        }
        path = rest.empty() ? bin : bin + ":" + rest;
        path_changed = true;
    };
    if (inputs.spark_home_here) {
        set("SPARK_HOME", record.spark_home);
        prepend(record.spark_home + "/bin");
    }
    // With SPARK_REMOTE set, Spark 4's spark-submit, pyspark and spark-sql refuse the job's master
    // ("Remote cannot be specified with master"): the record's bin/ has wrappers that run them
    // without it, as classic applications of the job's master. Connect clients keep it.
    if (!record.connect_url.empty() && inputs.connect_token) prepend(inputs.record_dir + "/bin");
    if (path_changed) set("PATH", path);
    return variables;
}

std::string format_exports(const std::vector<EnvVariable>& variables) {
    std::string text;
    for (const auto& [name, value] : variables) {
        if (value) {
            text += "export " + name + "=" + shell_quote(*value) + "\n";
        } else {
            text += "unset " + name + "\n";
        }
    }
    return text;
}

int env_command(const Options& options) {
    SlurmLibrary slurm;
    RunningCluster cluster = find_cluster(slurm, options.job_id);
    EnvInputs inputs;
    inputs.record = cluster.record;
    inputs.record_dir = record_directory(cluster.record.job_id);
    inputs.local_ip = local_address_towards(cluster.record.leader_address);
    if (!cluster.record.connect_url.empty()) {
        inputs.connect_token = read_record_token(inputs.record_dir, "connect-token");
        if (!inputs.connect_token) {
            throw LaunchError("cannot read the Spark Connect token " + inputs.record_dir +
                              "/connect-token of job " + std::to_string(cluster.record.job_id) +
                              "; the cluster's record is incomplete: restart the cluster");
        }
    }
    std::error_code error;
    inputs.spark_home_here =
        cluster.record.runtime == "none" && !cluster.record.spark_home.empty() &&
        std::filesystem::is_directory(cluster.record.spark_home + "/bin", error);
    if (const char* path = std::getenv("PATH")) inputs.path = path;
    inputs.ui_jars_dir = ui_login_jars_dir();
    inputs.client_environment = read_client_environment(inputs.record_dir);
    std::cout << format_exports(env_variables(inputs)) << std::flush;
    return 0;
}

}  // namespace spark_slurm
