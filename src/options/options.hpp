// The launcher's options: what the user asked for, validated, before anything is probed or
// started. Each option is declared once (options.cpp) with its environment variable, default and
// help; values come from the command line, then `--config FILE` (INI), then SPARK_SLURM_*
// variables, the first source that sets a value winning.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace spark_slurm {

// Env, Status, List and Down are the clients of an interactive cluster: they run anywhere the
// owner has a shell (the login node) and read the cluster's connection record.
enum class Command { Run, Up, Plan, Doctor, Env, Status, List, Down, History, Ui };
enum class RuntimeChoice { Auto, Apptainer, Singularity, None };
// How HDFS tells who a client is: a per-job Kerberos realm (docs/security.md), or Hadoop's
// "simple" auth, which believes any user name a client claims.
enum class HdfsAuth { Kerberos, None };

const char* to_string(Command command);
const char* to_string(RuntimeChoice runtime);
const char* to_string(HdfsAuth auth);

// One directory a container sees, in Apptainer's syntax SRC[:DST[:ro|rw]] (DST defaults to SRC).
struct BindMount {
    std::string source;
    std::string destination;
    bool read_only = false;

    // Back in Apptainer's syntax, for `--bind`.
    std::string spec() const;
    bool operator==(const BindMount&) const = default;
};

// Parses Apptainer's comma-separated bind list. Throws UsageError naming `option` and the fix
// for an entry that is not SRC[:DST[:ro|rw]] with absolute paths.
std::vector<BindMount> parse_bind_list(const std::string& text, const std::string& option,
                                       Command command);

struct Options {
    Command command = Command::Run;

    // Cluster shape. Unset means "decide from the allocation and the detected resources".
    std::optional<unsigned> workers;
    std::optional<unsigned> cores;        // per worker
    std::optional<std::uint64_t> memory;  // per worker, bytes
    std::optional<std::uint64_t> disk;    // HDFS capacity per datanode, bytes
    std::optional<std::string> leader_ip;
    bool hdfs = true;
    bool worker_on_leader = false;
    HdfsAuth hdfs_auth = HdfsAuth::Kerberos;
    // Spark's network crypto and, with Kerberos, HDFS's privacy protection (docs/security.md).
    bool wire_encryption = false;

    // How daemons run.
    RuntimeChoice runtime = RuntimeChoice::Auto;
    bool sudo = false;
    std::optional<std::string> image;
    std::optional<std::string> spark_image;
    std::optional<std::string> hadoop_image;
    std::optional<std::string> spark_home;   // overrides SPARK_HOME (host, or inside the image)
    std::optional<std::string> hadoop_home;  // overrides HADOOP_HOME
    bool cds = true;  // class-data sharing archives for the Spark daemons (host install)

    // What the programs see and run: directories every daemon, executor and the driver see
    // (--bind, added to those the launcher binds itself), and the Python of the driver and the
    // executors (--python; unset: PYSPARK_PYTHON / PYSPARK_DRIVER_PYTHON, else the default).
    std::vector<BindMount> binds;
    std::optional<std::string> python;

    // Where things go.
    std::optional<std::string> work_dir;   // node-local scratch
    std::optional<std::string> state_dir;  // durable, shared
    std::optional<std::string> job_dir;    // shared: logs and what the driver is told
    unsigned ready_timeout_seconds = 300;
    std::optional<std::string> events_file;  // `run`: the leader's JSON-lines account of the job
    bool event_log = true;  // Spark event logs of the applications into the job dir

    // `history`: the jobs whose event logs to serve (none: every recorded job) and the port of
    // the history server (unset: a free one).
    std::vector<std::uint32_t> history_jobs;
    std::optional<std::uint16_t> port;

    // Spark Connect on the leader (always with `up`; with `run --connect`).
    bool connect = false;
    // `up`: stop cleanly this long before the allocation's end, instead of being killed at it.
    unsigned stop_before_end_seconds = 90;
    unsigned min_workers = 1;  // run, up: fewer live workers than this stop a ready cluster

    // `plan` (and the clients status, list): print JSON (on the leader, or on every rank), and
    // preview a cluster without an allocation.
    bool json = false;
    bool every_rank = false;
    std::optional<unsigned> preview_nodes;
    std::optional<unsigned> preview_cores_per_node;
    std::optional<std::uint64_t> preview_memory_per_node;

    // The clients (env, status, list, down): which cluster (unset: the only one running), and how
    // long `down` waits for it to stop. `json` above also serves status and list.
    std::optional<std::uint32_t> job_id;
    unsigned down_timeout_seconds = 120;
    bool browser = false;  // `ui`: also open the master's UI in this machine's browser

    // `run`: the driver command after "--" (`up` has none: it holds the cluster).
    std::vector<std::string> driver;
};

using Environment = std::map<std::string, std::string>;

// What the command line asked for: options to act on, or text to print and exit 0.
struct ParsedCommandLine {
    enum class Action { Proceed, PrintText } action = Action::Proceed;
    Options options;
    std::string text;  // --help / --version output
};

// argv[0] excluded. Throws UsageError naming the problem and the fix.
ParsedCommandLine parse_command_line(const std::vector<std::string>& args,
                                     const Environment& environment);

Environment current_environment();

std::string version_text();

}  // namespace spark_slurm
