#include "job/node_setup.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/user_account.hpp"
#include "history/event_logs.hpp"
#include "supervisor/janitor.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

// The node work dir's name (/tmp/spark-slurm-JOBID-RANK) is predictable, so another user may have
// made it first — a directory of theirs, or a link to somewhere else. Neither is followed or
// used. An own directory open to others is made 0700: HDFS refuses data directories other users
// could read (dfs.datanode.data.dir.perm = 700).
const PrivateDirectoryUse kJobDirectoryUse{
    "another user may have made it to read or redirect the job's files, so it is not used",
    "remove it, or choose another place with --work-dir (node-local scratch) or --state-dir "
    "(durable state)",
    true};

// Made by this user (with its missing parents), or refused.
void make_private_dir(const std::string& path) {
    if (path.empty()) return;
    const fs::path parent = fs::path(path).parent_path();
    std::error_code error;
    if (!parent.empty()) fs::create_directories(parent, error);
    if (error) {
        throw LaunchError(fmt::format(
            "while creating the private directory {}: {}; choose a writable directory you own "
            "(--work-dir for node-local scratch, --state-dir for durable state)",
            path, error.message()));
    }
    make_private_directory(path, kJobDirectoryUse);
}

// The Spark master's recovery state is for a master restarted within this run: its workers and
// application reconnect to it. What an earlier run (a requeue, the next job on the same state
// dir) left there names workers and applications that are gone, and a master that reads it
// waits for them for spark.worker.timeout (60 s) in RECOVERING before it takes anyone: every
// requeued run started a minute late. HDFS's state, and the application's checkpoints, are what
// a later run resumes from, not this.
void forget_earlier_runs_masters(const std::string& recovery_dir) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(recovery_dir, error)) {
        std::error_code ignored;
        fs::remove_all(entry.path(), ignored);
    }
}

// A node's configs die with its work dir: a crash of the node needs no fsync'd copy.
void write_node_file(const std::string& path, const std::string& text) {
    write_private_file(path, text, 0600, Durability::Scratch);
}

// The job's credentials directory on the shared filesystem (the KDC fills it): 0700, with what an
// earlier run of the job (a requeue) left there removed, and the realm's krb5.conf written first,
// so that every JVM, started before the KDC answers, finds its realm. A run whose leader was
// killed leaves the realm's saved keys: without this, the new run's KDC would take itself for a
// restart and keep the old keystore, whose password was the old run's secret.
void prepare_credentials(const Plan& plan) {
    const KerberosNames names = kerberos_names(plan);
    make_private_dir(names.dir);
    for (const auto& stale : {names.ready_file, names.token_file, names.saved_keys}) {
        std::error_code error;
        fs::remove(stale, error);
    }
    write_private_file(names.krb5_conf, render_krb5_conf(plan));
}

}  // namespace

WorkDirectory::WorkDirectory(std::string path) : path_(std::move(path)) { start_janitor(path_); }

WorkDirectory::~WorkDirectory() {
    std::error_code error;
    fs::remove_all(path_, error);
    dismiss_janitor();
}

void prepare_node(const Plan& plan, const NodePlan& node, const SparkSettings& spark_settings) {
    for (const auto& dir : {node.work_dir, node.conf_dir, node.tmp_dir, node.spark_local_dir,
                            node.spark_worker_dir, node.namenode_dir, node.datanode_dir}) {
        make_private_dir(dir);
    }
    std::error_code error;
    fs::create_directories(plan.log_dir, error);
    if (error) {
        throw LaunchError("while creating the log directory " + plan.log_dir + ": " +
                          error.message() + " (choose a writable shared directory with --job-dir)");
    }
    if (node.runs_leader() && !plan.event_log_dir.empty()) {
        // Before the driver starts: Spark refuses to start an application whose event-log
        // directory is missing. The record is for `spark-slurm history` on a login node later;
        // without it the logs are still found through --job-dir.
        make_private_dir(plan.event_log_dir);
        try {
            record_event_log_dir(history_records_dir(user_account().home), plan.job_id,
                                 plan.event_log_dir);
        } catch (const LaunchError& failed) {
            log::warn("{}; 'spark-slurm history --job-dir {}' still finds the event logs",
                      failed.what(), plan.job_dir);
        }
    }
    if (node.runs_leader() && plan.kerberos) prepare_credentials(plan);
    if (node.runs_leader()) {
        make_private_dir(plan.recovery_dir);
        forget_earlier_runs_masters(plan.recovery_dir);
        if (!plan.checkpoint_dir.empty()) {
            fs::create_directories(plan.checkpoint_dir, error);
            if (error) {
                throw LaunchError(fmt::format(
                    "while creating the checkpoint directory {}: {}; give --state-dir a writable "
                    "directory on a shared filesystem",
                    plan.checkpoint_dir, error.message()));
            }
        }
    }
    ConfigFiles files = render_configs(plan, node, spark_settings);
    write_node_file(node.conf_dir + "/spark-defaults.conf", files.spark_defaults);
    write_node_file(node.conf_dir + "/spark-env.sh", files.spark_env);
    if (plan.hdfs) {
        write_node_file(node.conf_dir + "/core-site.xml", files.core_site);
        write_node_file(node.conf_dir + "/hdfs-site.xml", files.hdfs_site);
        write_node_file(node.conf_dir + "/log4j.properties", files.hadoop_log4j);
    }
    if (!files.ssl_server.empty())
        write_node_file(node.conf_dir + "/ssl-server.xml", files.ssl_server);
    if (!files.format_core_site.empty()) {
        const std::string format_dir = format_conf_dir(node);
        make_private_dir(format_dir);
        write_node_file(format_dir + "/core-site.xml", files.format_core_site);
        write_node_file(format_dir + "/hdfs-site.xml", files.hdfs_site);
    }
    // Log4j output of the daemons goes to their stderr, which is their log file.
}

}  // namespace spark_slurm
