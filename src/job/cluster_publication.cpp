#include "job/cluster_publication.hpp"

#include <fmt/format.h>

#include <ctime>
#include <filesystem>

#include "cluster/cluster_record.hpp"
#include "cluster/ssh_tunnels.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/user_account.hpp"
#include "connect/tls_certificate.hpp"
#include "network/network.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

std::string in(const std::string& directory, const std::string& name) {
    return (fs::path(directory) / name).string();
}

}  // namespace

const std::vector<std::string>& wrapped_classic_tools() {
    static const std::vector<std::string> tools{"spark-submit", "pyspark", "spark-sql",
                                                "spark-shell", "sparkR"};
    return tools;
}

std::string classic_tool_wrapper(const std::string& tool, std::uint32_t job_id) {
    return fmt::format(
        "#!/bin/sh\n"
        "# Written by spark-slurm for job {0}, put first on PATH by 'spark-slurm env'. "
        "SPARK_REMOTE\n"
        "# is for Spark Connect clients; {1} refuses it next to the job's master (in\n"
        "# SPARK_CONF_DIR), so the next {1} on PATH runs without it, as a classic application.\n"
        "unset SPARK_REMOTE\n"
        "here=${{0%/*}}\n"
        "rest=\n"
        "IFS=:\n"
        "for entry in $PATH; do\n"
        "    [ \"$entry\" = \"$here\" ] || rest=${{rest:+$rest:}}$entry\n"
        "done\n"
        "unset IFS\n"
        "PATH=$rest\n"
        "export PATH\n"
        "exec {1} \"$@\"\n",
        job_id, tool);
}

std::string cluster_comment(const Plan& plan) {
    // Not the master's web UI: it is on the leader's loopback (`spark-slurm status` says how in).
    std::string comment = fmt::format("spark-slurm: master {}", plan.master_url);
    if (plan.hdfs) comment += fmt::format(" hdfs {} ui {}", plan.hdfs_url, plan.namenode_webui_url);
    if (plan.connect) comment += fmt::format(" connect {}", plan.connect_url);
    return comment;
}

ClusterPublication::ClusterPublication(const Plan& plan, PublicationFacts facts)
    : plan_(plan), facts_(std::move(facts)) {}

ClusterPublication::~ClusterPublication() { withdraw(); }

GatewayFiles ClusterPublication::prepare_connect() {
    if (directory_.empty()) directory_ = prepare_record_directory(plan_.job_id);
    const NodePlan& leader = plan_.leader();
    // Clients reach the gateway by the leader's address or name, or through an ssh tunnel as
    // localhost: the certificate names all of them.
    std::vector<std::string> names{leader.hostname, "localhost"};
    std::vector<std::string> addresses{leader.address, "127.0.0.1"};
    TlsIdentity identity = make_self_signed_identity(names, addresses, std::chrono::hours(24 * 30));
    GatewayFiles files{in(directory_, "connect-ca.pem"),
                       in(leader.conf_dir, "connect-gateway.key")};
    write_private_file(files.certificate, identity.certificate_pem);
    write_private_file(files.private_key, identity.private_key_pem);
    return files;
}

void ClusterPublication::publish() {
    if (directory_.empty()) directory_ = prepare_record_directory(plan_.job_id);
    const ClientConfigFiles configs = render_client_configs(plan_);
    const std::string spark_conf = in(directory_, "spark-conf");
    make_private_directory(spark_conf);
    write_private_file(in(spark_conf, "spark-defaults.conf"), configs.spark_defaults);
    write_private_file(in(spark_conf, "spark-env.sh"), configs.spark_env);
    if (plan_.hdfs) {
        const std::string hadoop_conf = in(directory_, "hadoop-conf");
        make_private_directory(hadoop_conf);
        write_private_file(in(hadoop_conf, "core-site.xml"), configs.core_site);
        write_private_file(in(hadoop_conf, "hdfs-site.xml"), configs.hdfs_site);
    }
    // The web UIs' login link is made of it (`spark-slurm ui`).
    if (!plan_.ui_token.empty()) write_private_file(in(directory_, "ui-token"), plan_.ui_token);
    if (plan_.connect) {
        write_private_file(in(directory_, "connect-token"), plan_.connect_token);
        const std::string bin = in(directory_, "bin");
        make_private_directory(bin);
        for (const auto& tool : wrapped_classic_tools()) {
            const std::string wrapper = in(bin, tool);
            write_private_file(wrapper, classic_tool_wrapper(tool, plan_.job_id), 0700);
        }
    }
    if (!configs.environment.empty()) {
        // What `spark-slurm env` exports besides the conf dirs: one NAME=VALUE a line, unquoted
        // (with Kerberos: the owner's principal and keytab, and the realm's JVM option).
        std::string text;
        for (const auto& [name, value] : configs.environment) text += name + "=" + value + "\n";
        write_private_file(in(directory_, "client-env"), text);
    }

    ClusterRecord& record = record_;
    record.job_id = plan_.job_id;
    record.step_id = facts_.step_id;
    record.user = user_name_or_uid();
    record.command = plan_.interactive ? "up" : "run";
    record.nodes = facts_.nodes;
    record.leader_hostname = plan_.leader_hostname;
    record.leader_address = plan_.leader_address;
    record.master_url = plan_.master_url;
    record.master_webui_url = plan_.master_webui_url;
    record.hdfs_url = plan_.hdfs_url;
    record.namenode_webui_url = plan_.namenode_webui_url;
    record.connect_url = plan_.connect_url;
    record.connect_port = plan_.connect ? plan_.leader().ports.connect_gateway : 0;
    record.workers = plan_.worker_count;
    record.worker_cores = plan_.worker_cores;
    record.worker_memory_mib = plan_.worker_memory >> 20;
    record.runtime = facts_.runtime;
    record.image = facts_.image;
    record.spark_home = facts_.spark_home;
    record.hadoop_home = facts_.hadoop_home;
    record.job_dir = plan_.job_dir;
    record.state_dir = plan_.state_dir;
    record.ready_at = static_cast<std::int64_t>(std::time(nullptr));
    publish_record(record);
    published_ = true;

    const std::string login = facts_.submit_host.empty() ? "LOGIN_NODE" : facts_.submit_host;
    log::info("connection details in {} (readable by you only)", directory_);
    log::info("from a shell of yours: eval \"$(spark-slurm env --job {})\"", plan_.job_id);
    if (plan_.connect) {
        log::info("spark connect {} (token in {})", plan_.connect_url,
                  in(directory_, "connect-token"));
    }
    for (const auto& command :
         ssh_tunnel_commands(ssh_tunnels(record), login, plan_.leader_hostname))
        log::info("from a laptop: {}", command);
    if (plan_.interactive) log::info("stop it with: spark-slurm down --job {}", plan_.job_id);
}

void ClusterPublication::set_end_time(std::int64_t end_time) noexcept {
    if (!published_ || record_.end_time == end_time) return;
    record_.end_time = end_time;
    try {
        publish_record(record_);
    } catch (const std::exception& error) {
        log::warn("{}; spark-slurm status will not show the time left", error.what());
    }
}

bool ClusterPublication::withdraw() noexcept {
    if (directory_.empty()) return false;
    remove_record_directory(plan_.job_id);
    directory_.clear();
    const bool was_published = published_;
    published_ = false;
    return was_published;
}

}  // namespace spark_slurm
