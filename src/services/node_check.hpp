// What a node checks for the user's data and Python before anything starts: that the sources of
// the binds the user or the site asked for exist here, and which version the driver's and the
// executors' Python have here — run through the same runtime as the programs, so inside the
// image with its binds. Every rank checks itself before the rendezvous; the leader compares the
// answers (make_plan) and stops every rank with one message naming the node that differs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "options/options.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {

// The bind sources every node must have, with where each was asked for: --bind under any
// runtime, and under a container runtime the binds it reads from its own environment
// (APPTAINER_BIND/APPTAINER_BINDPATH, else SINGULARITY_BIND/SINGULARITY_BINDPATH; singularity
// reads only the latter). Pure.
std::vector<std::pair<std::string, std::string>> required_bind_sources(
    const Options& options, RuntimeChoice runtime, const Environment& environment);

// The version a Python check printed ("3.11.2"), or empty when its output has none. Pure.
std::string python_version_in(const std::string& output);

// Fills report.missing_binds, report.driver_python and report.executor_python for this node.
// A runtime that cannot be resolved (a usage error `run` reports by itself) skips the Python
// check. Runs at most two short programs (one when the driver and executors share a Python):
// always with --runtime none (a Python that is not chosen may be absent: then it is only
// compared when it runs), in a container only when a Python was chosen.
void check_this_node(NodeReport& report, const Options& options, const Environment& environment);

}  // namespace spark_slurm
