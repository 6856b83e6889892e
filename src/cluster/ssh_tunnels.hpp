// The ssh tunnels that reach a running cluster from a laptop: the Spark master's web UI (on the
// leader's loopback: through the leader node), the namenode's (with HDFS) and Spark Connect
// (with Connect; both through the login node). Each forwards localhost:PORT on the laptop to the
// same port on the leader. The leader's banner prints them as one command per way in,
// `spark-slurm status` as one line each with what it gives.
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_record.hpp"

namespace spark_slurm {

struct SshTunnel {
    std::string port;    // the same on the laptop's localhost and on the leader
    std::string target;  // ADDRESS:PORT, as the ssh server reaches it
    std::string what;    // what localhost:PORT then gives: "Spark master UI: http://localhost:8080"
    // On the leader's loopback (Spark's web UIs): reached by ssh into the leader node itself,
    // jumping through the login node, which needs ssh access to the job's nodes.
    bool into_leader = false;
};

// The record's tunnels: the master UI's, the namenode UI's and Spark Connect's, in that order;
// those the cluster does not have (or whose URL names no port) are left out.
std::vector<SshTunnel> ssh_tunnels(const ClusterRecord& record);

// One command per way in, for every tunnel given: "ssh -N -L PORT:TARGET ... LOGIN_HOST" for
// those the login node reaches, then "ssh -N -J LOGIN_HOST -L PORT:TARGET ... LEADER_HOST" for
// those on the leader's loopback.
std::vector<std::string> ssh_tunnel_commands(const std::vector<SshTunnel>& tunnels,
                                             const std::string& login_host,
                                             const std::string& leader_host);

// True for a URL on the IPv4 loopback ("http://127.0.0.1:8080"): on the leader's, for a record.
bool on_loopback(const std::string& url);

// "http://10.0.0.1:8080" -> "8080", "sc://10.0.0.1:15002/;use_ssl=true" -> "15002"; "" when the
// URL names no port.
std::string port_of(const std::string& url);

}  // namespace spark_slurm
