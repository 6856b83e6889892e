#include "options/options.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/enum_names.hpp"
#include "common/errors.hpp"
#include "options/option_table.hpp"
#include "options/validation.hpp"
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

constexpr EnumName<Command> kCommandNames[] = {
    {Command::Run, "run"},       {Command::Up, "up"},     {Command::Plan, "plan"},
    {Command::Doctor, "doctor"}, {Command::Env, "env"},   {Command::Status, "status"},
    {Command::List, "list"},     {Command::Down, "down"}, {Command::History, "history"},
    {Command::Ui, "ui"},
};

constexpr EnumName<RuntimeChoice> kRuntimeNames[] = {
    {RuntimeChoice::Auto, "auto"},
    {RuntimeChoice::Apptainer, "apptainer"},
    {RuntimeChoice::Singularity, "singularity"},
    {RuntimeChoice::None, "none"},
};

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

std::optional<Command> command_named(const std::string& name) {
    return enum_named(kCommandNames, name);
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

namespace {

// `spark-slurm`, `--help`, `help COMMAND` and `--version`: text to print; nullopt for a command.
std::optional<ParsedCommandLine> help_or_version(const std::vector<std::string>& args) {
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
    return std::nullopt;
}

// The command line's own options (before "--"), stored into `values`; `history`'s job ids into
// `positional`, the names given on the line into `from_command_line`.
void store_command_line(Command command, const std::vector<std::string>& own,
                        const po::options_description& description, po::variables_map& values,
                        std::set<std::string>& from_command_line,
                        std::vector<std::string>& positional) {
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
}

// Then the config file (--config or SPARK_SLURM_CONFIG) and the environment: the command line
// wins over both (Boost keeps the first value stored).
void store_config_and_environment(Command command, const Environment& environment,
                                  const po::options_description& description,
                                  po::variables_map& values) {
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
}

}  // namespace

ParsedCommandLine parse_command_line(const std::vector<std::string>& args,
                                     const Environment& environment) {
    if (auto text = help_or_version(args)) return *text;
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
    store_command_line(command, own, description, values, from_command_line, positional);
    ParsedCommandLine parsed;
    if (values.count("help")) {
        parsed.text = command_help(command);
        parsed.action = ParsedCommandLine::Action::PrintText;
        return parsed;
    }
    store_config_and_environment(command, environment, description, values);
    parsed.options = validated(command, values, from_command_line, std::move(driver), positional);
    return parsed;
}

}  // namespace spark_slurm
