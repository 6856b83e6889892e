#include "options/options.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/enum_names.hpp"
#include "common/errors.hpp"
#include "common/overloaded.hpp"
#include "common/sizes.hpp"
#include "options/option_table.hpp"
#include "spark_slurm_version.hpp"

extern char** environ;

namespace po = boost::program_options;

namespace spark_slurm {

namespace {

using option_table::command_help;
using option_table::describe;
using option_table::general_help;
using option_table::in_scope;
using option_table::is_client;
using option_table::Kind;
using option_table::reject;
using option_table::take_client_options;

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

// A row's count or size into its member of Options (option_table::Target).
void take_plain_value(Command command, const option_table::OptionSpec& spec,
                      const std::string& text, Options& options) {
    std::visit(Overloaded{
                   [](std::monostate) {},
                   [&](unsigned Options::*field) {
                       options.*field = positive_count(command, spec.name, text, spec.example);
                   },
                   [&](std::optional<unsigned> Options::*field) {
                       options.*field = positive_count(command, spec.name, text, spec.example);
                   },
                   [&](std::optional<std::uint64_t> Options::*field) {
                       options.*field = positive_size(command, spec.name, text);
                   },
               },
               spec.target);
}

constexpr EnumName<Command> kCommandNames[] = {
    {Command::Run, "run"},       {Command::Up, "up"},     {Command::Plan, "plan"},
    {Command::Doctor, "doctor"}, {Command::Env, "env"},   {Command::Status, "status"},
    {Command::List, "list"},     {Command::Down, "down"}, {Command::History, "history"},
};

constexpr EnumName<RuntimeChoice> kRuntimeNames[] = {
    {RuntimeChoice::Auto, "auto"},
    {RuntimeChoice::Apptainer, "apptainer"},
    {RuntimeChoice::Singularity, "singularity"},
    {RuntimeChoice::None, "none"},
};

RuntimeChoice runtime_choice(Command command, const std::string& text) {
    if (text == "apptainer") return RuntimeChoice::Apptainer;
    if (text == "singularity") return RuntimeChoice::Singularity;
    if (text == "none") return RuntimeChoice::None;
    reject(command, "--runtime '" + text + "' is not known; use apptainer, singularity or none");
}

HdfsAuth hdfs_auth_choice(Command command, const std::string& text) {
    if (text == "kerberos") return HdfsAuth::Kerberos;
    if (text == "none") return HdfsAuth::None;
    reject(command, "--hdfs-auth '" + text + "' is not known; use kerberos or none");
}

bool wire_encryption_choice(Command command, const std::string& text) {
    if (text == "on") return true;
    if (text == "off") return false;
    reject(command, "--wire-encryption '" + text + "' is not known; use on or off");
}

// "--workers -3" would otherwise reach Boost as an unknown short option "-3" and produce a
// message about a missing argument instead of about the negative number.
std::vector<std::string> join_negative_values(const std::vector<std::string>& args) {
    std::vector<std::string> joined;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        bool takes_value = false;
        if (arg.rfind("--", 0) == 0 && arg.find('=') == std::string::npos) {
            for (const auto& spec : option_table::all()) {
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

std::optional<Command> command_named(const std::string& name) {
    return enum_named(kCommandNames, name);
}

// `history`'s job ids: Slurm's numeric job ids (an array task's own id, as SLURM_JOB_ID shows it).
std::vector<std::uint32_t> history_jobs(const std::vector<std::string>& words) {
    std::vector<std::uint32_t> jobs;
    for (const auto& word : words) {
        auto value = parse_count(word);
        if (!value || *value == 0 || *value > 0xffffffffULL ||
            word.find_first_not_of("0123456789") != std::string::npos) {
            reject(Command::History, "'" + word +
                                         "' is not a job id; give Slurm's numeric job ids, e.g. "
                                         "spark-slurm history 12345 12346");
        }
        jobs.push_back(static_cast<std::uint32_t>(*value));
    }
    return jobs;
}

Options validated(Command command, const po::variables_map& values,
                  const std::set<std::string>& from_command_line, std::vector<std::string> driver,
                  const std::vector<std::string>& positional) {
    Options options;
    options.command = command;
    auto has = [&](const char* name) { return values.count(name) && !values[name].defaulted(); };
    auto flag = [&](const char* name) { return values.count(name) && values[name].as<bool>(); };

    // The plain counts and sizes, as their table rows say.
    for (const auto& spec : option_table::all()) {
        if (std::holds_alternative<std::monostate>(spec.target) || !in_scope(spec, command) ||
            !has(spec.name))
            continue;
        take_plain_value(command, spec, text_value(values, spec.name), options);
    }
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
    // `history` runs no HDFS: a --spark-image needs no --hadoop-image there.
    options.hdfs = command != Command::History && !flag("no-hdfs");
    options.event_log = !flag("no-event-log");
    options.cds = !flag("no-cds");
    options.worker_on_leader = flag("worker-on-leader");
    if (has("hdfs-auth")) {
        options.hdfs_auth = hdfs_auth_choice(command, text_value(values, "hdfs-auth"));
    }
    if (has("wire-encryption")) {
        options.wire_encryption =
            wire_encryption_choice(command, text_value(values, "wire-encryption"));
    }
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
    if (has("events")) options.events_file = text_value(values, "events");
    if (command == Command::Run || command == Command::Up) {
        if (command == Command::Run && flag("no-connect"))
            reject(command,
                   "--no-connect is for 'up'; 'run' starts Spark Connect only with --connect");
        if (command == Command::Up && flag("no-connect") && flag("connect"))
            reject(command, "--connect and --no-connect contradict each other; choose one");
        options.connect = command == Command::Up ? !flag("no-connect") : flag("connect");
    }
    if (command == Command::Plan) {
        options.json = flag("json");
        options.every_rank = flag("every-rank");
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
    } else if (command == Command::Up) {
        if (!driver.empty()) {
            reject(command,
                   "takes no command after '--': it holds the cluster for interactive use; to "
                   "run a driver on it use 'spark-slurm run -- COMMAND', or submit to the held "
                   "cluster after eval \"$(spark-slurm env)\"");
        }
    } else if (is_client(command)) {
        if (!driver.empty()) reject(command, "takes no command after '--'");
        take_client_options(command, values, options);
    } else if (command == Command::History) {
        if (!driver.empty()) reject(command, "takes no command after '--'");
        options.history_jobs = history_jobs(positional);
        if (has("port")) {
            auto port = positive_count(command, "port", text_value(values, "port"), "18080");
            if (port > 65535) {
                reject(command, "--port " + std::to_string(port) +
                                    " is not a TCP port; give one from 1 to 65535, e.g. --port "
                                    "18080");
            }
            options.port = static_cast<std::uint16_t>(port);
        }
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

const char* to_string(Command command) { return enum_name(kCommandNames, command); }

const char* to_string(RuntimeChoice runtime) { return enum_name(kRuntimeNames, runtime); }

const char* to_string(HdfsAuth auth) { return auth == HdfsAuth::Kerberos ? "kerberos" : "none"; }

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
        if (args.size() >= 2 && args[0] == "help" && command_named(args[1])) {
            parsed.text = command_help(*command_named(args[1]));
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
    auto named = command_named(args[0]);
    if (!named) {
        throw UsageError(
            "spark-slurm: unknown command '" + args[0] +
            "'; the commands are run, up, plan, doctor, history, env, status, list and down "
            "(see spark-slurm --help)");
    }
    Command command = *named;

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
    std::vector<std::string> positional;  // `history`'s job ids
    try {
        auto parsed_line = po::command_line_parser(own)
                               .options(description)
                               .style(po::command_line_style::unix_style)
                               .run();
        for (const auto& option : parsed_line.options) {
            if (option.position_key != -1 && command == Command::History) {
                positional.push_back(option.original_tokens.front());
            } else if (option.position_key != -1) {
                reject(command, "unexpected argument '" + option.original_tokens.front() +
                                    (is_client(command) ? "'; give a job id with --job ID"
                                                        : "'; the driver command goes after '--'"));
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
    for (const auto& spec : option_table::all()) {
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

    parsed.options = validated(command, values, from_command_line, std::move(driver), positional);
    return parsed;
}

}  // namespace spark_slurm
