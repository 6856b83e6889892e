// Where a program name leads: the one search of a PATH in the launcher. The runtime looks for
// apptainer, java and the user's Python with it; the supervisor resolves each child's program
// with it against the child's own PATH (not the launcher's), so what runs is what was looked up.
#pragma once

#include <filesystem>
#include <string>

#include "common/job_environment.hpp"

namespace spark_slurm {

// A regular file (after symbolic links) that this user may execute.
bool is_executable_file(const std::filesystem::path& path);

// The first "<dir>/<program>" over the directories of the PATH in `environment`, in order, that
// is an executable file; empty entries are skipped (not taken for "."). Empty when none is, or
// when there is no PATH.
std::string find_on_path(const std::string& program, const Environment& environment);

}  // namespace spark_slurm
