// The two kinds of failure the launcher reports. Only main() prints them and picks the exit
// status: a UsageError (the user can fix the command line, the config or the environment) exits
// with 2 before anything is started; a LaunchError (something failed while running) exits with 1.
#pragma once

#include <stdexcept>
#include <string>

namespace spark_slurm {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct LaunchError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A rank that must stop because another rank failed (the leader failed to plan, or a rank found
// a problem the leader reported): that rank already said why, so this one exits quietly.
struct PeerFailed {
    int exit_code;
};

inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailure = 1;

}  // namespace spark_slurm
