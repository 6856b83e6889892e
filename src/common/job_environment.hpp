// The launcher's process environment, read once at the edge (main) into typed facts: the job as
// Slurm describes it to every task, and the user's paths. The rest of the launcher takes these
// facts; only the runtime, which hands the user's environment on to daemons and the driver,
// sees the variables themselves.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace spark_slurm {

// The same alias as options.hpp's (the options read SPARK_SLURM_* variables from it).
using Environment = std::map<std::string, std::string>;

// A variable's value; "" when it is unset.
std::string environment_value(const Environment& environment, const std::string& name);

// The SLURM_* values the launcher uses. Numbers Slurm decorates ("4(x2)") are read up to the
// first non-digit; memory is in bytes (Slurm gives megabytes).
struct SlurmFacts {
    std::string job_id_text;                    // SLURM_JOB_ID as given ("" outside a job)
    std::optional<std::uint32_t> job_id;        // nullopt when absent or not a number
    std::string nodelist;                       // SLURM_JOB_NODELIST
    std::string node_name;                      // SLURMD_NODENAME
    unsigned restart_count = 0;                 // SLURM_RESTART_COUNT (0 on the first run)
    std::string submit_dir;                     // SLURM_SUBMIT_DIR
    std::optional<unsigned> procid;             // SLURM_PROCID: this task's rank
    std::optional<std::uint32_t> step_id;       // SLURM_STEP_ID: the launchers' step
    std::optional<unsigned> cpus_on_node;       // SLURM_CPUS_ON_NODE
    std::optional<std::uint64_t> mem_per_node;  // SLURM_MEM_PER_NODE
    std::optional<std::uint64_t> mem_per_cpu;   // SLURM_MEM_PER_CPU
};

struct JobEnvironment {
    SlurmFacts slurm;
    std::string tmpdir;     // TMPDIR ("" when unset)
    Environment variables;  // all of them, for what the user's programs inherit
};

JobEnvironment read_job_environment(Environment variables);

}  // namespace spark_slurm
