#include "job/node_report.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <filesystem>

#include "common/errors.hpp"
#include "common/random.hpp"
#include "common/user_account.hpp"
#include "network/network.hpp"
#include "resources/resources.hpp"
#include "services/node_check.hpp"

namespace spark_slurm {

namespace {

std::string existing_ancestor(std::filesystem::path path) {
    std::error_code error;
    while (!path.empty() && !std::filesystem::exists(path, error)) {
        if (path == path.parent_path()) break;
        path = path.parent_path();
    }
    return path.empty() ? "/" : path.string();
}

std::uint64_t filesystem_capacity(const std::string& path) {
    struct statvfs info {};
    if (::statvfs(existing_ancestor(path).c_str(), &info) != 0) return 0;
    return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
}

std::string work_dir_base(const Options& options, const JobEnvironment& environment) {
    if (options.work_dir) return *options.work_dir;
    if (!environment.tmpdir.empty()) return environment.tmpdir;
    return "/tmp";
}

NodeReport report_with_problem(const UsageError& error) {
    NodeReport report;
    report.problem = error.what();
    try {
        report.hostname = this_hostname();
    } catch (const LaunchError&) {
        report.hostname = "?";
    }
    return report;
}

}  // namespace

NodeReport probe_local_node(const Options& options, const JobEnvironment& environment,
                            PortClaims& claims) {
    NodeReport report;
    report.hostname = this_hostname();
    report.address = resolve_address(report.hostname);  // checked in assign_rank
    report.resources = usable_resources(probe_this_node(environment.slurm));

    // The control port is the caller's listening socket (run_command sets it).
    PortSet defaults;
    report.ports.spark_master = claims.claim(defaults.spark_master);
    report.ports.spark_master_webui = claims.claim(defaults.spark_master_webui);
    report.ports.namenode_rpc = claims.claim(defaults.namenode_rpc);
    report.ports.namenode_http = claims.claim(defaults.namenode_http);
    report.ports.spark_worker = claims.claim(0);
    report.ports.spark_worker_webui = claims.claim(defaults.spark_worker_webui);
    report.ports.datanode_data = claims.claim(defaults.datanode_data);
    report.ports.datanode_http = claims.claim(defaults.datanode_http);
    report.ports.datanode_ipc = claims.claim(defaults.datanode_ipc);
    if (options.hdfs && options.hdfs_auth == HdfsAuth::Kerberos) report.ports.kdc = claims.claim(0);
    if (options.connect) {
        report.ports.connect_gateway = claims.claim(defaults.connect_gateway);
        report.ports.connect_server = claims.claim(0);
    }

    // The work dir does not exist yet: this is the capacity of the filesystem it will be on.
    report.scratch_capacity = filesystem_capacity(
        options.state_dir ? *options.state_dir : work_dir_base(options, environment));
    // Bind sources and the Pythons as this node sees them; the leader compares (make_plan).
    check_this_node(report, options, environment.variables);
    return report;
}

void assign_rank(NodeReport& report, const Options& options, std::uint32_t job_id, unsigned rank,
                 const JobEnvironment& environment) {
    report.rank = rank;
    if (rank == 0 && options.leader_ip) {
        if (!is_local_address(*options.leader_ip)) {
            throw UsageError(fmt::format(
                "spark-slurm {}: --leader-ip {} is not an address of the leader node {}; give one "
                "of its addresses (see 'ip -brief address' on it) or leave it out",
                to_string(options.command), *options.leader_ip, report.hostname));
        }
        report.address = *options.leader_ip;
    } else if (report.address.empty()) {
        throw LaunchError(fmt::format(
            "while finding the address of node {}: its hostname resolves to no non-loopback "
            "IPv4 address; fix the node's /etc/hosts or DNS{}",
            report.hostname, rank == 0 ? ", or pass --leader-ip" : ""));
    }
    report.work_dir = (std::filesystem::path(work_dir_base(options, environment)) /
                       fmt::format("spark-slurm-{}-{}", job_id, rank))
                          .string();
}

NodeReport report_for_rendezvous(const Options& options, const JobEnvironment& environment,
                                 PortClaims& claims) {
    try {
        return probe_local_node(options, environment, claims);
    } catch (const UsageError& error) {
        return report_with_problem(error);
    }
}

void assign_rank_for_rendezvous(NodeReport& report, const Options& options, std::uint32_t job_id,
                                unsigned rank, const JobEnvironment& environment) {
    if (!report.problem.empty()) {
        report.rank = rank;
        return;
    }
    try {
        assign_rank(report, options, job_id, rank, environment);
    } catch (const UsageError& error) {
        report = report_with_problem(error);
        report.rank = rank;
    }
}

Plan plan_on_leader(const Options& options, const Allocation& allocation, bool requeueable,
                    std::vector<NodeReport> reports) {
    for (const auto& report : reports) {
        if (report.problem.empty()) continue;
        // The leader's own problems are everyone's (the same options); another node's is named.
        if (report.rank == 0) throw UsageError(report.problem);
        // "spark-slurm run: X" becomes "spark-slurm run: on node3 (rank 2): X".
        const std::string prefix = fmt::format("spark-slurm {}: ", to_string(options.command));
        const bool has_prefix = report.problem.starts_with(prefix);
        throw UsageError(
            fmt::format("{}on {} (rank {}): {}", prefix, report.hostname, report.rank,
                        has_prefix ? report.problem.substr(prefix.size()) : report.problem));
    }
    PlanInputs inputs;
    inputs.options = options;
    inputs.job_id = allocation.job_id;
    inputs.restart_count = allocation.restart_count;
    inputs.requeueable = requeueable;
    inputs.job_dir = default_job_dir(options, allocation);
    inputs.secret = generate_secret();
    inputs.user = user_name_or_uid();
    if (options.connect) inputs.connect_token = generate_secret();
    inputs.ui_token = generate_secret();
    inputs.nodes = std::move(reports);
    return make_plan(inputs);
}

std::string generate_secret() { return random_hex(32); }

std::string default_job_dir(const Options& options, const Allocation& allocation) {
    if (options.job_dir) return *options.job_dir;
    std::string base = allocation.submit_dir.empty() ? std::filesystem::current_path().string()
                                                     : allocation.submit_dir;
    return (std::filesystem::path(base) / fmt::format("spark-slurm-{}", allocation.job_id))
        .string();
}

}  // namespace spark_slurm
