#include "launcher/node_report.hpp"

#include <fmt/format.h>
#include <sys/random.h>
#include <sys/statvfs.h>

#include <filesystem>

#include "common/errors.hpp"
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

std::string work_dir_base(const Options& options, const Environment& environment) {
    if (options.work_dir) return *options.work_dir;
    if (auto it = environment.find("TMPDIR"); it != environment.end() && !it->second.empty())
        return it->second;
    return "/tmp";
}

NodeReport report_with_problem(const UsageError& error) {
    NodeReport report;
    report.problem = error.what();
    return report;
}

}  // namespace

NodeReport probe_local_node(const Options& options, const Environment& environment) {
    NodeReport report;
    report.hostname = this_hostname();
    report.address = resolve_address(report.hostname);  // checked in assign_rank
    report.resources = usable_resources(probe_this_node(environment));

    std::set<std::uint16_t> taken;
    PortSet defaults;
    report.ports.control = pick_free_port(0, taken);
    report.ports.spark_master = pick_free_port(defaults.spark_master, taken);
    report.ports.spark_master_webui = pick_free_port(defaults.spark_master_webui, taken);
    report.ports.namenode_rpc = pick_free_port(defaults.namenode_rpc, taken);
    report.ports.namenode_http = pick_free_port(defaults.namenode_http, taken);
    report.ports.spark_worker = pick_free_port(0, taken);
    report.ports.spark_worker_webui = pick_free_port(defaults.spark_worker_webui, taken);
    report.ports.datanode_data = pick_free_port(defaults.datanode_data, taken);
    report.ports.datanode_http = pick_free_port(defaults.datanode_http, taken);
    report.ports.datanode_ipc = pick_free_port(defaults.datanode_ipc, taken);

    // The work dir does not exist yet: this is the capacity of the filesystem it will be on.
    report.scratch_capacity = filesystem_capacity(
        options.state_dir ? *options.state_dir : work_dir_base(options, environment));
    // Bind sources and the Pythons as this node sees them; the leader compares (make_plan).
    check_this_node(report, options, environment);
    return report;
}

void assign_rank(NodeReport& report, const Options& options, std::uint32_t job_id, unsigned rank,
                 const Environment& environment) {
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

NodeReport report_for_rendezvous(const Options& options, const Environment& environment) {
    try {
        return probe_local_node(options, environment);
    } catch (const UsageError& error) {
        return report_with_problem(error);
    }
}

void assign_rank_for_rendezvous(NodeReport& report, const Options& options, std::uint32_t job_id,
                                unsigned rank, const Environment& environment) {
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
        if (!report.problem.empty()) throw UsageError(report.problem);
    }
    PlanInputs inputs;
    inputs.options = options;
    inputs.job_id = allocation.job_id;
    inputs.restart_count = allocation.restart_count;
    inputs.requeueable = requeueable;
    inputs.job_dir = default_job_dir(options, allocation);
    inputs.secret = generate_secret();
    inputs.nodes = std::move(reports);
    return make_plan(inputs);
}

std::string generate_secret() {
    unsigned char bytes[32];
    std::size_t filled = 0;
    while (filled < sizeof bytes) {
        ssize_t n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw LaunchError("while generating the job's secret: getrandom failed");
        }
        filled += static_cast<std::size_t>(n);
    }
    std::string hex;
    for (unsigned char byte : bytes) hex += fmt::format("{:02x}", byte);
    return hex;
}

std::string default_job_dir(const Options& options, const Allocation& allocation) {
    if (options.job_dir) return *options.job_dir;
    std::string base = allocation.submit_dir.empty() ? std::filesystem::current_path().string()
                                                     : allocation.submit_dir;
    return (std::filesystem::path(base) / fmt::format("spark-slurm-{}", allocation.job_id))
        .string();
}

}  // namespace spark_slurm
