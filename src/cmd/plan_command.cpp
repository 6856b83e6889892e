#include "cmd/plan_command.hpp"

#include <fmt/format.h>

#include <iostream>

#include "allocation/allocation.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "job/node_report.hpp"
#include "plan/plan.hpp"
#include "plan/plan_json.hpp"
#include "rendezvous/rendezvous.hpp"

namespace spark_slurm {

namespace {

void print_plan(const Options& options, const Plan& plan, unsigned rank) {
    if (options.json) {
        write_plan_json(std::cout, plan, SecretHandling::Fingerprint, {{"rank", rank}});
        std::cout << '\n';
    } else {
        std::cout << describe_plan(plan);
    }
    std::cout << std::flush;
}

// The preview for --nodes N: synthetic reports, no MPI, no Slurm.
void print_preview_plan(const Options& options, const JobEnvironment& environment) {
    NodeResources per_node;
    if (options.preview_cores_per_node && options.preview_memory_per_node) {
        per_node = {*options.preview_cores_per_node, *options.preview_memory_per_node};
    } else {
        per_node = usable_resources(probe_this_node(environment.slurm));
        if (options.preview_cores_per_node) per_node.cpus = *options.preview_cores_per_node;
        if (options.preview_memory_per_node) per_node.memory = *options.preview_memory_per_node;
    }
    PlanInputs inputs;
    inputs.options = options;
    inputs.job_dir = options.job_dir.value_or("$SLURM_SUBMIT_DIR/spark-slurm-JOBID");
    inputs.secret = "preview";
    const unsigned count = *options.preview_nodes;
    inputs.nodes.reserve(count);
    const std::string work_base = options.work_dir.value_or("$TMPDIR");
    for (unsigned rank = 0; rank < count; ++rank) {
        NodeReport report;
        report.rank = rank;
        report.hostname = fmt::format("node{}", rank + 1);
        report.address = report.hostname;
        report.resources = per_node;
        report.work_dir = fmt::format("{}/spark-slurm-JOBID-{}", work_base, rank);
        inputs.nodes.push_back(std::move(report));
    }
    print_plan(options, make_plan(inputs), 0);
}

}  // namespace

int plan_command(const Options& options, const JobEnvironment& environment, int* argc,
                 char*** argv) {
    if (options.preview_nodes) {
        print_preview_plan(options, environment);
        return 0;
    }
    if (!inside_allocation(environment.slurm)) {
        throw UsageError(
            "spark-slurm plan: not inside a Slurm allocation; preview a cluster with --nodes N "
            "(and --cores-per-node C --memory-per-node SIZE), or run it in a job with 'srun "
            "--ntasks-per-node=1 --mpi=pmix spark-slurm plan'");
    }
    SlurmLibrary slurm;
    Allocation allocation = read_allocation(environment.slurm);
    PortClaims claims;
    NodeReport mine = report_for_rendezvous(options, environment, claims);
    // `run` listens on a port the kernel picks; the dry run shows one picked the same way.
    mine.ports.control = claims.claim(0);
    MpiSession mpi(argc, argv);
    assign_rank_for_rendezvous(mine, options, allocation.job_id, mpi.rank(), environment);
    log::set_origin(fmt::format("spark-slurm[{} {}]", mpi.rank(), mine.hostname));
    Plan plan = rendezvous(
        mpi, mine,
        [&](std::vector<NodeReport> reports) {
            return plan_on_leader(options, allocation, job_is_requeueable(slurm, allocation.job_id),
                                  std::move(reports));
        },
        std::chrono::seconds(options.ready_timeout_seconds), SecretDelivery::DryRunPlaceholder);
    if (mpi.rank() == 0 || options.every_rank) print_plan(options, plan, mine.rank);
    return 0;
}

}  // namespace spark_slurm
