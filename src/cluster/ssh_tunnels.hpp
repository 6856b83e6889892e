// The ssh tunnels that reach a running cluster from a laptop through the login node: the Spark
// master's web UI, the namenode's (with HDFS) and Spark Connect (with Connect). Each forwards
// localhost:PORT on the laptop to the same port on the leader. The leader's banner prints them as
// one command, `spark-slurm status` as one line each with what it gives.
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_record.hpp"

namespace spark_slurm {

struct SshTunnel {
    std::string port;    // the same on the laptop's localhost and on the leader
    std::string target;  // ADDRESS:PORT of the leader, as the login node reaches it
    std::string what;    // what localhost:PORT then gives: "Spark master UI: http://localhost:8080"
};

// The record's tunnels: the master UI's, the namenode UI's and Spark Connect's, in that order;
// those the cluster does not have (or whose URL names no port) are left out.
std::vector<SshTunnel> ssh_tunnels(const ClusterRecord& record);

// "ssh -N -L PORT:TARGET [-L PORT:TARGET ...] LOGIN_HOST": one command for every tunnel given.
std::string ssh_tunnel_command(const std::vector<SshTunnel>& tunnels,
                               const std::string& login_host);

// "http://10.0.0.1:8080" -> "8080", "sc://10.0.0.1:15002/;use_ssl=true" -> "15002"; "" when the
// URL names no port.
std::string port_of(const std::string& url);

}  // namespace spark_slurm
