// The plan: a pure function from (options, allocation facts, every node's report) to what each
// node runs, with which cores, memory, ports and directories, and the configuration files each
// node writes. No I/O here: the rendezvous gathers the inputs and the launcher acts on the result,
// so the same plan can be previewed for 100,000 nodes on a laptop and compared with golden files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/image_installs.hpp"
#include "options/options.hpp"
#include "resources/resources.hpp"

namespace spark_slurm {

// Ports a node has checked are free (the well-known defaults when they are free).
struct PortSet {
    std::uint16_t control = 0;  // the leader launcher's control channel
    std::uint16_t spark_master = 7077;
    std::uint16_t spark_master_webui = 8080;
    std::uint16_t namenode_rpc = 8020;
    std::uint16_t namenode_http = 9870;
    std::uint16_t spark_worker = 0;  // 0: let the daemon pick an ephemeral port
    std::uint16_t spark_worker_webui = 8081;
    std::uint16_t datanode_data = 9866;
    std::uint16_t datanode_http = 9864;
    std::uint16_t datanode_ipc = 9867;
    std::uint16_t connect_gateway = 15002;  // Spark Connect's public port: the TLS gateway
    std::uint16_t connect_server = 0;       // the Connect server itself, on the leader's loopback
    std::uint16_t kdc = 0;  // the job's KDC (leader, --hdfs-auth kerberos): any free port
    bool operator==(const PortSet&) const = default;
};

// What running a Python on a node showed (services/node_check.hpp runs it).
struct PythonReport {
    std::string what;     // which Python, for messages: "--python /x/bin/python", "python3"...
    bool chosen = false;  // the user chose it: one that does not run is an error
    std::string version;  // "3.11.2"; empty when it was not run or did not run
    std::string error;    // why it did not run
    bool operator==(const PythonReport&) const = default;
};

// What one rank tells the leader at the rendezvous.
struct NodeReport {
    unsigned rank = 0;
    std::string hostname;
    std::string address;  // the address other nodes reach this one at
    NodeResources resources;
    PortSet ports;
    std::string work_dir;                // node-local scratch for this job
    std::uint64_t scratch_capacity = 0;  // bytes of the filesystem holding HDFS data
    std::string problem;  // why this node cannot take part (a usage error found here), if any
    // Checked on the node before anything starts (services/node_check.hpp): the sources of the
    // user's and the site's binds that do not exist here ("/data (--bind)"), and the Pythons
    // the driver (if this node were the leader) and the executors would run here.
    std::vector<std::string> missing_binds;
    PythonReport driver_python;
    PythonReport executor_python;
    bool operator==(const NodeReport&) const = default;
};

struct PlanInputs {
    Options options;
    std::uint32_t job_id = 0;
    unsigned restart_count = 0;
    bool requeueable = false;       // the job may be requeued (asked of slurmctld by the leader)
    std::string job_dir;            // shared: logs; the leader's view
    std::string secret;             // per-job, from a CSPRNG on the leader
    std::string connect_token;      // likewise, for Spark Connect clients (with options.connect)
    std::string ui_token;           // likewise, the web UIs' login (ui_token_file)
    std::string user;               // the job's owner: HDFS's superuser, and its Kerberos name
    std::vector<NodeReport> nodes;  // indexed by rank; rank 0 is the leader
};

enum class Role { Leader, Worker, LeaderAndWorker, Idle };
const char* to_string(Role role);

struct NodePlan {
    unsigned rank = 0;
    std::string hostname;
    std::string address;
    Role role = Role::Idle;
    NodeResources detected;  // what the node reported, before any reserve
    unsigned worker_cores = 0;
    std::uint64_t worker_memory = 0;      // bytes offered by the Spark worker
    std::uint64_t datanode_reserved = 0;  // dfs.datanode.du.reserved, from --disk
    PortSet ports;
    std::string work_dir;  // node-local, removed at the end
    std::string conf_dir;
    std::string tmp_dir;  // TMPDIR and java.io.tmpdir of every program, so nothing lands in /tmp
    std::string spark_local_dir;
    std::string spark_worker_dir;
    std::string namenode_dir;  // leader only
    std::string datanode_dir;  // workers only

    bool runs_leader() const { return role == Role::Leader || role == Role::LeaderAndWorker; }
    bool runs_worker() const { return role == Role::Worker || role == Role::LeaderAndWorker; }
};

struct Plan {
    std::uint32_t job_id = 0;
    unsigned restart_count = 0;
    bool requeueable = false;
    bool hdfs = true;
    // HDFS authenticates its clients in the job's own Kerberos realm (kerberos_names below).
    bool kerberos = false;
    // Spark's RPC and block transfers are encrypted, and with Kerberos HDFS's too.
    bool wire_encryption = false;
    std::string user;  // the job's owner
    std::string leader_hostname;
    std::string leader_address;
    std::uint16_t control_port = 0;
    std::string master_url;          // spark://ADDR:PORT
    std::string master_webui_url;    // http://127.0.0.1:PORT: on the leader's loopback
    std::string hdfs_url;            // hdfs://ADDR:PORT (empty with --no-hdfs)
    std::string namenode_webui_url;  // http://ADDR:PORT
    std::string secret;
    // `up` holds the cluster instead of running a driver.
    bool interactive = false;
    // Spark Connect (with `up`, or `run --connect`): clients reach the TLS gateway at
    // connect_url; the server listens on the leader's loopback only.
    bool connect = false;
    std::string connect_url;  // sc://ADDR:PORT/;use_ssl=true (the token is not part of it)
    std::string connect_token;
    // The web UIs' login token: set on the leader only (the other ranks' daemons read
    // ui_token_file() themselves); never in the plan's JSON.
    std::string ui_token;
    unsigned stop_before_end_seconds = 90;
    unsigned min_workers = 1;  // a ready cluster with fewer live workers stops
    unsigned worker_count = 0;
    unsigned worker_cores = 0;        // per worker (all workers get the same)
    std::uint64_t worker_memory = 0;  // per worker
    unsigned replication = 1;
    std::string job_dir;
    std::string log_dir;
    std::string state_dir;       // empty: ephemeral
    std::string recovery_dir;    // Spark FILESYSTEM recovery (with a state dir)
    std::string checkpoint_dir;  // for the application (with a state dir)
    std::string event_log_dir;   // <job_dir>/spark-events (empty with --no-event-log)
    unsigned ready_timeout_seconds = 300;
    // In an image (runtime/image_check found them on the leader; empty for a host install). Each
    // node's class-data sharing cache keys and builds its archives from these.
    ImageInstalls image;
    std::vector<NodePlan> nodes;  // by rank

    const NodePlan& leader() const { return nodes.front(); }
};

// spark-env.sh's lines that put the UI login filter's jar for the running Spark (jakarta for
// Spark 4, javax before) on every Spark JVM's class path, from $SPARK_SLURM_UI_JARS.
std::string ui_login_spark_env();

// The one door to the web UIs (issue 28): the master's UI reverse-proxies every worker's and
// application's (spark.ui.reverseProxy), so that one tunnel to the leader reaches them all; they
// listen on their node's cluster address, behind the login filter. The proxy's hops carry the
// login cookie and the pages, and Spark's proxy speaks no TLS to its targets: with
// --wire-encryption on (nothing of the job in clear on the network) the UIs stay on each node's
// loopback instead, one tunnel per node.
bool ui_reverse_proxy(bool wire_encryption);
// Where a node's Spark web UIs listen (SPARK_LOCAL_IP): `node_address`, or with
// --wire-encryption on the loopback (kWebUiAddress).
std::string web_ui_address(bool wire_encryption, const std::string& node_address);

// <job dir>/credentials/ui-token (0600): the web UIs' login token (common/ui_login.hpp), written
// by the leader.
std::string ui_token_file(const Plan& plan);

// The applications' Spark event logs go to this directory of the job dir, where
// `spark-slurm history` finds them (all of a requeued job's runs: Spark names each by its
// application id).
inline constexpr const char* kEventLogDirName = "spark-events";

// Memory kept back on a node for the OS and the daemons' own JVMs.
std::uint64_t memory_reserve(std::uint64_t node_memory, Role role, bool hdfs);

// Throws UsageError when the request cannot fit the allocation (e.g. more workers than nodes),
// when a bind source is missing on a node, or when an executor's Python differs from the
// driver's in its minor version (or a chosen one does not run) — naming the node.
Plan make_plan(const PlanInputs& inputs);

// The job's Kerberos realm (with plan.kerberos): its names, and the files of its credentials
// directory <job dir>/credentials (0700, on the shared filesystem, so that every node of the job
// finds its keytab there; every file in it 0600). The KDC (src/kdc/SparkSlurmKdc.java) writes
// the keytabs and the keystore; the leader writes krb5.conf and fetches the token.
struct KerberosNames {
    std::string realm;               // JOB123.SPARK-SLURM
    std::string namenode_principal;  // nn/job123@REALM: host-free, so no DNS is involved
    std::string datanode_principal;  // dn/job123@REALM, shared by every datanode of the job
    std::string http_principal;      // HTTP/job123@REALM (the namenode's SPNEGO endpoint)
    std::string owner_principal;     // USER@REALM: the driver and the login-node clients
    std::string dir;                 // the credentials directory
    std::string krb5_conf;           // for every JVM: -Djava.security.krb5.conf
    std::string namenode_keytab;
    std::string datanode_keytab;
    std::string http_keytab;
    std::string owner_keytab;
    std::string token_file;  // an HDFS delegation token for the executors
    std::string keystore;    // PKCS12, the TLS key of the HTTPS endpoints (password: the secret)
    std::string ca_file;     // its certificate, PEM, to check the HTTPS endpoints against
    std::string ready_file;  // the KDC writes it once every keytab and the keystore exist
    // The realm's keys, saved by the KDC at its first start of a run; a KDC restarted within the
    // run serves them again (src/kdc/SparkSlurmKdc.java). A new run (a requeue) starts without.
    std::string saved_keys;
};
KerberosNames kerberos_names(const Plan& plan);

// The java option every JVM of the job needs (JDK 17 ignores KRB5_CONFIG); empty without Kerberos.
std::string kerberos_java_option(const Plan& plan);

// krb5.conf for the job's realm: the KDC on the leader, TCP only, no DNS, AES only.
std::string render_krb5_conf(const Plan& plan);

struct ConfigFiles {
    std::string spark_defaults;  // spark-defaults.conf (holds the secret: write it 0600)
    std::string spark_env;       // spark-env.sh
    std::string core_site;       // core-site.xml
    std::string hdfs_site;       // hdfs-site.xml
    std::string ssl_server;      // ssl-server.xml (with Kerberos: the HTTPS endpoints' keystore)
    std::string hadoop_log4j;    // log4j.properties of the HDFS daemons (with HDFS)
    // With Kerberos, on the leader: the core-site.xml of the namenode format (in
    // format_conf_dir(), next to the same hdfs-site.xml). Formatting writes an empty namespace
    // to a local directory and needs no login, so it need not wait for the KDC.
    std::string format_core_site;
};
std::string format_conf_dir(const NodePlan& node);

// `spark_settings`: more spark-defaults.conf settings, for the leader's driver and executors
// (the class archive's, cds/cds.hpp).
using SparkSettings = std::vector<std::pair<std::string, std::string>>;
ConfigFiles render_configs(const Plan& plan, const NodePlan& node,
                           const SparkSettings& spark_settings = {});

// What a client outside the job (a login-node shell after `spark-slurm env`) needs: the master,
// the job's secret and HDFS, but no driver address or directories of the leader's.
struct ClientConfigFiles {
    std::string spark_defaults;  // holds the secret: write it 0600
    // Read by Spark's scripts from the conf dir: the options of spark-class's own launcher JVM
    // (SPARK_LAUNCHER_OPTS), so that it leaves no hsperfdata in /tmp.
    std::string spark_env;
    std::string core_site;  // empty without HDFS
    std::string hdfs_site;
    // What a client's shell must export besides SPARK_CONF_DIR/HADOOP_CONF_DIR: with HDFS,
    // HADOOP_CLIENT_OPTS (no hsperfdata in /tmp; the `hdfs` of scripts/install-spark-hadoop
    // reads no hadoop-env.sh); with Kerberos, KRB5PRINCIPAL and KRB5KEYTAB, from which Hadoop
    // logs in by itself, and the realm's JVM option.
    std::vector<std::pair<std::string, std::string>> environment;
};
ClientConfigFiles render_client_configs(const Plan& plan);

// The Spark configuration of the Connect server (spark-submit --conf pairs): bound to the
// leader's loopback, and with executors given back when idle, so that a held cluster's Connect
// server does not keep the cores from applications submitted next to it.
std::vector<std::pair<std::string, std::string>> connect_server_settings(const Plan& plan);

// Human-readable summary for `spark-slurm plan`; the secret is never shown.
std::string describe_plan(const Plan& plan);

// Where a daemon's log goes (shared job dir, so the user can read every node's logs).
std::string log_path(const Plan& plan, const NodePlan& node, const std::string& daemon);

}  // namespace spark_slurm
