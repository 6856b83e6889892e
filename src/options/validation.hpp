// Validation of one command's option values (validation.cpp). Internal to the options library.
#pragma once

#include <boost/program_options.hpp>
#include <set>
#include <string>
#include <vector>

#include "options/options.hpp"

namespace spark_slurm {

// The Options of `command` from `values` (the command line, the config file and the
// environment, stored), `from_command_line` (the options given there), the driver command after
// "--" and `history`'s job ids. Throws UsageError naming the option and the fix.
Options validated(Command command, const boost::program_options::variables_map& values,
                  const std::set<std::string>& from_command_line, std::vector<std::string> driver,
                  const std::vector<std::string>& positional);

}  // namespace spark_slurm
