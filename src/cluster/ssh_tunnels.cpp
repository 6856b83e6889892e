#include "cluster/ssh_tunnels.hpp"

#include <fmt/format.h>

namespace spark_slurm {

namespace {

// "http://10.0.0.1:8080" -> "10.0.0.1:8080"; "" when there is no port.
std::string host_port(const std::string& url) {
    std::string rest = url;
    if (auto scheme = rest.find("://"); scheme != std::string::npos) rest = rest.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/;"));
    return rest.find(':') == std::string::npos ? "" : rest;
}

}  // namespace

bool on_loopback(const std::string& url) { return host_port(url).starts_with("127.0.0.1:"); }

std::string port_of(const std::string& url) {
    std::string address = host_port(url);
    return address.empty() ? "" : address.substr(address.rfind(':') + 1);
}

std::vector<SshTunnel> ssh_tunnels(const ClusterRecord& record) {
    std::vector<SshTunnel> tunnels;
    auto add = [&](const std::string& target, const std::string& port, const std::string& what) {
        if (target.empty() || port.empty()) return;
        tunnels.push_back(
            {port, target, fmt::format(fmt::runtime(what), port), on_loopback(target)});
    };
    add(host_port(record.master_webui_url), port_of(record.master_webui_url),
        "Spark master UI: http://localhost:{}");
    if (!record.hdfs_url.empty()) {
        // HTTPS with Kerberos (the job's own certificate).
        add(host_port(record.namenode_webui_url), port_of(record.namenode_webui_url),
            record.namenode_webui_url.starts_with("https://")
                ? "HDFS namenode UI: https://localhost:{}"
                : "HDFS namenode UI: http://localhost:{}");
    }
    if (!record.connect_url.empty() && record.connect_port != 0) {
        std::string port = std::to_string(record.connect_port);
        add(record.leader_address + ":" + port, port,
            "Spark Connect: sc://localhost:{}/;use_ssl=true;token=... (token and CA from "
            "'spark-slurm env')");
    }
    return tunnels;
}

std::vector<std::string> ssh_tunnel_commands(const std::vector<SshTunnel>& tunnels,
                                             const std::string& login_host,
                                             const std::string& leader_host) {
    std::vector<std::string> commands;
    for (const bool into_leader : {false, true}) {
        std::string forwards;
        for (const auto& tunnel : tunnels) {
            if (tunnel.into_leader == into_leader)
                forwards += " -L " + tunnel.port + ":" + tunnel.target;
        }
        if (forwards.empty()) continue;
        commands.push_back(into_leader ? "ssh -N -J " + login_host + forwards + " " + leader_host
                                       : "ssh -N" + forwards + " " + login_host);
    }
    return commands;
}

}  // namespace spark_slurm
