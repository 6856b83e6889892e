#include "services/services.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "common/enum_names.hpp"
#include "common/files.hpp"
#include "common/sizes.hpp"
#include "common/ui_login.hpp"

namespace spark_slurm {

namespace {

std::map<std::string, std::string> common_environment(const Plan& plan, const NodePlan& node) {
    // Spark's web UIs bind SPARK_LOCAL_IP: the node's address for the master's reverse proxy,
    // else its loopback (plan.hpp: web_ui_address). The daemons' RPC binds --host's address.
    std::map<std::string, std::string> environment{
        {"SPARK_CONF_DIR", node.conf_dir},
        {"SPARK_LOCAL_IP", web_ui_address(plan.wire_encryption, node.address)},
        {"SPARK_LOG_DIR", plan.log_dir},
        {"SPARK_NO_DAEMONIZE", "1"},
        {"TMPDIR", node.tmp_dir},
    };
    if (plan.hdfs) environment["HADOOP_CONF_DIR"] = node.conf_dir;
    environment[kUiJarsVariable] = ui_login_jars_dir();
    return environment;
}

// Spark's and Hadoop's JVMs load the UI login filter from the launcher's install: in a
// container, bound where it is on the host.
void bind_ui_login_jars(Invocation& invocation) {
    const std::string dir = ui_login_jars_dir();
    if (std::filesystem::path(dir).is_absolute()) invocation.binds.push_back(dir);
}

// Helpers run for seconds: C1 only (no C2 compiles competing for the 2 cores while they start),
// the serial collector (no GC threads to start) and a small heap.
constexpr const char* kHelperJvmOptions = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m";

// "-Xmx1g -XX:-UsePerfData" and, with Kerberos, the realm's krb5.conf (JDK 17 ignores KRB5_CONFIG).
std::string java_options(const Plan& plan, const std::string& options) {
    const std::string krb5 = kerberos_java_option(plan);
    return krb5.empty() ? options : options + " " + krb5;
}

// A client of the job's HDFS run by the launcher (dfsadmin, fetchdt): logged in as the owner
// from its keytab (Hadoop does that by itself when KRB5PRINCIPAL and KRB5KEYTAB are set).
void as_owner_client(const Plan& plan, Invocation& invocation) {
    invocation.environment.erase("HADOOP_OPTS");
    invocation.environment["HADOOP_CLIENT_OPTS"] =
        java_options(plan, std::string("-XX:-UsePerfData ") + kHelperJvmOptions);
    if (!plan.kerberos) return;
    const KerberosNames names = kerberos_names(plan);
    invocation.environment["KRB5PRINCIPAL"] = names.owner_principal;
    invocation.environment["KRB5KEYTAB"] = names.owner_keytab;
}

}  // namespace

// Each daemon's names: in messages, and in file names (logs, pid files, events).
struct DaemonNames {
    Daemon value;
    const char* display_name;
    const char* file_name;
};
constexpr DaemonNames kDaemonNames[] = {
    {Daemon::SparkMaster, "spark master", "spark-master"},
    {Daemon::SparkWorker, "spark worker", "spark-worker"},
    {Daemon::Namenode, "hdfs namenode", "hdfs-namenode"},
    {Daemon::Datanode, "hdfs datanode", "hdfs-datanode"},
    {Daemon::ConnectServer, "spark connect server", "spark-connect"},
    {Daemon::Kdc, "kerberos kdc", "kdc"},
};

const char* display_name(Daemon daemon) {
    return name_in_column(kDaemonNames, daemon, &DaemonNames::display_name, "?");
}

const char* file_name(Daemon daemon) {
    return name_in_column(kDaemonNames, daemon, &DaemonNames::file_name, "?");
}

std::vector<std::string> node_binds(const Plan& plan, const NodePlan& node) {
    // The job dir holds the logs; the runtime adds the job-wide binds (submit dir, $HOME, --bind).
    std::vector<std::string> binds{node.work_dir, plan.job_dir};
    if (!plan.state_dir.empty()) binds.push_back(plan.state_dir);
    return binds;
}

namespace {

// The worker's command line: its node's cores and memory, and the master to register with.
std::vector<std::string> spark_worker_args(const Plan& plan, const NodePlan& node) {
    std::vector<std::string> args{"org.apache.spark.deploy.worker.Worker",
                                  "--host",
                                  node.address,
                                  "--webui-port",
                                  std::to_string(node.ports.spark_worker_webui),
                                  "--cores",
                                  std::to_string(node.worker_cores),
                                  "--memory",
                                  fmt::format("{}m", to_mib(node.worker_memory)),
                                  "--work-dir",
                                  node.spark_worker_dir};
    if (node.ports.spark_worker != 0)
        args.insert(args.end(), {"--port", std::to_string(node.ports.spark_worker)});
    args.push_back(plan.master_url);
    return args;
}

}  // namespace

DaemonSpec daemon_spec(const Plan& plan, const NodePlan& node, Daemon daemon) {
    DaemonSpec spec{daemon, {}, log_path(plan, node, file_name(daemon))};
    Invocation& invocation = spec.invocation;
    invocation.environment = common_environment(plan, node);
    invocation.binds = node_binds(plan, node);
    bind_ui_login_jars(invocation);
    invocation.working_dir = node.work_dir;
    const PortSet& ports = node.ports;
    switch (daemon) {
        case Daemon::SparkMaster:
            invocation.install = Install::Spark;
            invocation.tool = "spark-class";
            invocation.args = {"org.apache.spark.deploy.master.Master",
                               "--host",
                               node.address,
                               "--port",
                               std::to_string(ports.spark_master),
                               "--webui-port",
                               std::to_string(ports.spark_master_webui)};
            break;
        case Daemon::SparkWorker:
            invocation.install = Install::Spark;
            invocation.tool = "spark-class";
            invocation.args = spark_worker_args(plan, node);
            invocation.environment["SPARK_LOCAL_DIRS"] = node.spark_local_dir;
            break;
        case Daemon::Namenode:
            invocation.install = Install::Hadoop;
            invocation.tool = "hdfs";
            invocation.args = {"namenode"};
            // WebHDFS's Jersey needs java.lang opened on JDK 17 (else every request is a 500,
            // before any authentication is checked).
            invocation.environment["HADOOP_OPTS"] = java_options(
                plan, "-Xmx1g -XX:-UsePerfData --add-opens=java.base/java.lang=ALL-UNNAMED");
            invocation.environment["HADOOP_CLASSPATH"] = ui_login_hadoop_jar();
            break;
        case Daemon::Datanode:
            invocation.install = Install::Hadoop;
            invocation.tool = "hdfs";
            invocation.args = {"datanode"};
            invocation.environment["HADOOP_OPTS"] = java_options(plan, "-Xmx512m -XX:-UsePerfData");
            invocation.environment["HADOOP_CLASSPATH"] = ui_login_hadoop_jar();
            break;
        case Daemon::ConnectServer:
            invocation.install = Install::Spark;
            invocation.tool = "spark-submit";
            invocation.args = {"--class",
                               "org.apache.spark.sql.connect.service.SparkConnectServer"};
            for (const auto& [key, value] : connect_server_settings(plan))
                invocation.args.insert(invocation.args.end(), {"--conf", key + "=" + value});
            invocation.args.push_back("spark-internal");
            // The server reads its token from here: never on a command line (/proc is public).
            invocation.environment["SPARK_CONNECT_AUTHENTICATE_TOKEN"] = plan.connect_token;
            // Its Python UDFs run in the chosen Python, as the driver's would.
            invocation.user_program = true;
            if (plan.kerberos) {
                const KerberosNames names = kerberos_names(plan);
                invocation.environment["KRB5PRINCIPAL"] = names.owner_principal;
                invocation.environment["KRB5KEYTAB"] = names.owner_keytab;
            }
            break;
        case Daemon::Kdc:
            invocation = kdc_spec(plan, node, kdc_program()).invocation;
            break;
    }
    return spec;
}

std::vector<DaemonSpec> daemons_for(const Plan& plan, const NodePlan& node) {
    std::vector<DaemonSpec> specs;
    if (node.runs_leader()) {
        if (plan.hdfs) specs.push_back(daemon_spec(plan, node, Daemon::Namenode));
        specs.push_back(daemon_spec(plan, node, Daemon::SparkMaster));
    }
    if (node.runs_worker()) {
        specs.push_back(daemon_spec(plan, node, Daemon::SparkWorker));
        if (plan.hdfs) specs.push_back(daemon_spec(plan, node, Daemon::Datanode));
    }
    return specs;
}

DaemonSpec namenode_format_spec(const Plan& plan, const NodePlan& node) {
    DaemonSpec spec = daemon_spec(plan, node, Daemon::Namenode);
    spec.invocation.args = {"namenode", "-format", "-nonInteractive"};
    // After HADOOP_OPTS on the command line: its -Xmx wins over the namenode's.
    spec.invocation.environment["HDFS_NAMENODE_OPTS"] = kHelperJvmOptions;
    // No login to format: the conf without Kerberos, so that it runs while the KDC starts.
    if (plan.kerberos) spec.invocation.environment["HADOOP_CONF_DIR"] = format_conf_dir(node);
    spec.log_file = log_path(plan, node, "hdfs-namenode-format");
    return spec;
}

DaemonSpec dfsadmin_spec(const Plan& plan, const NodePlan& node, std::vector<std::string> args) {
    DaemonSpec spec = daemon_spec(plan, node, Daemon::Namenode);
    spec.invocation.args = {"dfsadmin"};
    spec.invocation.args.insert(spec.invocation.args.end(), args.begin(), args.end());
    as_owner_client(plan, spec.invocation);
    spec.log_file = log_path(plan, node, "hdfs-dfsadmin");
    return spec;
}

DaemonSpec fetch_token_spec(const Plan& plan, const NodePlan& node) {
    DaemonSpec spec = daemon_spec(plan, node, Daemon::Namenode);
    const KerberosNames names = kerberos_names(plan);
    spec.invocation.args = {"fetchdt", "--renewer", plan.user, names.token_file};
    as_owner_client(plan, spec.invocation);
    spec.log_file = log_path(plan, node, "hdfs-fetchdt");
    return spec;
}

KdcProgram kdc_program() {
    return {installed_file("libexec/spark-slurm/spark-slurm-kdc"),
            installed_file("share/spark-slurm/kdc/SparkSlurmKdc.java")};
}

DaemonSpec kdc_spec(const Plan& plan, const NodePlan& node, const KdcProgram& program) {
    DaemonSpec spec{Daemon::Kdc, {}, log_path(plan, node, file_name(Daemon::Kdc))};
    Invocation& invocation = spec.invocation;
    const KerberosNames names = kerberos_names(plan);
    const std::string instance = fmt::format("job{}", plan.job_id);
    invocation.install = Install::Hadoop;
    invocation.command = {program.script,
                          names.realm,
                          node.address,
                          std::to_string(node.ports.kdc),
                          names.dir,
                          "nn/" + instance + "=nn.keytab",
                          "dn/" + instance + "=dn.keytab",
                          "HTTP/" + instance + "=http.keytab",
                          plan.user + "=owner.keytab"};
    invocation.environment = common_environment(plan, node);
    invocation.binds = node_binds(plan, node);
    // In a container the KDC runs on the image's Java and Hadoop: it needs the launcher's own
    // script and its Java source, bound where they are on the host.
    for (const auto& file : {program.script, program.source}) {
        if (std::filesystem::path(file).is_absolute())
            invocation.binds.push_back(std::filesystem::path(file).parent_path().string());
    }
    invocation.environment["SPARK_SLURM_KDC_SOURCE"] = program.source;
    invocation.environment["SPARK_SLURM_KDC_SAVED_KEYS"] = names.saved_keys;
    invocation.working_dir = node.work_dir;
    invocation.environment["SPARK_SLURM_KDC_OPTS"] =
        "-Xmx256m -XX:-UsePerfData -XX:TieredStopAtLevel=1 -Djava.io.tmpdir=" + node.tmp_dir;
    // The HTTPS endpoints of every node share one key; its certificate names them all.
    std::string names_of_nodes;
    for (const auto& each : plan.nodes) {
        if (each.role == Role::Idle) continue;
        names_of_nodes += fmt::format("{}ip:{},dns:{}", names_of_nodes.empty() ? "" : ",",
                                      each.address, each.hostname);
    }
    invocation.environment["SPARK_SLURM_KEYSTORE_SAN"] = names_of_nodes;
    invocation.environment["SPARK_SLURM_KEYSTORE_PASSWORD"] = plan.secret;
    return spec;
}

bool namenode_needs_format(const std::string& name_dir) {
    std::error_code error;
    return !std::filesystem::exists(std::filesystem::path(name_dir) / "current" / "VERSION", error);
}

Invocation driver_invocation(const Plan& plan, const std::vector<std::string>& command,
                             const std::string& working_dir) {
    const NodePlan& leader = plan.leader();
    Invocation invocation;
    invocation.install = Install::Spark;
    invocation.command = command;
    invocation.user_program = true;
    invocation.working_dir = working_dir;
    invocation.binds = node_binds(plan, leader);
    invocation.binds.push_back(working_dir);
    bind_ui_login_jars(invocation);
    invocation.environment = {
        {"SPARK_MASTER_URL", plan.master_url},
        {"SPARK_CONF_DIR", leader.conf_dir},
        // The application UI (4040) where the master's proxy reaches it, or on the loopback
        // (web_ui_address); its RPC binds spark.driver.host.
        {"SPARK_LOCAL_IP", web_ui_address(plan.wire_encryption, leader.address)},
        {"SPARK_SLURM_WORKERS", std::to_string(plan.worker_count)},
        {"SPARK_SLURM_JOB_DIR", plan.job_dir},
        {"SPARK_SLURM_RESTART_COUNT", std::to_string(plan.restart_count)},
        {"TMPDIR", leader.tmp_dir},
        // `hdfs dfs` and other client JVMs the driver starts: no hsperfdata in /tmp.
        {"HADOOP_CLIENT_OPTS", java_options(plan, "-XX:-UsePerfData")},
        {kUiJarsVariable, ui_login_jars_dir()},
    };
    if (plan.kerberos) {
        // The driver (and its `hdfs` commands) log in as the owner from the owner's keytab.
        const KerberosNames names = kerberos_names(plan);
        invocation.environment["KRB5PRINCIPAL"] = names.owner_principal;
        invocation.environment["KRB5KEYTAB"] = names.owner_keytab;
    }
    if (plan.hdfs) {
        invocation.environment["HDFS_URL"] = plan.hdfs_url;
        invocation.environment["HADOOP_CONF_DIR"] = leader.conf_dir;
    }
    if (!plan.checkpoint_dir.empty())
        invocation.environment["SPARK_SLURM_CHECKPOINT_DIR"] = plan.checkpoint_dir;
    return invocation;
}

}  // namespace spark_slurm
