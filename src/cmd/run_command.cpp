#include "cmd/run_command.hpp"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <thread>

#include "allocation/allocation.hpp"
#include "cds/cds.hpp"
#include "common/errors.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "control/control_channel.hpp"
#include "job/events.hpp"
#include "job/leader.hpp"
#include "job/node_report.hpp"
#include "job/node_setup.hpp"
#include "job/state_dir_claim.hpp"
#include "job/worker.hpp"
#include "network/network.hpp"
#include "plan/plan.hpp"
#include "rendezvous/rendezvous.hpp"
#include "runtime/image_check.hpp"
#include "runtime/install_versions.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A mistake the user can fix found on this node travels in its report, so that the leader stops
// every rank at once with a message naming the node, instead of this rank ending alone while the
// others wait for it at the rendezvous.
template <typename Check>
void note_problem(NodeReport& report, Check check) {
    try {
        check();
    } catch (const UsageError& error) {
        if (report.problem.empty()) report.problem = error.what();
    }
}

// The versions the daemons will run, said once by the leader. An unsupported one is a problem
// that stops every rank; a Spark without Spark Connect gives `up` a cluster without it.
std::string check_installs(const InstallInspection& installs, Options& options, EventLog& events) {
    if (!installs.problem.empty()) return installs.problem;
    const char* command = to_string(options.command);
    const InstallVersionCheck spark_check =
        check_spark_install(installs.spark_jars, installs.spark_where);
    const InstallVersionCheck hadoop_check =
        options.hdfs ? check_hadoop_install(installs.hadoop_jars, installs.hadoop_where)
                     : InstallVersionCheck{};
    for (const auto* check : {&spark_check, &hadoop_check}) {
        if (!check->problem.empty())
            return fmt::format("spark-slurm {}: {}", command, check->problem);
        if (!check->warning.empty()) log::warn("{}", check->warning);
    }
    if (options.hdfs && options.hdfs_auth == HdfsAuth::Kerberos) {
        std::string problem = kerby_kdc_problem(installs.hadoop_jars, installs.hadoop_where);
        if (!problem.empty()) return fmt::format("spark-slurm {}: {}", command, problem);
    }
    const std::optional<ReleaseVersion>& spark = spark_check.version;
    const std::optional<ReleaseVersion>& hadoop = hadoop_check.version;
    log::info("Spark {} from {}{}", spark ? spark->text : "(version unknown)", installs.spark_where,
              options.hdfs
                  ? fmt::format(", Hadoop {} from {}", hadoop ? hadoop->text : "(version unknown)",
                                installs.hadoop_where)
                  : "");
    events.write("installs",
                 {{"spark", spark ? spark->text : ""}, {"hadoop", hadoop ? hadoop->text : ""}});
    if (options.connect && spark && !has_spark_connect(*spark)) {
        if (options.command != Command::Up) {
            return fmt::format(
                "spark-slurm {}: --connect needs Spark 4.0 or later, and {} holds Spark {}: leave "
                "out --connect, or use a Spark 4 install or image",
                command, installs.spark_where, spark->text);
        }
        log::warn(
            "Spark {} has no Spark Connect (it comes with Spark 4): this cluster starts "
            "without it; spark-submit, pyspark and hdfs reach it after 'spark-slurm env' "
            "(pass --no-connect to silence this)",
            spark->text);
        options.connect = false;
    }
    return "";
}

// Once per Java and Spark install: ~12 s of a JVM loading the classes the driver loaded.
constexpr auto kClassTrainingLimit = std::chrono::minutes(5);

// A signal that ends the job (scancel, the time limit's warning): the archive is not worth a job
// ending late. It stays pending; the launcher ends as it would have.
bool ending_signal_pending() {
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2})
        if (sigismember(&pending, signal) == 1) return true;
    return false;
}

void train_class_archive(const Runtime& runtime, const Invocation& training) {
    const Execution execution = runtime.prepare(training);
    const auto start = Clock::now();
    CapturedRun run;
    try {
        run = run_captured(
            {execution.argv, execution.environment, execution.working_dir, "", false},
            "the class archive training", kClassTrainingLimit, 64 * 1024, ending_signal_pending);
    } catch (const LaunchError& error) {
        log::warn("CDS: could not write the application's class archive: {}", error.what());
        return;
    }
    if (!run.status) {
        log::warn(
            "CDS: stopped writing the application's class archive ({}); the next job tries again",
            ending_signal_pending() ? "the job is ending" : "it took over 5 min");
        return;
    }
    if (*run.status != 0) {
        log::warn("CDS: writing the application's class archive failed ({}); its output ends: {}",
                  describe_wait_status(*run.status), last_lines(run.output, 5));
        return;
    }
    log::info("CDS: the application's class archive took {:.1f} s to write", seconds_since(start));
}

// The leader's part of the rendezvous: the plan from every node's report, and the state dir's
// claim (usage errors here stop every rank with the message).
Plan leader_plan(const Options& options, const Allocation& allocation, const SlurmLibrary& slurm,
                 const InstallInspection& installs, std::vector<NodeReport> reports) {
    Plan plan = plan_on_leader(options, allocation, job_is_requeueable(slurm, allocation.job_id),
                               std::move(reports));
    if (options.state_dir) {
        claim_state_dir(*options.state_dir, allocation.job_id,
                        [&slurm](std::uint32_t job) { return job_activity(slurm, job); });
    }
    plan.image = installs.image;
    return plan;
}

// What the leader publishes about how the cluster runs (the connection record).
PublicationFacts publication_facts(const JobEnvironment& environment, const Allocation& allocation,
                                   const RuntimeSettings& runtime_settings) {
    PublicationFacts facts;
    facts.step_id = environment.slurm.step_id.value_or(0);
    facts.nodes = allocation.nodes;
    facts.runtime = to_string(runtime_settings.kind);
    facts.image = runtime_settings.spark_image;
    facts.spark_home = runtime_settings.spark_home;
    facts.hadoop_home = runtime_settings.hadoop_home;
    if (auto host = environment.variables.find("SLURM_SUBMIT_HOST");
        host != environment.variables.end())
        facts.submit_host = host->second;
    return facts;
}

// After the rendezvous: this node's ground, its class archives, and the leader's or a worker's
// part until the job ends; the job's exit code.
int serve_node(const Plan& plan, const NodePlan& node, const Options& options,
               const RuntimeSettings& runtime_settings, const JobEnvironment& environment,
               const Allocation& allocation, const SlurmLibrary& slurm,
               std::optional<ControlServer>& control, EventLog& events) {
    WorkDirectory work_directory(node.work_dir);
    // Class archives for the daemons' JVMs: mapped when this user has one for this Java and
    // Spark (or this image), else written by the daemons as they stop, and kept by finish(). The
    // driver and executors map theirs through the leader's spark-defaults.conf.
    std::optional<CdsCache> cds;
    if (options.cds) {
        cds = CdsCache::open(runtime_settings, plan.image);
    }
    SparkSettings class_archive_settings;
    if (cds && node.runs_leader()) class_archive_settings = cds->spark_app_settings(node.tmp_dir);
    prepare_node(plan, node, class_archive_settings);
    auto runtime = make_runtime(runtime_settings);
    std::optional<CdsRuntime> with_cds;
    if (cds) with_cds.emplace(*runtime, *cds);
    const Runtime& daemon_runtime = with_cds ? static_cast<const Runtime&>(*with_cds) : *runtime;
    int status = 0;
    if (node.runs_leader()) {
        status = Leader(plan, daemon_runtime, options.driver, slurm, std::move(*control), events,
                        publication_facts(environment, allocation, runtime_settings), Clock::now())
                     .run();
    } else {
        status = Worker(plan, node, daemon_runtime, slurm).run();
    }
    if (cds) {
        // Not for a job ending (scancel, the time limit): the next one writes it.
        if (node.runs_leader() && !ending_signal_pending()) {
            if (auto training = cds->spark_app_training(
                    installed_file("share/spark-slurm/cds/SparkSlurmClassTraining.java"),
                    status == 0))
                train_class_archive(*runtime, *training);
        }
        cds->finish();
    }
    return status;
}

}  // namespace

int run_command(const Options& requested, const JobEnvironment& environment, int* argc,
                char*** argv) {
    const auto started = Clock::now();
    Options options = requested;
    std::optional<RuntimeSettings> runtime_settings;
    std::string runtime_problem;
    try {
        runtime_settings = resolve_runtime(options, environment.variables);
    } catch (const UsageError& error) {
        runtime_problem = error.what();
    }
    // Outside an allocation there are no peers to tell: say it now.
    if (!runtime_problem.empty() && !inside_allocation(environment.slurm))
        throw UsageError(runtime_problem);
    SlurmLibrary slurm;
    Allocation allocation = read_allocation(environment.slurm);

    // The ports this node reports are held from now on (see PortClaims), the control port as a
    // listening socket on the address the workers will be told: no other job on the node can be
    // handed them. Only the leader's is used; which rank leads is known after MPI_Init.
    PortClaims claims;
    NodeReport mine = report_for_rendezvous(options, environment, claims);
    std::optional<ControlServer> control;
    std::string control_problem;
    try {
        const bool given_here = options.leader_ip && is_local_address(*options.leader_ip);
        control.emplace(given_here ? *options.leader_ip : mine.address);
        mine.ports.control = control->port();
    } catch (const LaunchError& error) {
        control_problem = error.what();
    }
    if (mine.problem.empty()) mine.problem = runtime_problem;

    become_supervisor();
    MpiSession mpi(argc, argv);
    assign_rank_for_rendezvous(mine, options, allocation.job_id, mpi.rank(), environment);
    log::set_origin(fmt::format("spark-slurm[{} {}]", mpi.rank(), mine.hostname));
    const bool leader_rank = mpi.rank() == 0;
    std::optional<EventLog> events;
    note_problem(mine, [&] {
        events.emplace(leader_rank ? options.events_file.value_or("") : "", started);
    });
    // Reported through the rendezvous, like a usage error, so that no rank waits for this one.
    if (leader_rank && mine.problem.empty()) mine.problem = control_problem;
    InstallInspection installs;
    if (leader_rank && mine.problem.empty()) {
        installs = inspect_installs(*runtime_settings, options.hdfs);
        mine.problem = check_installs(installs, options, *events);
    }
    if (leader_rank) log::info("job {}: rendezvous of {} rank(s)", allocation.job_id, mpi.size());
    const auto rendezvous_start = Clock::now();

    Plan plan = rendezvous(
        mpi, mine,
        [&](std::vector<NodeReport> reports) {
            return leader_plan(options, allocation, slurm, installs, std::move(reports));
        },
        std::chrono::seconds(options.ready_timeout_seconds));
    const NodePlan& node = plan.nodes.at(mine.rank);
    if (leader_rank) {
        log::info("rendezvous done in {:.2f} s", seconds_since(rendezvous_start));
        events->write("rendezvous", {{"ranks", mpi.size()},
                                     {"seconds", seconds_since(rendezvous_start)},
                                     {"control_port", plan.control_port}});
    }
    if (node.role == Role::Idle) {
        log::info("not needed by this cluster (--workers {}); exiting", plan.worker_count);
        return 0;
    }
    if (!node.runs_leader()) control.reset();

    return serve_node(plan, node, options, *runtime_settings, environment, allocation, slurm,
                      control, *events);
}

}  // namespace spark_slurm
