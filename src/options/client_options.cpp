// The options of the clients of an interactive cluster (env, status, list, down): which cluster
// (--job), JSON output (--json) and how long `down` waits (--timeout).
#include <algorithm>

#include "common/sizes.hpp"
#include "options/option_table.hpp"

namespace spark_slurm::option_table {

namespace po = boost::program_options;

namespace {

// A Slurm job id: a whole number from 1 to 2^32-1 (federated ids are large).
std::uint32_t job_id_value(Command command, const std::string& text) {
    auto value = text.size() <= 10 ? parse_count(text) : std::nullopt;
    if (!value || *value == 0 || *value > 0xffffffffull) {
        reject(command, "--job '" + text +
                            "' is not a Slurm job id; give the number 'spark-slurm list' shows, "
                            "e.g. --job 12345");
    }
    return static_cast<std::uint32_t>(*value);
}

}  // namespace

bool is_client(Command command) {
    return command == Command::Env || command == Command::Status || command == Command::List ||
           command == Command::Down || command == Command::Ui;
}

void take_client_options(Command command, const po::variables_map& values, Options& options) {
    if (values.count("job"))
        options.job_id = job_id_value(command, values["job"].as<std::string>());
    take_flags(command, values, options);
    if (values.count("timeout") && !values["timeout"].defaulted()) {
        std::string text = values["timeout"].as<std::string>();
        auto seconds = parse_count(text);
        if (!seconds || *seconds == 0 || *seconds > 7 * 24 * 3600) {
            reject(command, "--timeout '" + text +
                                "' is not a whole number of seconds from 1 to a week; write e.g. "
                                "--timeout 300");
        }
        options.down_timeout_seconds = static_cast<unsigned>(*seconds);
    }
}

}  // namespace spark_slurm::option_table
