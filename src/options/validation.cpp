// Validating what the command line, the config file and the environment gave a command: every
// value checked, every combination that contradicts itself refused, each rejection naming the
// option and the fix. Internal to the options library (options.cpp parses, this validates).
#include "options/validation.hpp"

#include <arpa/inet.h>

#include <type_traits>
#include <variant>

#include "common/errors.hpp"
#include "common/sizes.hpp"
#include "options/option_table.hpp"

namespace po = boost::program_options;

namespace spark_slurm {

namespace {

using option_table::in_scope;
using option_table::is_client;
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

// A row's count or size into its member of Options (option_table::Target; flags: take_flags).
void take_plain_value(Command command, const option_table::OptionSpec& spec,
                      const std::string& text, Options& options) {
    std::visit(
        [&](auto field) {
            using Field = decltype(field);
            if constexpr (std::is_same_v<Field, std::optional<std::uint64_t> Options::*>) {
                options.*field = positive_size(command, spec.name, text);
            } else if constexpr (std::is_same_v<Field, unsigned Options::*> ||
                                 std::is_same_v<Field, std::optional<unsigned> Options::*>) {
                options.*field = positive_count(command, spec.name, text, spec.example);
            }
        },
        spec.target);
}

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

// One command's values, taken section by section into its Options.
class Validation {
  public:
    Validation(Command command, const po::variables_map& values,
               const std::set<std::string>& from_command_line)
        : command_(command), values_(values), from_command_line_(from_command_line) {
        options_.command = command;
    }

    // The plain counts, sizes and flags, as their table rows say.
    void take_plain_values() {
        for (const auto& spec : option_table::all()) {
            if (spec.kind == option_table::Kind::Flag ||
                std::holds_alternative<std::monostate>(spec.target) || !in_scope(spec, command_) ||
                !has(spec.name))
                continue;
            take_plain_value(command_, spec, text(spec.name), options_);
        }
        option_table::take_flags(command_, values_, options_);
    }

    // The cluster's shape and what it runs: leader address, HDFS, its authentication, wire
    // encryption.
    void take_cluster() {
        if (has("leader-ip")) {
            std::string address = text("leader-ip");
            unsigned char buffer[16];
            if (inet_pton(AF_INET6, address.c_str(), buffer) == 1) {
                reject(command_,
                       "--leader-ip '" + address +
                           "' is an IPv6 address; the cluster's daemons and launchers talk "
                           "over IPv4 only: give one of the leader node's IPv4 addresses, "
                           "e.g. --leader-ip 10.1.2.3");
            }
            if (inet_pton(AF_INET, address.c_str(), buffer) != 1) {
                reject(command_, "--leader-ip '" + address +
                                     "' is not an IP address; give one of the leader node's IPv4 "
                                     "addresses, e.g. --leader-ip 10.1.2.3");
            }
            options_.leader_ip = address;
        }
        // `history` runs no HDFS: a --spark-image needs no --hadoop-image there.
        options_.hdfs = command_ != Command::History && !flag("no-hdfs");
        if (has("hdfs-auth")) {
            options_.hdfs_auth = hdfs_auth_choice(command_, text("hdfs-auth"));
        }
        if (has("wire-encryption")) {
            options_.wire_encryption = wire_encryption_choice(command_, text("wire-encryption"));
        }
    }

    // How the daemons run: the runtime and its images, which must agree.
    void take_runtime() {
        if (has("runtime")) options_.runtime = runtime_choice(command_, text("runtime"));
        if (has("image")) options_.image = text("image");
        if (has("spark-image")) options_.spark_image = text("spark-image");
        if (has("hadoop-image")) options_.hadoop_image = text("hadoop-image");
        if (options_.image && (options_.spark_image || options_.hadoop_image)) {
            reject(command_,
                   "--image cannot be combined with --spark-image/--hadoop-image; give one "
                   "image with both, or the two role images");
        }
        if (options_.hadoop_image && !options_.spark_image) {
            reject(command_,
                   "--hadoop-image needs --spark-image too (or use --image for one image "
                   "with both)");
        }
        if (options_.spark_image && !options_.hadoop_image && options_.hdfs) {
            reject(command_,
                   "--spark-image needs --hadoop-image for HDFS; add --hadoop-image SIF, "
                   "or --no-hdfs");
        }
        if (options_.runtime == RuntimeChoice::None) {
            // A site may export SPARK_SLURM_IMAGE for everyone; a user who picks the host install
            // on the command line has not contradicted themselves, so an inherited image is
            // dropped.
            if (from_command_line_.count("image") || from_command_line_.count("spark-image") ||
                from_command_line_.count("hadoop-image")) {
                reject(command_,
                       "--runtime none runs the host install and takes no image; drop the "
                       "image option or pick --runtime apptainer");
            }
            options_.image.reset();
            options_.spark_image.reset();
            options_.hadoop_image.reset();
        }
    }

    // What the programs see and where things go: binds, Python, directories, the events file.
    void take_places() {
        if (has("bind")) {
            for (const auto& text : values_["bind"].as<std::vector<std::string>>()) {
                auto binds = parse_bind_list(text, "--bind", command_);
                options_.binds.insert(options_.binds.end(), binds.begin(), binds.end());
            }
        }
        if (has("python")) {
            std::string python = text("python");
            if (python.empty() ||
                (python.front() != '/' && python.find('/') != std::string::npos)) {
                reject(command_, "--python '" + python +
                                     "' must be an absolute path (the same on every node) or a "
                                     "command on PATH, e.g. --python /shared/me/venv/bin/python");
            }
            options_.python = python;
        }
        for (auto [name, field] : {std::pair{"spark-home", &options_.spark_home},
                                   std::pair{"hadoop-home", &options_.hadoop_home},
                                   std::pair{"work-dir", &options_.work_dir},
                                   std::pair{"state-dir", &options_.state_dir},
                                   std::pair{"job-dir", &options_.job_dir}}) {
            if (!has(name)) continue;
            std::string dir = text(name);
            if (dir.empty() || dir.front() != '/') {
                reject(command_, std::string("--") + name + " '" + dir +
                                     "' must be an absolute path, e.g. --" + name +
                                     " /scratch/me/spark");
            }
            *field = dir;
        }
        if (has("events")) options_.events_file = text("events");
    }

    // What only some commands take, and the driver after "--" (which only `run` takes).
    void take_command_specifics(std::vector<std::string> driver,
                                const std::vector<std::string>& positional) {
        if (command_ == Command::Run || command_ == Command::Up) {
            if (command_ == Command::Run && flag("no-connect"))
                reject(command_,
                       "--no-connect is for 'up'; 'run' starts Spark Connect only with --connect");
            if (command_ == Command::Up && flag("no-connect") && flag("connect"))
                reject(command_, "--connect and --no-connect contradict each other; choose one");
            options_.connect = command_ == Command::Up ? !flag("no-connect") : flag("connect");
        }
        if (command_ == Command::Plan) {
            if (options_.every_rank && options_.preview_nodes) {
                reject(command_,
                       "--every-rank is for a plan made inside an allocation; a --nodes preview is "
                       "printed once");
            }
            if ((options_.preview_cores_per_node || options_.preview_memory_per_node) &&
                !options_.preview_nodes) {
                reject(command_,
                       "--cores-per-node and --memory-per-node describe a preview; add "
                       "--nodes N");
            }
            if (!driver.empty()) reject(command_, "takes no command after '--'");
        } else if (command_ == Command::Doctor) {
            if (!driver.empty()) reject(command_, "takes no command after '--'");
        } else if (command_ == Command::Up) {
            if (!driver.empty()) {
                reject(command_,
                       "takes no command after '--': it holds the cluster for interactive use; to "
                       "run a driver on it use 'spark-slurm run -- COMMAND', or submit to the held "
                       "cluster after eval \"$(spark-slurm env)\"");
            }
        } else if (is_client(command_)) {
            if (!driver.empty()) reject(command_, "takes no command after '--'");
            take_client_options(command_, values_, options_);
        } else if (command_ == Command::History) {
            if (!driver.empty()) reject(command_, "takes no command after '--'");
            options_.history_jobs = history_jobs(positional);
            if (has("port")) {
                auto port = positive_count(command_, "port", text("port"), "18080");
                if (port > 65535) {
                    reject(command_,
                           "--port " + std::to_string(port) +
                               " is not a TCP port; give one from 1 to 65535, e.g. --port "
                               "18080");
                }
                options_.port = static_cast<std::uint16_t>(port);
            }
        } else {
            if (driver.empty()) {
                reject(command_,
                       "no driver command; put it after '--', e.g. spark-slurm run -- "
                       "spark-submit app.py");
            }
            options_.driver = std::move(driver);
        }
    }

    Options take() { return std::move(options_); }

  private:
    bool has(const char* name) const { return values_.count(name) && !values_[name].defaulted(); }
    bool flag(const char* name) const { return values_.count(name) && values_[name].as<bool>(); }
    std::string text(const char* name) const { return values_[name].as<std::string>(); }

    Command command_;
    const po::variables_map& values_;
    const std::set<std::string>& from_command_line_;
    Options options_;
};

}  // namespace

Options validated(Command command, const po::variables_map& values,
                  const std::set<std::string>& from_command_line, std::vector<std::string> driver,
                  const std::vector<std::string>& positional) {
    Validation validation(command, values, from_command_line);
    validation.take_plain_values();
    validation.take_cluster();
    validation.take_runtime();
    validation.take_places();
    validation.take_command_specifics(std::move(driver), positional);
    return validation.take();
}

}  // namespace spark_slurm
