// `spark-slurm status`: gathers the job's end from libslurm and the daemons' state from their
// HTTP endpoints (in parallel, 5 s each), then prints text or JSON.
#include "client/status_command.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>

#include "allocation/allocation.hpp"
#include "client/cluster_lookup.hpp"
#include "cluster/cluster_record.hpp"
#include "cluster/ssh_tunnels.hpp"
#include "common/errors.hpp"
#include "common/files.hpp"
#include "network/network.hpp"
#include "options/options.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

namespace {

using nlohmann::json;

constexpr unsigned kProbeTimeoutSeconds = 5;

std::string no_answer(const std::string& what, const std::string& url, unsigned seconds) {
    return fmt::format("no answer from the {} at {} within {} s", what, url, seconds);
}

bool on_leader_loopback(const ClusterRecord& record) {
    return on_loopback(record.master_webui_url);
}

// The master's UI is on the leader's loopback: name the node with it.
std::string master_json_where(const ClusterRecord& record) {
    return record.master_webui_url + "/json/" +
           (on_leader_loopback(record) ? " on " + record.leader_hostname : "");
}

std::optional<std::int64_t> time_left(const ClusterStatus& status) {
    if (!status.end_time || *status.end_time <= 0) return std::nullopt;
    return std::max<std::int64_t>(0, *status.end_time - status.now);
}

}  // namespace

std::string format_duration(std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    std::int64_t days = seconds / 86400, hours = seconds % 86400 / 3600,
                 minutes = seconds % 3600 / 60, secs = seconds % 60;
    if (days > 0) return fmt::format("{}d {}h", days, hours);
    if (hours > 0) return fmt::format("{}h {:02}m", hours, minutes);
    if (minutes > 0) return fmt::format("{}m {:02}s", minutes, secs);
    return fmt::format("{}s", secs);
}

std::string format_bytes(std::uint64_t bytes) {
    static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) return fmt::format("{} B", bytes);
    double value = static_cast<double>(bytes) / 1024;
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::vector<std::string> tunnel_commands(const ClusterRecord& record,
                                         const std::string& login_host) {
    return ssh_tunnel_commands(ssh_tunnels(record), login_host, record.leader_hostname);
}

std::vector<std::string> tunnel_lines(const ClusterRecord& record, const std::string& login_host) {
    const auto tunnels = ssh_tunnels(record);
    std::vector<std::string> lines =
        ssh_tunnel_commands(tunnels, login_host, record.leader_hostname);
    for (const auto& tunnel : tunnels) lines.push_back("# " + tunnel.what);
    return lines;
}

std::string format_status_text(const ClusterStatus& status) {
    const ClusterRecord& record = status.record;
    std::string out;
    auto line = [&](const std::string& text) { out += text + "\n"; };
    std::string left =
        time_left(status) ? format_duration(*time_left(status)) + " left" : "time left unknown";
    line(fmt::format("Cluster of job {} ({}), up {}, {}", record.job_id, record.user,
                     format_duration(status.now - record.ready_at), left));
    line(fmt::format("  nodes         {}", fmt::join(record.nodes, ",")));
    line(fmt::format("Spark master    {}", record.master_url));
    line(fmt::format("  web UI        {}{}", record.master_webui_url,
                     on_leader_loopback(record)
                         ? " on " + record.leader_hostname + " only (tunnel below)"
                         : ""));
    if (!status.master) {
        line("  workers       " +
             no_answer("Spark master", master_json_where(record), status.probe_timeout_seconds));
    } else {
        const auto& master = *status.master;
        line(fmt::format("  status        {}", master.status));
        line(fmt::format("  workers       {} alive of {} started", master.alive_workers(),
                         record.workers));
        for (const auto& worker : master.workers) {
            line(fmt::format("    {:<20} {} cores, {} MiB, {}", worker.host, worker.cores,
                             worker.memory_mib, worker.state));
        }
        line(fmt::format("  applications  {} running, {} completed", master.active_apps,
                         master.completed_apps));
    }
    if (record.hdfs_url.empty()) {
        line("HDFS            none (started with --no-hdfs)");
    } else {
        line(fmt::format("HDFS            {}", record.hdfs_url));
        line(fmt::format("  web UI        {}", record.namenode_webui_url));
        if (!status.namenode) {
            line("  datanodes     " + no_answer("HDFS namenode", record.namenode_webui_url + "/jmx",
                                                status.probe_timeout_seconds));
        } else {
            const auto& namenode = *status.namenode;
            line(fmt::format("  datanodes     {} live, {} dead{}", namenode.live_datanodes,
                             namenode.dead_datanodes,
                             namenode.in_safe_mode() ? " (safe mode)" : ""));
            line(fmt::format("  capacity      {} used of {}", format_bytes(namenode.capacity_used),
                             format_bytes(namenode.capacity_total)));
        }
    }
    line("Spark Connect   " +
         (record.connect_url.empty() ? std::string("off") : record.connect_url));
    line("Logs            " + record.job_dir);
    auto tunnels = tunnel_lines(record, status.login_host);
    if (!tunnels.empty()) {
        line("From a laptop, through this login node:");
        for (const auto& tunnel : tunnels) line("  " + tunnel);
    }
    return out;
}

std::string format_status_json(const ClusterStatus& status) {
    const ClusterRecord& record = status.record;
    json document = {
        {"job_id", record.job_id},
        {"user", record.user},
        {"nodes", record.nodes},
        {"leader_hostname", record.leader_hostname},
        {"master_url", record.master_url},
        {"master_webui_url", record.master_webui_url},
        {"hdfs_url", record.hdfs_url.empty() ? json(nullptr) : json(record.hdfs_url)},
        {"namenode_webui_url",
         record.hdfs_url.empty() ? json(nullptr) : json(record.namenode_webui_url)},
        {"connect_url", record.connect_url.empty() ? json(nullptr) : json(record.connect_url)},
        {"ready_at", record.ready_at},
        {"job_dir", record.job_dir},
    };
    if (auto left = time_left(status)) {
        document["time_left_seconds"] = *left;
    } else {
        document["time_left_seconds"] = nullptr;
    }
    if (status.master) {
        json workers = json::array();
        for (const auto& worker : status.master->workers) {
            workers.push_back({{"host", worker.host},
                               {"cores", worker.cores},
                               {"memory_mib", worker.memory_mib},
                               {"state", worker.state}});
        }
        document["master_status"] = status.master->status;
        document["workers"] = workers;
        document["applications"] = {{"running", status.master->active_apps},
                                    {"completed", status.master->completed_apps}};
    } else {
        std::string silent =
            no_answer("Spark master", master_json_where(record), status.probe_timeout_seconds);
        document["master_status"] = silent;
        document["workers"] = silent;
        document["applications"] = silent;
    }
    if (record.hdfs_url.empty()) {
        document["datanodes_live"] = nullptr;
        document["hdfs_capacity_used"] = nullptr;
        document["hdfs_capacity_total"] = nullptr;
    } else if (status.namenode) {
        document["datanodes_live"] = status.namenode->live_datanodes;
        document["hdfs_capacity_used"] = status.namenode->capacity_used;
        document["hdfs_capacity_total"] = status.namenode->capacity_total;
    } else {
        std::string silent = no_answer("HDFS namenode", record.namenode_webui_url + "/jmx",
                                       status.probe_timeout_seconds);
        document["datanodes_live"] = silent;
        document["hdfs_capacity_used"] = silent;
        document["hdfs_capacity_total"] = silent;
    }
    document["tunnels"] = tunnel_commands(record, status.login_host);
    return document.dump(2) + "\n";
}

namespace {

// What a short command run for status printed, parsed; nullopt when it cannot be run (no hdfs or
// srun here), fails or prints something else: reported as a daemon that did not answer.
template <typename Parse>
auto answer_of(const SpawnRequest& request, const std::string& label, std::chrono::seconds timeout,
               Parse parse) -> decltype(parse(std::string())) {
    try {
        auto run = run_captured(request, label, timeout, 1 << 20);
        if (run.status != 0) return std::nullopt;
        return parse(run.output);
    } catch (const LaunchError&) {
        return std::nullopt;
    }
}

// With Kerberos the namenode's web endpoints want SPNEGO: ask it over RPC instead, as the owner
// (`hdfs dfsadmin -report -live` with the record's client environment), when an hdfs is here.
std::optional<NamenodeState> report_through_dfsadmin(const ClusterRecord& record,
                                                     std::chrono::seconds timeout) {
    const std::string record_dir = record_directory(record.job_id);
    auto client_environment = read_client_environment(record_dir);
    if (client_environment.empty()) return std::nullopt;
    SpawnRequest request;
    request.environment = current_environment();
    for (const auto& [name, value] : client_environment) request.environment[name] = value;
    request.environment["HADOOP_CONF_DIR"] = record_dir + "/hadoop-conf";
    std::error_code error;
    const std::string host_hdfs = record.hadoop_home + "/bin/hdfs";
    const bool here = record.runtime == "none" && !record.hadoop_home.empty() &&
                      std::filesystem::exists(host_hdfs, error);
    request.argv = {here ? host_hdfs : "hdfs", "dfsadmin", "-report", "-live"};
    return answer_of(request, "hdfs dfsadmin -report", timeout, parse_dfsadmin_report);
}

// From another machine than the leader, the master's UI (on the leader's loopback) is asked
// through a step of the job on the leader, run by this same program: the job's own resources,
// nothing opened to the network.
std::optional<SparkMasterState> probe_master_on_leader(const ClusterRecord& record,
                                                       std::chrono::seconds timeout) {
    const auto self = own_executable_path();
    if (!self || record.leader_hostname.empty()) return std::nullopt;
    SpawnRequest request;
    request.environment = current_environment();
    request.argv = {"srun",
                    "--jobid=" + std::to_string(record.job_id),
                    "--overlap",
                    "--nodes=1",
                    "--ntasks=1",
                    "--nodelist=" + record.leader_hostname,
                    "--mpi=none",
                    "--quiet",
                    *self,
                    kMasterProbeCommandName,
                    record.master_webui_url,
                    record_directory(record.job_id)};
    return answer_of(request, "srun master-probe", timeout, parse_master_json);
}

}  // namespace

int master_probe_command(const std::vector<std::string>& args) {
    if (args.size() != 2 || !args[0].starts_with("http://") || !on_loopback(args[0])) {
        std::cerr << "usage: spark-slurm master-probe http://127.0.0.1:PORT RECORD_DIR (run by "
                     "'spark-slurm status')\n";
        return 2;
    }
    load_http_client();
    auto body = http_get(args[0] + "/json/", std::chrono::seconds(kProbeTimeoutSeconds),
                         read_ui_token(args[1]).value_or(""));
    if (!body) {
        std::cerr << "spark-slurm master-probe: no answer from " << args[0] << "/json/\n";
        return 1;
    }
    std::cout << *body << std::flush;
    return 0;
}

int status_command(const Options& options) {
    SlurmLibrary slurm;
    RunningCluster cluster = find_cluster(slurm, options.job_id);
    ClusterStatus status;
    status.record = cluster.record;
    status.probe_timeout_seconds = kProbeTimeoutSeconds;
    auto timeout = std::chrono::seconds(kProbeTimeoutSeconds);
    load_http_client();
    const std::string ui_token = read_ui_token(record_directory(status.record.job_id)).value_or("");
    std::future<std::optional<NamenodeState>> namenode;
    if (!status.record.hdfs_url.empty()) {
        namenode = std::async(std::launch::async, [&] {
            return probe_namenode(status.record.namenode_webui_url, timeout, ui_token);
        });
    }
    if (on_leader_loopback(status.record) && !is_local_address(status.record.leader_address)) {
        status.master = probe_master_on_leader(status.record, std::chrono::seconds(30));
    } else {
        status.master = probe_master(status.record.master_webui_url, timeout, ui_token);
    }
    if (namenode.valid()) status.namenode = namenode.get();
    if (!status.namenode && !status.record.hdfs_url.empty())
        status.namenode = report_through_dfsadmin(status.record, std::chrono::seconds(30));
    if (cluster.job.end_time > 0) {
        status.end_time = cluster.job.end_time;
    } else if (status.record.end_time > 0) {
        status.end_time = status.record.end_time;
    }
    status.now = static_cast<std::int64_t>(std::time(nullptr));
    status.login_host = canonical_hostname();
    std::cout << (options.json ? format_status_json(status) : format_status_text(status))
              << std::flush;
    return 0;
}

}  // namespace spark_slurm
