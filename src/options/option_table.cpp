#include "options/option_table.hpp"

#include <sstream>

#include "common/enum_names.hpp"
#include "common/errors.hpp"

namespace spark_slurm::option_table {

namespace po = boost::program_options;

namespace {

// SPARK_SLURM_WORKERS, SPARK_SLURM_JOB_DIR, ... are what the driver is *given*; they are not
// read back as options, so a nested spark-slurm call cannot pick them up by accident.
constexpr OptionSpec kOptionTable[] = {
    {"config", "SPARK_SLURM_CONFIG", Kind::Text, kAny | kHistory, "FILE", nullptr,
     "read options from an INI file (one 'name = value' per line, names as the long options)"},
    {"workers", "SPARK_SLURM_NUM_WORKERS", Kind::Count, kAll, "N", "every node but the leader",
     "number of Spark worker + HDFS datanode nodes (>= 1)", &Options::workers, "4"},
    {"cores", "SPARK_SLURM_CORES", Kind::Count, kAll, "N", "detected with hwloc",
     "cores each Spark worker offers", &Options::cores, "16"},
    {"memory", "SPARK_SLURM_MEMORY", Kind::Size, kAll, "SIZE",
     "detected, minus a reserve for the OS and daemons", "memory each Spark worker offers",
     &Options::memory},
    {"disk", "SPARK_SLURM_DISK", Kind::Size, kAll, "SIZE", "all free space",
     "HDFS capacity of each datanode", &Options::disk},
    {"leader-ip", "SPARK_SLURM_LEADER_IP", Kind::Text, kAll, "ADDR",
     "the address the leader's hostname resolves to",
     "address the leader advertises to the workers; must belong to the leader node"},
    {"no-hdfs", "SPARK_SLURM_NO_HDFS", Kind::Flag, kAny, nullptr, nullptr,
     "run Spark only, no HDFS namenode or datanodes: for data on a shared filesystem, read "
     "and written as file:// paths (see docs/data-and-python.md)"},
    {"hdfs-auth", "SPARK_SLURM_HDFS_AUTH", Kind::Choice, kAny, "MODE", "kerberos",
     "how HDFS authenticates its clients: kerberos (a per-job realm; only this job's programs "
     "get credentials) or none (any user who can reach the namenode may claim to be you; see "
     "docs/security.md)"},
    {"wire-encryption", "SPARK_SLURM_WIRE_ENCRYPTION", Kind::Choice, kAll, "MODE", "off",
     "on: Spark's RPC and block transfers (AES-GCM) and, with --hdfs-auth kerberos, HDFS's RPC "
     "and block transfers (AES) are encrypted, against whoever can watch the cluster's network; "
     "off: they are authenticated but travel in clear (see docs/security.md for the cost)"},
    {"worker-on-leader", "SPARK_SLURM_WORKER_ON_LEADER", Kind::Flag, kAll, nullptr, nullptr,
     "also run a worker + datanode on the leader node (for small allocations)",
     &Options::worker_on_leader},
    {"runtime", "SPARK_SLURM_RUNTIME", Kind::Choice, kAny | kHistory, "NAME",
     "the first installed of apptainer, singularity, none",
     "how daemons run: apptainer, singularity or none (host install from SPARK_HOME, "
     "HADOOP_HOME, JAVA_HOME)"},
    {"sudo", "SPARK_SLURM_SUDO", Kind::Flag, kAny | kHistory, nullptr, nullptr,
     "run the container runtime through 'sudo -n'", &Options::sudo},
    {"image", "SPARK_SLURM_IMAGE", Kind::Text, kAny | kHistory, "SIF", nullptr,
     "one SIF image with Spark and Hadoop (see singularity/README.md)"},
    {"spark-image", "SPARK_SLURM_SPARK_IMAGE", Kind::Text, kAny | kHistory, "SIF", nullptr,
     "SIF image for the Spark master, workers and the driver"},
    {"hadoop-image", "SPARK_SLURM_HADOOP_IMAGE", Kind::Text, kAny, "SIF", nullptr,
     "SIF image for the HDFS namenode and datanodes"},
    {"spark-home", "SPARK_SLURM_SPARK_HOME", Kind::Text, kAny | kHistory, "DIR",
     "$SPARK_HOME (the image's, in a container)",
     "the Spark install to run; inside an image, a path in the image"},
    {"hadoop-home", "SPARK_SLURM_HADOOP_HOME", Kind::Text, kAny, "DIR",
     "$HADOOP_HOME (the image's, in a container)",
     "the Hadoop install to run; inside an image, a path in the image"},
    {"bind", "SPARK_SLURM_BIND", Kind::List, kAll, "SRC[:DST[:ro]],...", nullptr,
     "also show these directories to every daemon, executor and the driver (Apptainer's "
     "syntax; repeatable; added to the submit dir, $HOME, the job and state dirs and "
     "APPTAINER_BIND, which they see anyway); each source must exist on every node"},
    {"python", "SPARK_SLURM_PYTHON", Kind::Text, kAll, "PATH",
     "$PYSPARK_DRIVER_PYTHON/$PYSPARK_PYTHON, else the image's Python or python3",
     "the Python of the driver and every executor, e.g. a venv on a shared filesystem (bound "
     "into containers); every node's is checked against the driver's before anything starts"},
    {"work-dir", "SPARK_SLURM_WORK_DIR", Kind::Text, kAny, "DIR",
     "$TMPDIR/spark-slurm-JOBID (node-local, removed at the end)",
     "node-local scratch for configs, Spark shuffle and ephemeral HDFS data"},
    {"state-dir", "SPARK_SLURM_STATE_DIR", Kind::Text, kAll, "DIR",
     "none: the cluster is ephemeral",
     "durable directory on a shared filesystem for HDFS data and Spark recovery"},
    {"job-dir", nullptr, Kind::Text, kAll | kHistory, "DIR", "$SLURM_SUBMIT_DIR/spark-slurm-JOBID",
     "shared directory for the daemons' logs and the applications' event logs (history: serve "
     "the event logs of the job that used DIR)"},
    {"ready-timeout", "SPARK_SLURM_READY_TIMEOUT", Kind::Count, kAll, "SEC", nullptr,
     "give up when the cluster is not ready after this many seconds",
     &Options::ready_timeout_seconds, "300"},
    {"min-workers", "SPARK_SLURM_MIN_WORKERS", Kind::Count, kRun, "N", nullptr,
     "a ready cluster that loses workers goes on while it has N; with fewer it stops, naming "
     "the nodes it lost, instead of leaving the driver waiting for executors",
     &Options::min_workers, "2"},
    {"events", "SPARK_SLURM_EVENTS", Kind::Text, kRun, "FILE", nullptr,
     "the leader appends one JSON object per line to FILE as the job goes (phases, daemons up, "
     "workers and datanodes counted, restarts, the driver's exit): for scripts and benchmarks"},
    {"connect", "SPARK_SLURM_CONNECT", Kind::Flag, kRun, nullptr, "on with 'up'",
     "also start a Spark Connect server on the leader, with a per-job token, behind a TLS "
     "gateway (see docs/interactive.md)"},
    {"no-connect", "SPARK_SLURM_NO_CONNECT", Kind::Flag, kRun, nullptr, nullptr,
     "up: no Spark Connect server (for a Spark without it); spark-submit, pyspark and hdfs "
     "still reach the cluster after 'spark-slurm env'"},
    {"no-cds", "SPARK_SLURM_NO_CDS", Kind::Flag, kRun, nullptr, nullptr,
     "start the Spark and HDFS daemons, the KDC, the HDFS helpers, and (with --runtime none) "
     "the driver and its executors without class-data sharing archives (by default each "
     "user's are kept in ~/.cache/spark-slurm/cds, per install or image, written by the first "
     "run)",
     Clears{&Options::cds}},
    {"stop-before-end", "SPARK_SLURM_STOP_BEFORE_END", Kind::Count, kRun, "SEC", nullptr,
     "up: stop the cluster cleanly (saving HDFS with --state-dir) this many seconds before the "
     "allocation's time limit, instead of being killed at it",
     &Options::stop_before_end_seconds, "120"},
    {"no-event-log", "SPARK_SLURM_NO_EVENT_LOG", Kind::Flag, kAll, nullptr, nullptr,
     "keep no Spark event logs (by default every application's goes, rolling and compressed, "
     "to JOB-DIR/spark-events, for 'spark-slurm history')",
     Clears{&Options::event_log}},
    {"port", nullptr, Kind::Count, kHistory, "N", "a free port",
     "the port of the history server's web UI and REST API (bound to 127.0.0.1)"},
    {"json", nullptr, Kind::Flag, kPlan, nullptr, nullptr, "print the plan as JSON",
     &Options::json},
    {"every-rank", nullptr, Kind::Flag, kPlan, nullptr, nullptr,
     "in an allocation, every rank prints the plan it received (default: the leader only), to "
     "check that all agree; use 'srun -o plan-%t.json' to keep them apart",
     &Options::every_rank},
    {"nodes", nullptr, Kind::Count, kPlan, "N", "the allocation's",
     "preview: plan for N nodes without an allocation", &Options::preview_nodes, "1000"},
    {"cores-per-node", nullptr, Kind::Count, kPlan, "N", "this machine's",
     "preview: cores of each node", &Options::preview_cores_per_node, "64"},
    {"memory-per-node", nullptr, Kind::Size, kPlan, "SIZE", "this machine's",
     "preview: memory of each node", &Options::preview_memory_per_node},
    {"job", nullptr, Kind::Text, kEnv | kStatus | kDown | kUi, "ID", "your only running cluster",
     "the Slurm job id of the cluster (see 'spark-slurm list')"},
    {"json", nullptr, Kind::Flag, kStatus | kList, nullptr, nullptr,
     "print one JSON object instead of text", &Options::json},
    {"browser", nullptr, Kind::Flag, kUi, nullptr, nullptr,
     "also open the master's UI in a browser on this machine ($BROWSER, else xdg-open), through "
     "a private login page (the token on no command line): on a machine that reaches the "
     "master's address, e.g. a desktop session on the login node",
     &Options::browser},
    {"timeout", nullptr, Kind::Count, kDown, "SEC", "120",
     "give up waiting for the cluster to stop after this many seconds"},
};

}  // namespace

std::span<const OptionSpec> all() { return kOptionTable; }

void take_flags(Command command, const po::variables_map& values, Options& options) {
    for (const auto& spec : kOptionTable) {
        if (spec.kind != Kind::Flag || !in_scope(spec, command) || !values.count(spec.name) ||
            !values[spec.name].as<bool>())
            continue;
        if (auto* field = std::get_if<bool Options::*>(&spec.target)) options.*(*field) = true;
        if (auto* clears = std::get_if<Clears>(&spec.target)) options.*(clears->field) = false;
    }
}

std::string default_text(const OptionSpec& spec) {
    if (spec.default_text) return spec.default_text;
    if (auto* field = std::get_if<unsigned Options::*>(&spec.target))
        return std::to_string(Options{}.*(*field));
    return "";
}

bool in_scope(const OptionSpec& spec, Command command) {
    switch (command) {
        case Command::Run:
        case Command::Up:
            return spec.scope & kRun;
        case Command::Plan:
            return spec.scope & kPlan;
        case Command::Doctor:
            return spec.scope & kDoctor;
        case Command::Env:
            return spec.scope & kEnv;
        case Command::Status:
            return spec.scope & kStatus;
        case Command::List:
            return spec.scope & kList;
        case Command::Down:
            return spec.scope & kDown;
        case Command::History:
            return spec.scope & kHistory;
        case Command::Ui:
            return spec.scope & kUi;
    }
    return false;
}

po::options_description describe(Command command, bool for_help) {
    const char* title = !for_help            ? ""
                        : is_client(command) ? "Options"
                                             : "Options (command line > --config file > "
                                               "environment variable)";
    po::options_description description(title, 100, 50);
    for (const auto& spec : kOptionTable) {
        if (!in_scope(spec, command)) continue;
        std::string help = spec.help;
        if (auto shown = default_text(spec); !shown.empty()) help += " [default: " + shown + "]";
        if (spec.environment) help += std::string(" [env: ") + spec.environment + "]";
        if (spec.kind == Kind::Flag) {
            description.add_options()(spec.name, po::bool_switch(), help.c_str());
        } else if (spec.kind == Kind::List) {
            description.add_options()(
                spec.name,
                po::value<std::vector<std::string>>()->composing()->value_name(spec.value_name),
                help.c_str());
        } else {
            description.add_options()(
                spec.name, po::value<std::string>()->value_name(spec.value_name), help.c_str());
        }
    }
    description.add_options()("help,h", "show this help");
    return description;
}

constexpr EnumName<Command> kUsageLines[] = {
    {Command::Run, "spark-slurm run [OPTIONS] -- COMMAND [ARGS...]"},
    {Command::Up, "spark-slurm up [OPTIONS]"},
    {Command::Plan, "spark-slurm plan [OPTIONS]"},
    {Command::Doctor, "spark-slurm doctor [OPTIONS]"},
    {Command::Env, "spark-slurm env [--job ID]"},
    {Command::Status, "spark-slurm status [--job ID] [--json]"},
    {Command::List, "spark-slurm list [--json]"},
    {Command::Down, "spark-slurm down [--job ID] [--timeout SEC]"},
    {Command::History, "spark-slurm history [OPTIONS] [JOBID...]"},
    {Command::Ui, "spark-slurm ui [--job ID] [--browser]"},
};

std::string usage_line(Command command) { return enum_name(kUsageLines, command, ""); }

std::string command_help(Command command) {
    std::ostringstream out;
    out << "Usage: " << usage_line(command) << "\n\n";
    if (command == Command::Run) {
        out << "Start a private Spark standalone + HDFS cluster on the nodes of this Slurm job,\n"
               "run COMMAND (the driver) on the leader with SPARK_MASTER_URL, HDFS_URL,\n"
               "SPARK_CONF_DIR and HADOOP_CONF_DIR set, then stop everything. Start one\n"
               "launcher per node:\n\n"
               "  srun --ntasks-per-node=1 --mpi=pmix spark-slurm run -- spark-submit app.py\n\n"
               "Rank 0 runs the Spark master and HDFS namenode, the other ranks a Spark worker\n"
               "and an HDFS datanode each. The exit status is the driver's.\n\n";
    } else if (command == Command::Up) {
        out << "Start the same cluster as 'run', with a Spark Connect server, and hold it for\n"
               "interactive work until 'spark-slurm down', scancel, or shortly before the job's\n"
               "time limit (--stop-before-end). Start one launcher per node, as for 'run':\n\n"
               "  srun --ntasks-per-node=1 --mpi=pmix spark-slurm up\n\n"
               "Then, from any shell of yours (the login node too):\n\n"
               "  spark-slurm list                 your running clusters\n"
               "  eval \"$(spark-slurm env)\"        spark-submit, pyspark, hdfs dfs and\n"
               "                                   SPARK_REMOTE (Spark Connect) use the cluster\n"
               "  spark-slurm status               workers, datanodes, applications, time left\n"
               "  spark-slurm down                 stop it; the job step ends as COMPLETED\n\n"
               "The connection details are kept in ~/.spark-slurm/clusters/JOBID/ (mode 0700),\n"
               "readable by you only.\n\n";
    } else if (command == Command::Plan) {
        out << "Print the cluster plan (roles, cores, memory, ports, directories) without\n"
               "starting anything. Inside an allocation, run it like 'run' (srun ... spark-slurm\n"
               "plan): a dry run of 'run' that probes every node, meets through MPI and prints\n"
               "what 'run' would do, once, on the leader. Anywhere else, preview with --nodes "
               "N.\n\n";
    } else if (command == Command::Env) {
        out << "Print the shell commands that point Spark and Hadoop clients at a running\n"
               "interactive cluster (started with 'spark-slurm up'), for a shell on the login\n"
               "node: after eval \"$(spark-slurm env)\", spark-submit, pyspark and hdfs dfs use\n"
               "it. Sets SPARK_CONF_DIR, HADOOP_CONF_DIR, SPARK_MASTER_URL, HDFS_URL,\n"
               "SPARK_SLURM_JOB_ID, SPARK_LOCAL_HOSTNAME (this machine's address towards the\n"
               "cluster, where a driver started here listens for its executors) and\n"
               "SPARK_LOCAL_IP=127.0.0.1 (that driver's web UI: this machine's loopback, behind\n"
               "the job's login), SPARK_REMOTE with Spark Connect, and SPARK_HOME and PATH when\n"
               "the cluster's Spark install is visible here. Only the cluster's owner can read\n"
               "its connection details.\n\n";
    } else if (command == Command::Status) {
        out << "Show a running interactive cluster: its workers and their cores and memory,\n"
               "running and completed applications, live HDFS datanodes and space used, the\n"
               "time left in the allocation, the web UI and Spark Connect addresses, and the\n"
               "'ssh -L' lines that reach them from a laptop through the login node.\n\n";
    } else if (command == Command::Ui) {
        out << "Print the login links of a running cluster's web UIs (the Spark master's, whose\n"
               "page leads to the workers' and applications', and the HDFS namenode's) and the\n"
               "'ssh -L' lines that reach them from a laptop. Every UI of the job answers its\n"
               "owner only: a link logs a browser in once (a cookie, for this job only); other\n"
               "users, and requests without it, get 401. Treat the link like a password.\n\n";
    } else if (command == Command::List) {
        out << "List your running interactive clusters: job id, nodes, age, time left and\n"
               "master URL. Records of jobs that no longer run are removed.\n\n";
    } else if (command == Command::Down) {
        out << "Stop an interactive cluster: ask its launcher to stop the daemons cleanly (the\n"
               "job then ends COMPLETED), and wait until it has. Exits 1 when the cluster has\n"
               "not stopped within --timeout.\n\n";
    } else if (command == Command::History) {
        out << "Start Spark's history server here (a login node), as you, over the event logs of\n"
               "finished or running jobs, and print its URL and the ssh tunnel that reaches it\n"
               "from your machine. It listens on 127.0.0.1 only and stops with Ctrl-C, leaving\n"
               "nothing behind. Each job's leader records where its event logs are in\n"
               "~/.spark-slurm/history/JOBID; without JOBID every recorded job is served, and\n"
               "./spark-slurm-JOBID directories here are looked at too. --job-dir DIR serves the\n"
               "job that ran with that --job-dir. Runs the host install (--spark-home,\n"
               "SPARK_HOME) or, without one, Spark from --image.\n\n";
    } else {
        out << "Check that this machine can run spark-slurm: Slurm reachable and its version, the\n"
               "PMIx/PMI2 MPI plugins, the requeue setting, the container runtime and whether\n"
               "unprivileged users can run it, the image's contract (with --image), the host's\n"
               "Java/Spark/Hadoop (with --runtime none), the default ports, node-local scratch.\n"
               "Run it on a login node or inside a small allocation (srun -N1 spark-slurm\n"
               "doctor). One line per check: ok, warn or FAIL with what to fix; the exit status\n"
               "is 1 when a check failed.\n\n";
    }
    out << describe(command, true);
    return out.str();
}

std::string general_help() {
    return "Usage: spark-slurm COMMAND [OPTIONS]\n\n"
           "A private Apache Spark + HDFS cluster inside a Slurm allocation.\n\n"
           "Commands:\n"
           "  run     start the cluster, run a driver command on it, tear it down\n"
           "  up      start the cluster and hold it for interactive work (Spark Connect)\n"
           "  plan    show what 'run' would start, without starting anything\n"
           "  doctor  check that this machine and the site's setup can run spark-slurm\n"
           "  env     print the exports that point spark-submit, pyspark, hdfs at a cluster\n"
           "  status  show a running cluster: workers, applications, HDFS, time left, tunnels\n"
           "  ui      print the login links of a running cluster's web UIs (yours alone)\n"
           "  list    list your running clusters\n"
           "  down    stop a running cluster\n"
           "  history serve finished jobs' Spark event logs with Spark's history server\n\n"
           "Options:\n"
           "  -h, --help     show this help ('spark-slurm COMMAND --help' for a command's "
           "options)\n"
           "  --version      show the version\n";
}

[[noreturn]] void reject(Command command, const std::string& problem) {
    throw UsageError("spark-slurm " + std::string(to_string(command)) + ": " + problem);
}

}  // namespace spark_slurm::option_table
