// The four daemons of a cluster — Spark master, Spark worker, HDFS namenode, HDFS datanode — as
// values: what to run (an Invocation for the runtime), where its log goes, and how to tell it is
// ready (probes/probes.hpp). Starting and stopping them is the supervisor's job; deciding which run
// where is the plan's.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "runtime/runtime.hpp"

namespace spark_slurm {

// ConnectServer: Spark Connect on the leader (with `up` or `run --connect`); it is a Spark
// application, so it starts once the cluster is ready. Kdc: the job's Kerberos KDC on the leader
// (with --hdfs-auth kerberos), before anything of HDFS; see kdc_spec.
enum class Daemon { SparkMaster, Namenode, SparkWorker, Datanode, ConnectServer, Kdc };

// "spark master", "hdfs namenode", ... for messages; "spark-master", ... for log file names.
const char* display_name(Daemon daemon);
const char* file_name(Daemon daemon);

struct DaemonSpec {
    Daemon daemon;
    Invocation invocation;
    std::string log_file;
};

// The daemons `node` runs, leader daemons first.
std::vector<DaemonSpec> daemons_for(const Plan& plan, const NodePlan& node);

DaemonSpec daemon_spec(const Plan& plan, const NodePlan& node, Daemon daemon);

// `hdfs namenode -format -nonInteractive`, run only when the name directory is new.
DaemonSpec namenode_format_spec(const Plan& plan, const NodePlan& node);

// `hdfs dfsadmin ARGS...` against this cluster's namenode, as the leader runs it.
DaemonSpec dfsadmin_spec(const Plan& plan, const NodePlan& node, std::vector<std::string> args);

// The KDC's program as the launcher is installed: libexec/spark-slurm/spark-slurm-kdc runs
// share/spark-slurm/kdc/SparkSlurmKdc.java (`source`, which the script is told) with the Hadoop
// install's Kerby jars.
struct KdcProgram {
    std::string script;
    std::string source;
};
KdcProgram kdc_program();

// The job's KDC, on the leader's address and KDC port, exporting every principal's keytab and
// the HTTPS keystore into the credentials directory, and the realm's keys into saved_keys (for a
// restart). The keystore password and its names travel in the environment, never in argv.
DaemonSpec kdc_spec(const Plan& plan, const NodePlan& node, const KdcProgram& program);

// `hdfs fetchdt`: the leader, logged in as the owner, fetches the HDFS delegation token that
// the executors read HDFS with (kerberos_names(plan).token_file).
DaemonSpec fetch_token_spec(const Plan& plan, const NodePlan& node);

// True when `name_dir` holds no formatted namespace yet (no current/VERSION).
bool namenode_needs_format(const std::string& name_dir);

// The driver: the user's command with the cluster's addresses in its environment.
Invocation driver_invocation(const Plan& plan, const std::vector<std::string>& command,
                             const std::string& working_dir);

// Directories every program of this node must see (binds for containers).
std::vector<std::string> node_binds(const Plan& plan, const NodePlan& node);

}  // namespace spark_slurm
