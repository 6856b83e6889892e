// `spark-slurm connect-gateway --listen ADDR:PORT --backend-port N --cert FILE --key FILE`: the
// internal command the leader spawns as a child process to run the TLS gateway in front of its
// Spark Connect server. Not a user command: it is absent from --help and from the options table.
#pragma once

#include <string>
#include <vector>

#include "connect/tls_gateway.hpp"

namespace spark_slurm {

// The name main() recognises as argv[1].
inline constexpr const char* kGatewayCommandName = "connect-gateway";

// `args` are the arguments after the command name. Serves until SIGTERM/SIGINT and returns 0;
// throws UsageError on a malformed command line and LaunchError when the gateway cannot start.
int gateway_command(const std::vector<std::string>& args);

// The parsing alone, for tests. Throws UsageError.
GatewaySettings parse_gateway_arguments(const std::vector<std::string>& args);

}  // namespace spark_slurm
