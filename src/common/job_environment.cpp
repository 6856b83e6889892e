#include "common/job_environment.hpp"

#include <cctype>

#include "common/sizes.hpp"

namespace spark_slurm {

std::string environment_value(const Environment& environment, const std::string& name) {
    auto it = environment.find(name);
    return it == environment.end() ? "" : it->second;
}

namespace {

// Slurm may append a unit or a count ("4(x2)") to some variables; take the leading number.
std::optional<std::uint64_t> leading_number(const Environment& variables, const char* name) {
    std::string digits;
    for (char c : environment_value(variables, name)) {
        if (!std::isdigit(static_cast<unsigned char>(c))) break;
        digits += c;
    }
    return parse_count(digits);
}

}  // namespace

JobEnvironment read_job_environment(Environment variables) {
    JobEnvironment job;
    SlurmFacts& slurm = job.slurm;
    slurm.job_id_text = environment_value(variables, "SLURM_JOB_ID");
    if (auto id = parse_count(slurm.job_id_text); id && *id <= 0xffffffffu)
        slurm.job_id = static_cast<std::uint32_t>(*id);
    slurm.nodelist = environment_value(variables, "SLURM_JOB_NODELIST");
    slurm.node_name = environment_value(variables, "SLURMD_NODENAME");
    slurm.restart_count =
        static_cast<unsigned>(leading_number(variables, "SLURM_RESTART_COUNT").value_or(0));
    slurm.submit_dir = environment_value(variables, "SLURM_SUBMIT_DIR");
    if (auto step = leading_number(variables, "SLURM_STEP_ID"))
        slurm.step_id = static_cast<std::uint32_t>(*step);
    if (auto rank = leading_number(variables, "SLURM_PROCID"))
        slurm.procid = static_cast<unsigned>(*rank);
    if (auto cpus = leading_number(variables, "SLURM_CPUS_ON_NODE"))
        slurm.cpus_on_node = static_cast<unsigned>(*cpus);
    if (auto mb = leading_number(variables, "SLURM_MEM_PER_NODE")) slurm.mem_per_node = *mb * kMiB;
    if (auto mb = leading_number(variables, "SLURM_MEM_PER_CPU")) slurm.mem_per_cpu = *mb * kMiB;
    job.tmpdir = environment_value(variables, "TMPDIR");
    job.variables = std::move(variables);
    return job;
}

}  // namespace spark_slurm
