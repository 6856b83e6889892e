#include "plan/plan.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/enum_names.hpp"
#include "common/errors.hpp"
#include "common/sizes.hpp"
#include "plan/plan_internal.hpp"

namespace spark_slurm {

namespace {

using plan_internal::join_path;
using plan_internal::kSparkDaemonHeap;

// JVM heaps the daemons get (spark-env.sh / HADOOP_HEAPSIZE), counted in the reserve with
// kSparkDaemonHeap.
constexpr std::uint64_t kDatanodeHeap = 512 * kMiB;
constexpr std::uint64_t kNamenodeHeap = 1 * kGiB;
constexpr std::uint64_t kMinimumWorkerMemory = 512 * kMiB;

[[noreturn]] void reject(const Options& options, const std::string& problem) {
    throw UsageError(std::string("spark-slurm ") + to_string(options.command) + ": " + problem);
}

// Ranks that may run a worker, most preferred first.
std::vector<unsigned> worker_candidates(std::size_t node_count, bool worker_on_leader) {
    std::vector<unsigned> candidates;
    if (worker_on_leader) candidates.push_back(0);
    for (unsigned rank = 1; rank < node_count; ++rank) candidates.push_back(rank);
    return candidates;
}

// "3.11.2" -> "3.11"
std::string minor_version(const std::string& version) {
    auto first = version.find('.');
    if (first == std::string::npos) return version;
    return version.substr(0, version.find('.', first + 1));
}

std::string join_names(const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) text += i + 1 == names.size() ? " and " : ", ";
        text += names[i];
    }
    return text;
}

// Every bind source must exist on every node that takes part: name the first missing one and
// the nodes that lack it.
void check_binds(const Options& options, const PlanInputs& inputs,
                 const std::vector<bool>& takes_part) {
    std::vector<std::pair<std::string, std::vector<std::string>>> missing;
    for (std::size_t rank = 0; rank < inputs.nodes.size(); ++rank) {
        if (!takes_part[rank]) continue;
        for (const auto& source : inputs.nodes[rank].missing_binds) {
            auto it = std::find_if(missing.begin(), missing.end(),
                                   [&](const auto& entry) { return entry.first == source; });
            if (it == missing.end()) it = missing.insert(missing.end(), {source, {}});
            it->second.push_back(inputs.nodes[rank].hostname);
        }
    }
    if (missing.empty()) return;
    reject(options,
           fmt::format("the bind source {} does not exist on {}{}; every node of the job must "
                       "have it: create it there, fix the path, or drop the bind",
                       missing.front().first, join_names(missing.front().second),
                       missing.size() > 1 ? fmt::format(" ({} more bind source(s) are missing too)",
                                                        missing.size() - 1)
                                          : ""));
}

// The driver's Python and every worker's executors' must run (when the user chose them) and
// agree in their minor version, or PySpark fails at the first task.
void check_pythons(const Options& options, const PlanInputs& inputs,
                   const std::vector<bool>& is_worker) {
    const NodeReport& leader = inputs.nodes.front();
    const PythonReport& driver = leader.driver_python;
    auto does_not_run = [&](const char* whose, const PythonReport& python,
                            const std::string& host) {
        reject(options, fmt::format("the {} Python ({}) does not run on {}: {}; give a Python "
                                    "that exists on every node with --python PATH",
                                    whose, python.what, host, python.error));
    };
    if (driver.chosen && !driver.error.empty()) does_not_run("driver's", driver, leader.hostname);
    std::vector<std::string> differing;
    const PythonReport* different = nullptr;
    for (std::size_t rank = 0; rank < inputs.nodes.size(); ++rank) {
        if (!is_worker[rank]) continue;
        const NodeReport& node = inputs.nodes[rank];
        const PythonReport& executor = node.executor_python;
        if (executor.chosen && !executor.error.empty())
            does_not_run("executors'", executor, node.hostname);
        if (driver.version.empty() || executor.version.empty() ||
            minor_version(executor.version) == minor_version(driver.version)) {
            continue;
        }
        differing.push_back(node.hostname);
        if (!different) different = &executor;
    }
    if (!different) return;
    if (different->what == driver.what) {
        reject(options,
               fmt::format("the Python ({}) is {} on {} but {} on {}, where the driver runs; "
                           "PySpark needs the same minor version for the driver and the "
                           "executors: give one that is the same on every node with --python "
                           "PATH (e.g. a venv on a shared filesystem)",
                           driver.what, different->version, join_names(differing), driver.version,
                           leader.hostname));
    }
    reject(options,
           fmt::format("the executors' Python ({}) is {} on {}, but the driver's ({}) is {} on "
                       "{}; PySpark needs the same minor version for both: use one Python for "
                       "the driver and the executors with --python PATH",
                       different->what, different->version, join_names(differing), driver.what,
                       driver.version, leader.hostname));
}

}  // namespace

KerberosNames kerberos_names(const Plan& plan) {
    KerberosNames names;
    names.realm = fmt::format("JOB{}.SPARK-SLURM", plan.job_id);
    const std::string instance = fmt::format("job{}@{}", plan.job_id, names.realm);
    names.namenode_principal = "nn/" + instance;
    names.datanode_principal = "dn/" + instance;
    names.http_principal = "HTTP/" + instance;
    names.owner_principal = plan.user + "@" + names.realm;
    names.dir = join_path(plan.job_dir, "credentials");
    names.krb5_conf = join_path(names.dir, "krb5.conf");
    names.namenode_keytab = join_path(names.dir, "nn.keytab");
    names.datanode_keytab = join_path(names.dir, "dn.keytab");
    names.http_keytab = join_path(names.dir, "http.keytab");
    names.owner_keytab = join_path(names.dir, "owner.keytab");
    names.token_file = join_path(names.dir, "hdfs.token");
    names.keystore = join_path(names.dir, "keystore.p12");
    names.ca_file = join_path(names.dir, "ca.pem");
    names.ready_file = join_path(names.dir, "kdc-ready");
    names.saved_keys = join_path(names.dir, "realm.keytab");
    return names;
}

constexpr EnumName<Role> kRoleNames[] = {
    {Role::Leader, "leader"},
    {Role::Worker, "worker"},
    {Role::LeaderAndWorker, "leader+worker"},
    {Role::Idle, "idle"},
};

const char* to_string(Role role) { return enum_name(kRoleNames, role); }

std::uint64_t memory_reserve(std::uint64_t node_memory, Role role, bool hdfs) {
    std::uint64_t reserve = std::max<std::uint64_t>(1 * kGiB, node_memory / 20);
    if (role == Role::Worker || role == Role::LeaderAndWorker) {
        reserve += kSparkDaemonHeap + (hdfs ? kDatanodeHeap : 0);
    }
    if (role == Role::Leader || role == Role::LeaderAndWorker) {
        reserve += kSparkDaemonHeap + (hdfs ? kNamenodeHeap : 0);
    }
    return reserve;
}

namespace {

// How many workers: --workers, else every candidate; refused when the allocation cannot hold them.
unsigned worker_count(const Options& options, std::size_t node_count,
                      const std::vector<unsigned>& candidates) {
    unsigned workers = options.workers.value_or(static_cast<unsigned>(candidates.size()));
    if (workers > candidates.size()) {
        reject(options,
               fmt::format("--workers {} asks for more workers than the allocation can hold: {} "
                           "node(s), {}; ask Slurm for more nodes or lower --workers",
                           workers, node_count,
                           options.worker_on_leader
                               ? "each running one worker"
                               : fmt::format("{} besides the leader", node_count - 1)));
    }
    return workers;
}

// What the whole cluster is, from the options and the job: everything but the leader's
// endpoints, the workers' size and the nodes.
void fill_cluster_facts(Plan& plan, const PlanInputs& inputs, unsigned workers) {
    const Options& options = inputs.options;
    plan.job_id = inputs.job_id;
    plan.restart_count = inputs.restart_count;
    plan.requeueable = inputs.requeueable;
    plan.hdfs = options.hdfs;
    plan.kerberos = options.hdfs && options.hdfs_auth == HdfsAuth::Kerberos;
    plan.wire_encryption = options.wire_encryption;
    plan.user = inputs.user;
    plan.secret = inputs.secret;
    plan.interactive = options.command == Command::Up;
    plan.connect = options.connect;
    plan.stop_before_end_seconds = options.stop_before_end_seconds;
    if (plan.connect) plan.connect_token = inputs.connect_token;
    plan.ui_token = inputs.ui_token;
    plan.worker_count = workers;
    if (options.min_workers > workers) {
        reject(options, fmt::format("--min-workers {} is more than the cluster's {} worker(s); "
                                    "lower it or ask Slurm for more nodes",
                                    options.min_workers, workers));
    }
    plan.min_workers = options.min_workers;
    plan.ready_timeout_seconds = options.ready_timeout_seconds;
    plan.replication = std::clamp(workers, 1u, 3u);
    plan.job_dir = inputs.job_dir;
    plan.log_dir = join_path(inputs.job_dir, "logs");
    if (options.event_log) plan.event_log_dir = join_path(inputs.job_dir, kEventLogDirName);
    if (options.state_dir) {
        plan.state_dir = *options.state_dir;
        plan.recovery_dir = join_path(plan.state_dir, "spark-recovery");
        plan.checkpoint_dir = join_path(plan.state_dir, "checkpoints");
    }
}

// The addresses clients use, all on the leader (rank 0).
void fill_leader_endpoints(Plan& plan, const NodeReport& leader) {
    plan.leader_hostname = leader.hostname;
    plan.leader_address = leader.address;
    plan.control_port = leader.ports.control;
    plan.master_url = fmt::format("spark://{}:{}", leader.address, leader.ports.spark_master);
    const std::string web_ui = web_ui_address(plan.wire_encryption, leader.address);
    plan.master_webui_url = fmt::format("http://{}:{}", web_ui, leader.ports.spark_master_webui);
    if (plan.connect) {
        plan.connect_url =
            fmt::format("sc://{}:{}/;use_ssl=true", leader.address, leader.ports.connect_gateway);
    }
    if (plan.hdfs) {
        plan.hdfs_url = fmt::format("hdfs://{}:{}", leader.address, leader.ports.namenode_rpc);
        // With Kerberos the web endpoints are HTTPS only (the datanodes need it to run secure
        // without root); the port is the same.
        plan.namenode_webui_url = fmt::format("{}://{}:{}", plan.kerberos ? "https" : "http",
                                              leader.address, leader.ports.namenode_http);
    }
}

// Every worker offers the same cores and memory, so executors fit anywhere: the smallest node
// among the workers decides, unless the user said otherwise.
void size_workers(Plan& plan, const PlanInputs& inputs, const std::vector<bool>& is_worker) {
    const Options& options = inputs.options;
    const std::size_t node_count = inputs.nodes.size();
    std::optional<unsigned> smallest_cores;
    std::optional<std::uint64_t> smallest_memory;
    const NodeReport* smallest_memory_node = nullptr;
    for (unsigned rank = 0; rank < node_count; ++rank) {
        if (!is_worker[rank]) continue;
        const NodeReport& report = inputs.nodes[rank];
        Role role = rank == 0 ? Role::LeaderAndWorker : Role::Worker;
        std::uint64_t reserve = memory_reserve(report.resources.memory, role, plan.hdfs);
        std::uint64_t memory =
            report.resources.memory > reserve ? report.resources.memory - reserve : 0;
        if (!smallest_cores || report.resources.cpus < *smallest_cores)
            smallest_cores = report.resources.cpus;
        if (!smallest_memory || memory < *smallest_memory) {
            smallest_memory = memory;
            smallest_memory_node = &report;
        }
    }
    plan.worker_cores = options.cores.value_or(std::max(smallest_cores.value_or(1), 1u));
    if (options.memory) {
        plan.worker_memory = *options.memory;
    } else {
        plan.worker_memory = smallest_memory.value_or(0);
        if (plan.worker_memory < kMinimumWorkerMemory) {
            reject(options,
                   fmt::format(
                       "node {} has {} of memory for the job, too little for a Spark worker "
                       "after the reserve for the OS and daemons; ask Slurm for more "
                       "memory (--mem) or set --memory",
                       smallest_memory_node ? smallest_memory_node->hostname : "?",
                       format_size(smallest_memory_node ? smallest_memory_node->resources.memory
                                                        : 0)));
        }
        plan.worker_memory -= plan.worker_memory % kMiB;
    }
}

// One node's part: its role, directories and, for a worker, its size and HDFS data.
NodePlan node_plan(const Plan& plan, const Options& options, const NodeReport& report,
                   unsigned rank, bool is_worker) {
    NodePlan node;
    node.rank = rank;
    node.hostname = report.hostname;
    node.address = report.address;
    node.detected = report.resources;
    if (rank == 0) {
        node.role = is_worker ? Role::LeaderAndWorker : Role::Leader;
    } else {
        node.role = is_worker ? Role::Worker : Role::Idle;
    }
    node.ports = report.ports;
    node.work_dir = report.work_dir;
    node.conf_dir = join_path(report.work_dir, "conf");
    node.tmp_dir = join_path(report.work_dir, "tmp");
    if (node.runs_worker()) {
        node.worker_cores = plan.worker_cores;
        node.worker_memory = plan.worker_memory;
        node.spark_local_dir = join_path(report.work_dir, "spark-local");
        node.spark_worker_dir = join_path(report.work_dir, "spark-worker");
        if (plan.hdfs) {
            node.datanode_dir =
                plan.state_dir.empty()
                    ? join_path(report.work_dir, "hdfs/data")
                    : join_path(plan.state_dir, fmt::format("node-{}/datanode", rank));
            if (options.disk && report.scratch_capacity > *options.disk) {
                node.datanode_reserved = report.scratch_capacity - *options.disk;
            }
        }
    }
    if (node.runs_leader() && plan.hdfs) {
        node.namenode_dir = plan.state_dir.empty() ? join_path(report.work_dir, "hdfs/name")
                                                   : join_path(plan.state_dir, "namenode");
    }
    return node;
}

}  // namespace

Plan make_plan(const PlanInputs& inputs) {
    const Options& options = inputs.options;
    const std::size_t node_count = inputs.nodes.size();
    if (node_count == 0) reject(options, "the allocation has no nodes");
    auto candidates = worker_candidates(node_count, options.worker_on_leader);
    if (candidates.empty()) {
        reject(options,
               "the allocation has 1 node, and a cluster needs a worker besides the "
               "leader; ask Slurm for more nodes (e.g. -N 3) or add --worker-on-leader");
    }
    const unsigned workers = worker_count(options, node_count, candidates);

    Plan plan;
    fill_cluster_facts(plan, inputs, workers);
    fill_leader_endpoints(plan, inputs.nodes.front());

    std::vector<bool> is_worker(node_count, false);
    for (unsigned i = 0; i < workers; ++i) is_worker[candidates[i]] = true;
    std::vector<bool> takes_part = is_worker;
    takes_part[0] = true;
    check_binds(options, inputs, takes_part);
    check_pythons(options, inputs, is_worker);
    size_workers(plan, inputs, is_worker);

    for (unsigned rank = 0; rank < node_count; ++rank)
        plan.nodes.push_back(node_plan(plan, options, inputs.nodes[rank], rank, is_worker[rank]));
    return plan;
}

std::string log_path(const Plan& plan, const NodePlan& node, const std::string& daemon) {
    return join_path(plan.log_dir, fmt::format("{}-{}.log", node.hostname, daemon));
}

}  // namespace spark_slurm
