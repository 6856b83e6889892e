#include "options/options.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/errors.hpp"
#include "common/sizes.hpp"
#include "spark_slurm_version.hpp"

extern char** environ;

namespace po = boost::program_options;

namespace spark_slurm {

namespace {

// List: repeatable; values from the command line, the config file and the environment add up.
enum class Kind { Flag, Count, Size, Text, Choice, List };
// kAny: also `doctor`, which checks what the runtime and scratch options name.
enum Scope : unsigned {
    kRun = 1,
    kPlan = 2,
    kDoctor = 4,
    kAll = kRun | kPlan,
    kAny = kAll | kDoctor
};

// One row per option: the single place where its name, environment variable, default and help
// live. Values are taken as text and validated here, so every rejection names the option.
struct OptionSpec {
    const char* name;
    const char* environment;  // nullptr: no environment variable
    Kind kind;
    unsigned scope;
    const char* value_name;
    const char* default_text;  // shown in --help; nullptr: none
    const char* help;
};

// SPARK_SLURM_WORKERS, SPARK_SLURM_JOB_DIR, ... are what the driver is *given*; they are not
// read back as options, so a nested spark-slurm call cannot pick them up by accident.
constexpr OptionSpec kOptionTable[] = {
    {"config", "SPARK_SLURM_CONFIG", Kind::Text, kAny, "FILE", nullptr,
     "read options from an INI file (one 'name = value' per line, names as the long options)"},
    {"workers", "SPARK_SLURM_NUM_WORKERS", Kind::Count, kAll, "N", "every node but the leader",
     "number of Spark worker + HDFS datanode nodes (>= 1)"},
    {"cores", "SPARK_SLURM_CORES", Kind::Count, kAll, "N", "detected with hwloc",
     "cores each Spark worker offers"},
    {"memory", "SPARK_SLURM_MEMORY", Kind::Size, kAll, "SIZE",
     "detected, minus a reserve for the OS and daemons", "memory each Spark worker offers"},
    {"disk", "SPARK_SLURM_DISK", Kind::Size, kAll, "SIZE", "all free space",
     "HDFS capacity of each datanode"},
    {"leader-ip", "SPARK_SLURM_LEADER_IP", Kind::Text, kAll, "ADDR",
     "the address the leader's hostname resolves to",
     "address the leader advertises to the workers; must belong to the leader node"},
    {"no-hdfs", "SPARK_SLURM_NO_HDFS", Kind::Flag, kAny, nullptr, nullptr,
     "run Spark only, no HDFS namenode or datanodes: for data on a shared filesystem, read "
     "and written as file:// paths (see docs/data-and-python.md)"},
    {"worker-on-leader", "SPARK_SLURM_WORKER_ON_LEADER", Kind::Flag, kAll, nullptr, nullptr,
     "also run a worker + datanode on the leader node (for small allocations)"},
    {"runtime", "SPARK_SLURM_RUNTIME", Kind::Choice, kAny, "NAME",
     "the first installed of apptainer, singularity, none",
     "how daemons run: apptainer, singularity or none (host install from SPARK_HOME, "
     "HADOOP_HOME, JAVA_HOME)"},
    {"sudo", "SPARK_SLURM_SUDO", Kind::Flag, kAny, nullptr, nullptr,
     "run the container runtime through 'sudo -n'"},
    {"image", "SPARK_SLURM_IMAGE", Kind::Text, kAny, "SIF", nullptr,
     "one SIF image with Spark and Hadoop (see singularity/README.md)"},
    {"spark-image", "SPARK_SLURM_SPARK_IMAGE", Kind::Text, kAny, "SIF", nullptr,
     "SIF image for the Spark master, workers and the driver"},
    {"hadoop-image", "SPARK_SLURM_HADOOP_IMAGE", Kind::Text, kAny, "SIF", nullptr,
     "SIF image for the HDFS namenode and datanodes"},
    {"spark-home", "SPARK_SLURM_SPARK_HOME", Kind::Text, kAny, "DIR",
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
    {"job-dir", nullptr, Kind::Text, kAll, "DIR", "$SLURM_SUBMIT_DIR/spark-slurm-JOBID",
     "shared directory for the daemons' logs"},
    {"ready-timeout", "SPARK_SLURM_READY_TIMEOUT", Kind::Count, kAll, "SEC", "300",
     "give up when the cluster is not ready after this many seconds"},
    {"events", "SPARK_SLURM_EVENTS", Kind::Text, kRun, "FILE", nullptr,
     "the leader appends one JSON object per line to FILE as the job goes (phases, daemons up, "
     "workers and datanodes counted, restarts, the driver's exit): for scripts and benchmarks"},
    {"json", nullptr, Kind::Flag, kPlan, nullptr, nullptr, "print the plan as JSON"},
    {"every-rank", nullptr, Kind::Flag, kPlan, nullptr, nullptr,
     "in an allocation, every rank prints the plan it received (default: the leader only), to "
     "check that all agree; use 'srun -o plan-%t.json' to keep them apart"},
    {"nodes", nullptr, Kind::Count, kPlan, "N", "the allocation's",
     "preview: plan for N nodes without an allocation"},
    {"cores-per-node", nullptr, Kind::Count, kPlan, "N", "this machine's",
     "preview: cores of each node"},
    {"memory-per-node", nullptr, Kind::Size, kPlan, "SIZE", "this machine's",
     "preview: memory of each node"},
};

bool in_scope(const OptionSpec& spec, Command command) {
    switch (command) {
        case Command::Run:
            return spec.scope & kRun;
        case Command::Plan:
            return spec.scope & kPlan;
        case Command::Doctor:
            return spec.scope & kDoctor;
    }
    return false;
}

po::options_description describe(Command command, bool for_help) {
    po::options_description description(
        for_help ? "Options (command line > --config file > environment variable)" : "", 100, 50);
    for (const auto& spec : kOptionTable) {
        if (!in_scope(spec, command)) continue;
        std::string help = spec.help;
        if (spec.default_text) help += std::string(" [default: ") + spec.default_text + "]";
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

std::string usage_line(Command command) {
    switch (command) {
        case Command::Run:
            return "spark-slurm run [OPTIONS] -- COMMAND [ARGS...]";
        case Command::Plan:
            return "spark-slurm plan [OPTIONS]";
        case Command::Doctor:
            return "spark-slurm doctor [OPTIONS]";
    }
    return "";
}

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
    } else if (command == Command::Plan) {
        out << "Print the cluster plan (roles, cores, memory, ports, directories) without\n"
               "starting anything. Inside an allocation, run it like 'run' (srun ... spark-slurm\n"
               "plan): a dry run of 'run' that probes every node, meets through MPI and prints\n"
               "what 'run' would do, once, on the leader. Anywhere else, preview with --nodes "
               "N.\n\n";
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
           "  plan    show what 'run' would start, without starting anything\n"
           "  doctor  check that this machine and the site's setup can run spark-slurm\n\n"
           "Options:\n"
           "  -h, --help     show this help ('spark-slurm COMMAND --help' for a command's "
           "options)\n"
           "  --version      show the version\n";
}

[[noreturn]] void reject(Command command, const std::string& problem) {
    throw UsageError("spark-slurm " + std::string(to_string(command)) + ": " + problem);
}

unsigned positive_count(Command command, const std::string& name, const std::string& text,
                        const char* example) {
    auto value = parse_count(text);
    if (!value || *value == 0 || *value > 10'000'000) {
        reject(command, "--" + name + " '" + text + "' is not a whole number >= 1; write e.g. --" +
                            name + " " + example);
    }
    return static_cast<unsigned>(*value);
}

std::uint64_t positive_size(Command command, const std::string& name, const std::string& text) {
    auto value = parse_size(text);
    if (!value || *value == 0) {
        reject(command, "--" + name + " '" + text +
                            "' is not a size; write a number >= 1 with an optional K, M, G or T "
                            "suffix, e.g. --" +
                            name + " 16G");
    }
    return *value;
}

RuntimeChoice runtime_choice(Command command, const std::string& text) {
    if (text == "apptainer") return RuntimeChoice::Apptainer;
    if (text == "singularity") return RuntimeChoice::Singularity;
    if (text == "none") return RuntimeChoice::None;
    reject(command, "--runtime '" + text + "' is not known; use apptainer, singularity or none");
}

// "--workers -3" would otherwise reach Boost as an unknown short option "-3" and produce a
// message about a missing argument instead of about the negative number.
std::vector<std::string> join_negative_values(const std::vector<std::string>& args) {
    std::vector<std::string> joined;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        bool takes_value = false;
        if (arg.rfind("--", 0) == 0 && arg.find('=') == std::string::npos) {
            for (const auto& spec : kOptionTable) {
                if (arg.substr(2) == spec.name && spec.kind != Kind::Flag) takes_value = true;
            }
        }
        if (takes_value && i + 1 < args.size() && args[i + 1].size() > 1 && args[i + 1][0] == '-' &&
            std::isdigit(static_cast<unsigned char>(args[i + 1][1]))) {
            joined.push_back(arg + "=" + args[i + 1]);
            ++i;
        } else {
            joined.push_back(arg);
        }
    }
    return joined;
}

std::string text_value(const po::variables_map& values, const char* name) {
    return values[name].as<std::string>();
}

Options validated(Command command, const po::variables_map& values,
                  const std::set<std::string>& from_command_line, std::vector<std::string> driver) {
    Options options;
    options.command = command;
    auto has = [&](const char* name) { return values.count(name) && !values[name].defaulted(); };
    auto flag = [&](const char* name) { return values.count(name) && values[name].as<bool>(); };

    if (has("workers"))
        options.workers = positive_count(command, "workers", text_value(values, "workers"), "4");
    if (has("cores"))
        options.cores = positive_count(command, "cores", text_value(values, "cores"), "16");
    if (has("memory"))
        options.memory = positive_size(command, "memory", text_value(values, "memory"));
    if (has("disk")) options.disk = positive_size(command, "disk", text_value(values, "disk"));
    if (has("leader-ip")) {
        std::string address = text_value(values, "leader-ip");
        unsigned char buffer[16];
        if (inet_pton(AF_INET6, address.c_str(), buffer) == 1) {
            reject(command, "--leader-ip '" + address +
                                "' is an IPv6 address; the cluster's daemons and launchers talk "
                                "over IPv4 only: give one of the leader node's IPv4 addresses, "
                                "e.g. --leader-ip 10.1.2.3");
        }
        if (inet_pton(AF_INET, address.c_str(), buffer) != 1) {
            reject(command, "--leader-ip '" + address +
                                "' is not an IP address; give one of the leader node's IPv4 "
                                "addresses, e.g. --leader-ip 10.1.2.3");
        }
        options.leader_ip = address;
    }
    options.hdfs = !flag("no-hdfs");
    options.worker_on_leader = flag("worker-on-leader");
    if (has("runtime")) options.runtime = runtime_choice(command, text_value(values, "runtime"));
    options.sudo = flag("sudo");
    if (has("image")) options.image = text_value(values, "image");
    if (has("spark-image")) options.spark_image = text_value(values, "spark-image");
    if (has("hadoop-image")) options.hadoop_image = text_value(values, "hadoop-image");
    if (options.image && (options.spark_image || options.hadoop_image)) {
        reject(command,
               "--image cannot be combined with --spark-image/--hadoop-image; give one "
               "image with both, or the two role images");
    }
    if (options.hadoop_image && !options.spark_image) {
        reject(command,
               "--hadoop-image needs --spark-image too (or use --image for one image "
               "with both)");
    }
    if (options.spark_image && !options.hadoop_image && options.hdfs) {
        reject(command,
               "--spark-image needs --hadoop-image for HDFS; add --hadoop-image SIF, "
               "or --no-hdfs");
    }
    if (options.runtime == RuntimeChoice::None) {
        // A site may export SPARK_SLURM_IMAGE for everyone; a user who picks the host install
        // on the command line has not contradicted themselves, so an inherited image is dropped.
        if (from_command_line.count("image") || from_command_line.count("spark-image") ||
            from_command_line.count("hadoop-image")) {
            reject(command,
                   "--runtime none runs the host install and takes no image; drop the "
                   "image option or pick --runtime apptainer");
        }
        options.image.reset();
        options.spark_image.reset();
        options.hadoop_image.reset();
    }
    if (has("bind")) {
        for (const auto& text : values["bind"].as<std::vector<std::string>>()) {
            auto binds = parse_bind_list(text, "--bind", command);
            options.binds.insert(options.binds.end(), binds.begin(), binds.end());
        }
    }
    if (has("python")) {
        std::string python = text_value(values, "python");
        if (python.empty() || (python.front() != '/' && python.find('/') != std::string::npos)) {
            reject(command, "--python '" + python +
                                "' must be an absolute path (the same on every node) or a "
                                "command on PATH, e.g. --python /shared/me/venv/bin/python");
        }
        options.python = python;
    }
    for (auto [name, field] :
         {std::pair{"spark-home", &options.spark_home},
          std::pair{"hadoop-home", &options.hadoop_home}, std::pair{"work-dir", &options.work_dir},
          std::pair{"state-dir", &options.state_dir}, std::pair{"job-dir", &options.job_dir}}) {
        if (!has(name)) continue;
        std::string dir = text_value(values, name);
        if (dir.empty() || dir.front() != '/') {
            reject(command, std::string("--") + name + " '" + dir +
                                "' must be an absolute path, e.g. --" + name +
                                " /scratch/me/spark");
        }
        *field = dir;
    }
    if (has("ready-timeout")) {
        options.ready_timeout_seconds =
            positive_count(command, "ready-timeout", text_value(values, "ready-timeout"), "300");
    }
    if (has("events")) options.events_file = text_value(values, "events");
    if (command == Command::Plan) {
        options.json = flag("json");
        options.every_rank = flag("every-rank");
        if (has("nodes"))
            options.preview_nodes =
                positive_count(command, "nodes", text_value(values, "nodes"), "1000");
        if (has("cores-per-node")) {
            options.preview_cores_per_node = positive_count(
                command, "cores-per-node", text_value(values, "cores-per-node"), "64");
        }
        if (has("memory-per-node")) {
            options.preview_memory_per_node =
                positive_size(command, "memory-per-node", text_value(values, "memory-per-node"));
        }
        if (options.every_rank && options.preview_nodes) {
            reject(command,
                   "--every-rank is for a plan made inside an allocation; a --nodes preview is "
                   "printed once");
        }
        if ((options.preview_cores_per_node || options.preview_memory_per_node) &&
            !options.preview_nodes) {
            reject(command,
                   "--cores-per-node and --memory-per-node describe a preview; add "
                   "--nodes N");
        }
        if (!driver.empty()) reject(command, "takes no command after '--'");
    } else if (command == Command::Doctor) {
        if (!driver.empty()) reject(command, "takes no command after '--'");
    } else {
        if (driver.empty()) {
            reject(command,
                   "no driver command; put it after '--', e.g. spark-slurm run -- "
                   "spark-submit app.py");
        }
        options.driver = std::move(driver);
    }
    return options;
}

void store_config_file(Command command, const std::string& path,
                       const po::options_description& description, po::variables_map& values) {
    std::ifstream file(path);
    if (!file) {
        reject(command, "cannot read the config file '" + path +
                            "'; check the path given with --config or SPARK_SLURM_CONFIG");
    }
    try {
        po::store(po::parse_config_file(file, description, false), values);
    } catch (const po::error& error) {
        reject(command, "config file '" + path + "': " + error.what() +
                            "; write one 'name = value' per line with the long option names");
    }
}

}  // namespace

const char* to_string(Command command) {
    switch (command) {
        case Command::Run:
            return "run";
        case Command::Plan:
            return "plan";
        case Command::Doctor:
            return "doctor";
    }
    return "?";
}

const char* to_string(RuntimeChoice runtime) {
    switch (runtime) {
        case RuntimeChoice::Auto:
            return "auto";
        case RuntimeChoice::Apptainer:
            return "apptainer";
        case RuntimeChoice::Singularity:
            return "singularity";
        case RuntimeChoice::None:
            return "none";
    }
    return "?";
}

std::string BindMount::spec() const {
    std::string text = source;
    if (destination != source || read_only) text += ":" + destination;
    if (read_only) text += ":ro";
    return text;
}

std::vector<BindMount> parse_bind_list(const std::string& text, const std::string& option,
                                       Command command) {
    auto bad = [&](const std::string& entry, const std::string& why) {
        reject(command, option + " '" + entry + "' " + why +
                            "; write SRC[:DST[:ro]] with absolute paths, comma-separated, e.g. " +
                            option + " /scratch/me/data or " + option +
                            " /scratch/me/data:/data:ro");
    };
    auto absolute = [](const std::string& path) {
        std::string normal = std::filesystem::path(path).lexically_normal().string();
        if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
        return normal;
    };
    std::vector<BindMount> binds;
    std::stringstream entries(text);
    std::string entry;
    while (std::getline(entries, entry, ',')) {
        if (entry.empty()) continue;
        std::vector<std::string> fields;
        std::stringstream parts(entry);
        std::string field;
        while (std::getline(parts, field, ':')) fields.push_back(field);
        if (entry.back() == ':') fields.push_back("");
        if (fields.size() > 3) bad(entry, "has more than three ':'-separated fields");
        BindMount bind;
        if (fields[0].empty() || fields[0].front() != '/')
            bad(entry, "does not start with an absolute source path");
        bind.source = absolute(fields[0]);
        bind.destination = bind.source;
        if (fields.size() >= 2) {
            if (fields[1].empty() || fields[1].front() != '/')
                bad(entry, "has a destination that is not an absolute path");
            bind.destination = absolute(fields[1]);
        }
        if (fields.size() == 3) {
            if (fields[2] == "ro") {
                bind.read_only = true;
            } else if (fields[2] != "rw") {
                bad(entry, "has the option '" + fields[2] + "' (only ro and rw are supported)");
            }
        }
        binds.push_back(bind);
    }
    if (binds.empty())
        reject(command,
               option + " is empty; name a directory, e.g. " + option + " /scratch/me/data");
    return binds;
}

std::string version_text() { return std::string("spark-slurm ") + kSparkSlurmVersion + "\n"; }

Environment current_environment() {
    Environment environment;
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string text = *entry;
        auto equals = text.find('=');
        if (equals != std::string::npos)
            environment[text.substr(0, equals)] = text.substr(equals + 1);
    }
    return environment;
}

ParsedCommandLine parse_command_line(const std::vector<std::string>& args,
                                     const Environment& environment) {
    ParsedCommandLine parsed;
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        if (args.size() >= 2 && args[0] == "help" &&
            (args[1] == "run" || args[1] == "plan" || args[1] == "doctor")) {
            parsed.text = command_help(args[1] == "run"    ? Command::Run
                                       : args[1] == "plan" ? Command::Plan
                                                           : Command::Doctor);
        } else if (args.empty()) {
            throw UsageError(
                "spark-slurm: no command given; use 'spark-slurm run -- COMMAND' or "
                "see 'spark-slurm --help'");
        } else {
            parsed.text = general_help();
        }
        parsed.action = ParsedCommandLine::Action::PrintText;
        return parsed;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        parsed.text = version_text();
        parsed.action = ParsedCommandLine::Action::PrintText;
        return parsed;
    }
    Command command;
    if (args[0] == "run") {
        command = Command::Run;
    } else if (args[0] == "plan") {
        command = Command::Plan;
    } else if (args[0] == "doctor") {
        command = Command::Doctor;
    } else {
        throw UsageError("spark-slurm: unknown command '" + args[0] +
                         "'; the commands are run, plan and doctor (see spark-slurm --help)");
    }

    std::vector<std::string> own(args.begin() + 1, args.end());
    std::vector<std::string> driver;
    if (auto separator = std::find(own.begin(), own.end(), "--"); separator != own.end()) {
        driver.assign(separator + 1, own.end());
        own.erase(separator, own.end());
    }
    own = join_negative_values(own);

    auto description = describe(command, false);
    po::variables_map values;
    std::set<std::string> from_command_line;
    try {
        auto parsed_line = po::command_line_parser(own)
                               .options(description)
                               .style(po::command_line_style::unix_style)
                               .run();
        for (const auto& option : parsed_line.options) {
            if (option.position_key != -1) {
                reject(command, "unexpected argument '" + option.original_tokens.front() +
                                    "'; the driver command goes after '--'");
            }
        }
        po::store(parsed_line, values);
        for (const auto& option : parsed_line.options) from_command_line.insert(option.string_key);
    } catch (const po::error& error) {
        reject(command, std::string(error.what()) + " (see 'spark-slurm " + to_string(command) +
                            " --help')");
    }
    if (values.count("help")) {
        parsed.text = command_help(command);
        parsed.action = ParsedCommandLine::Action::PrintText;
        return parsed;
    }

    std::string config_path;
    if (values.count("config")) {
        config_path = values["config"].as<std::string>();
    } else if (auto it = environment.find("SPARK_SLURM_CONFIG"); it != environment.end()) {
        config_path = it->second;
    }
    if (!config_path.empty()) store_config_file(command, config_path, description, values);

    po::parsed_options from_environment(&description);
    for (const auto& spec : kOptionTable) {
        if (!spec.environment || !in_scope(spec, command) || std::string(spec.name) == "config")
            continue;
        auto it = environment.find(spec.environment);
        if (it == environment.end() || it->second.empty()) continue;
        from_environment.options.emplace_back(spec.name, std::vector<std::string>{it->second});
    }
    try {
        po::store(from_environment, values);
    } catch (const po::error& error) {
        reject(command, std::string("environment: ") + error.what());
    }
    po::notify(values);

    parsed.options = validated(command, values, from_command_line, std::move(driver));
    return parsed;
}

}  // namespace spark_slurm
