// A pipe for a child's output or its exec error: both ends close-on-exec. Internal to the
// supervisor library.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "common/errors.hpp"
#include "common/unique_fd.hpp"

namespace spark_slurm {

// (read end, write end); throws naming what was being started (`label`), with errno's text.
inline std::pair<UniqueFd, UniqueFd> close_on_exec_pipe(const std::string& label) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
        throw LaunchError("while starting " + label + ": pipe: " + std::strerror(errno));
    return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

}  // namespace spark_slurm
