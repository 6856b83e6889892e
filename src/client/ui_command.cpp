// `spark-slurm ui`: see ui_command.hpp.
#include "client/ui_command.hpp"

#include <fmt/format.h>

#include <iostream>

#include "allocation/allocation.hpp"
#include "client/cluster_lookup.hpp"
#include "client/status_command.hpp"
#include "cluster/ssh_tunnels.hpp"
#include "common/errors.hpp"
#include "common/ui_login.hpp"
#include "network/network.hpp"

namespace spark_slurm {

std::string ui_login_link(const std::string& webui_url, const std::string& ui_token) {
    const std::string port = port_of(webui_url);
    if (port.empty()) return "";
    const std::string scheme = webui_url.starts_with("https://") ? "https" : "http";
    return fmt::format("{}://localhost:{}/?{}={}", scheme, port, kUiLoginParameter, ui_token);
}

std::string format_ui_text(const ClusterRecord& record, const std::string& ui_token,
                           const std::string& login_host) {
    std::string text = fmt::format(
        "The web UIs of job {} answer you alone: open a link below once per browser (it logs\n"
        "the browser in with a cookie and drops the token from the address).\n\n",
        record.job_id);
    const auto tunnels = tunnel_lines(record, login_host);
    if (!tunnels.empty()) {
        text += "From your machine, the tunnels first:\n";
        for (const auto& line : tunnels) text += "  " + line + "\n";
        text += "\n";
    }
    text += "Then open:\n";
    auto link = [&](const char* what, const std::string& url) {
        if (const std::string login = ui_login_link(url, ui_token); !login.empty())
            text += fmt::format("  {:<18}{}\n", what, login);
    };
    link("Spark master UI", record.master_webui_url);
    if (!record.hdfs_url.empty()) link("HDFS namenode UI", record.namenode_webui_url);
    text += fmt::format(
        "\nThe master's page links to the workers' and applications' UIs, which want the same\n"
        "login. Programs send the token as a header instead: \"{}: TOKEN\".\n",
        kUiTokenHeader);
    return text;
}

int ui_command(const Options& options) {
    SlurmLibrary slurm;
    RunningCluster cluster = find_cluster(slurm, options.job_id);
    const std::string record_dir = record_directory(cluster.record.job_id);
    auto token = read_ui_token(record_dir);
    if (!token) {
        throw LaunchError(fmt::format(
            "job {} has no web UI token in {}/ui-token: it was started by a spark-slurm without "
            "the UI login; restart the cluster with this one",
            cluster.record.job_id, record_dir));
    }
    std::cout << format_ui_text(cluster.record, *token, canonical_hostname()) << std::flush;
    return 0;
}

}  // namespace spark_slurm
