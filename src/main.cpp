// spark-slurm: parse the command line, hand over to the launcher, turn failures into messages
// and exit statuses. Nothing else lives here.
#include <cstdlib>
#include <iostream>
#include <string>

#include "client/down_command.hpp"
#include "client/env_command.hpp"
#include "client/list_command.hpp"
#include "client/status_command.hpp"
#include "client/ui_command.hpp"
#include "cmd/doctor_command.hpp"
#include "cmd/history_command.hpp"
#include "cmd/plan_command.hpp"
#include "cmd/run_command.hpp"
#include "common/errors.hpp"
#include "common/job_environment.hpp"
#include "common/log.hpp"
#include "connect/gateway_command.hpp"
#include "options/options.hpp"
#include "rendezvous/rendezvous.hpp"

int main(int argc, char** argv) {
    using namespace spark_slurm;
    JobEnvironment environment;
    try {
        // The leader's internal child command, before (and outside) the user's command line.
        if (argc > 1 && std::string(argv[1]) == kGatewayCommandName)
            return gateway_command(std::vector<std::string>(argv + 2, argv + argc));
        if (argc > 1 && std::string(argv[1]) == kMasterProbeCommandName)
            return master_probe_command(std::vector<std::string>(argv + 2, argv + argc));
        environment = read_job_environment(current_environment());
        auto parsed = parse_command_line(std::vector<std::string>(argv + 1, argv + argc),
                                         environment.variables);
        if (parsed.action == ParsedCommandLine::Action::PrintText) {
            std::cout << parsed.text << std::flush;
            return 0;
        }
        if (parsed.options.command == Command::Doctor) {
            return doctor_command(parsed.options, environment);
        }
        if (parsed.options.command == Command::History) {
            return history_command(parsed.options, environment);
        }
        switch (parsed.options.command) {
            case Command::Env:
                return env_command(parsed.options);
            case Command::Status:
                return status_command(parsed.options);
            case Command::List:
                return list_command(parsed.options);
            case Command::Down:
                return down_command(parsed.options);
            case Command::Ui:
                return ui_command(parsed.options, environment.variables);
            default:
                break;
        }
        if (parsed.options.command == Command::Plan) {
            return plan_command(parsed.options, environment, &argc, &argv);
        }
        return run_command(parsed.options, environment, &argc, &argv);
    } catch (const UsageError& error) {
        // Every rank finds the same mistake; one message is enough.
        if (environment.slurm.procid.value_or(0) == 0) log::write_line(error.what());
        return kExitUsage;
    } catch (const PeerFailed& failed) {
        return failed.exit_code;
    } catch (const std::exception& error) {
        log::write_line(log::origin() + ": error: " + error.what());
        return kExitFailure;
    }
}
