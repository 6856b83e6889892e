// The option table: one row per option — its name, environment variable, scope, default and
// help — and the help texts made from it. options.cpp parses and validates against it; the
// completion test (tests/packaging) checks the completion against the help it prints.
// Internal to the options library.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "options/options.hpp"

namespace spark_slurm::option_table {

// List: repeatable; values from the command line, the config file and the environment add up.
enum class Kind { Flag, Count, Size, Text, Choice, List };
// kAny: also `doctor`, which checks what the runtime and scratch options name. kHistory:
// `history`, which runs Spark's history server from the same install or image. The clients of
// an interactive cluster (env, status, list, down, ui) take only their own few options.
enum Scope : unsigned {
    kRun = 1,
    kPlan = 2,
    kDoctor = 4,
    kHistory = 8,
    kAll = kRun | kPlan,
    kAny = kAll | kDoctor,
    kEnv = 1u << 8,
    kStatus = 1u << 9,
    kList = 1u << 10,
    kDown = 1u << 11,
    kUi = 1u << 12,
};

// A flag that turns its member of Options off (--no-cds: Options::cds).
struct Clears {
    bool Options::*field;
};

// Where a plain option's value goes, so that taking it needs no code of its own: a count (a whole
// number >= 1) or a size (> 0) into its member of Options; a flag given sets its member (or,
// Clears, unsets it). Options with rules of their own (choices, addresses, paths, combinations)
// have none and are taken in validation.cpp.
using Target = std::variant<std::monostate, unsigned Options::*, std::optional<unsigned> Options::*,
                            std::optional<std::uint64_t> Options::*, bool Options::*, Clears>;

// One row per option: the single place where its name, environment variable, default and help
// live. Values are taken as text and validated here, so every rejection names the option.
struct OptionSpec {
    const char* name;
    const char* environment;  // nullptr: no environment variable
    Kind kind;
    unsigned scope;
    const char* value_name;
    // Shown in --help. nullptr: the default of the target's member in Options, if it has one
    // (so that the number is written once), else none.
    const char* default_text;
    const char* help;
    Target target = {};
    const char* example = nullptr;  // a good value, for the message that rejects a bad one
};

// The default shown in --help for `spec` (empty: none).
std::string default_text(const OptionSpec& spec);

std::span<const OptionSpec> all();
bool in_scope(const OptionSpec& spec, Command command);
// The options of `command` for boost::program_options (for_help: with their help and defaults).
boost::program_options::options_description describe(Command command, bool for_help);
std::string usage_line(Command command);
std::string command_help(Command command);
std::string general_help();

// A usage error of `command`: "spark-slurm COMMAND: PROBLEM".
[[noreturn]] void reject(Command command, const std::string& problem);

// The flags of `command` that have a target, given in `values`, into their members of `options`.
void take_flags(Command command, const boost::program_options::variables_map& values,
                Options& options);

// The clients of an interactive cluster (env, status, list, down), and their options: --job,
// --json, --timeout (client_options.cpp).
bool is_client(Command command);
void take_client_options(Command command, const boost::program_options::variables_map& values,
                         Options& options);

}  // namespace spark_slurm::option_table
