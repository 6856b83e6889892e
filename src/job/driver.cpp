#include "job/driver.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "common/log.hpp"
#include "services/services.hpp"

namespace spark_slurm {

Process start_driver(const Plan& plan, const std::vector<std::string>& command,
                     const Runtime& runtime) {
    Invocation invocation =
        driver_invocation(plan, command, std::filesystem::current_path().string());
    Execution execution = runtime.prepare(invocation);
    log::info("running the driver: {}", fmt::join(command, " "));
    return Process::spawn({execution.argv, execution.environment, execution.working_dir, "", true},
                          "driver");
}

}  // namespace spark_slurm
