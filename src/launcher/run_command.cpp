#include "launcher/run_command.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "allocation/allocation.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "launcher/control_channel.hpp"
#include "launcher/node_report.hpp"
#include "plan/plan.hpp"
#include "rendezvous/rendezvous.hpp"
#include "runtime/runtime.hpp"
#include "services/probes.hpp"
#include "services/services.hpp"
#include "supervisor/janitor.hpp"
#include "supervisor/process.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kDaemonStopGrace = 10s;
constexpr auto kHeartbeatInterval = 1s;
// A launcher that hears nothing from its peer for this long assumes it is gone (both sides send a
// heartbeat every kHeartbeatInterval).
constexpr auto kPeerSilenceLimit = 15s;
// How long a failing leader waits for workers that have not said hello yet, to tell them to stop.
constexpr auto kLateHelloGrace = 5s;
// The leader opens its control port right after the rendezvous, before anything slow.
constexpr auto kLeaderConnectLimit = 60s;
// How long the leader waits for workers to confirm their teardown.
constexpr auto kWorkerStopLimit = kDaemonStopGrace + 5s;
constexpr auto kProbeInterval = 250ms;
constexpr std::size_t kLogTailLines = 15;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Removes the node-local work directory on every way out of the launcher; the janitor does it
// when the launcher is killed before it can.
class WorkDirectory {
  public:
    explicit WorkDirectory(std::string path) : path_(std::move(path)) { start_janitor(path_); }
    ~WorkDirectory() {
        std::error_code error;
        fs::remove_all(path_, error);
        dismiss_janitor();
    }
    WorkDirectory(const WorkDirectory&) = delete;
    WorkDirectory& operator=(const WorkDirectory&) = delete;

  private:
    std::string path_;
};

void make_private_dir(const std::string& path) {
    if (path.empty()) return;
    std::error_code error;
    fs::create_directories(path, error);
    if (error) throw LaunchError("while creating " + path + ": " + error.message());
    // HDFS refuses data directories other users could read (dfs.datanode.data.dir.perm = 700).
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, error);
}

void write_file(const std::string& path, const std::string& text, fs::perms permissions) {
    {
        std::ofstream file(path, std::ios::trunc);
        if (!file) throw LaunchError("while writing " + path);
        fs::permissions(path, permissions, fs::perm_options::replace);
        file << text;
        if (!file) throw LaunchError("while writing " + path);
    }
}

// Directories and configuration files of this node; the secret goes only into a 0600 file.
void prepare_node(const Plan& plan, const NodePlan& node) {
    make_private_dir(node.work_dir);
    make_private_dir(node.conf_dir);
    make_private_dir(node.tmp_dir);
    for (const auto& dir :
         {node.spark_local_dir, node.spark_worker_dir, node.namenode_dir, node.datanode_dir}) {
        make_private_dir(dir);
    }
    std::error_code error;
    fs::create_directories(plan.log_dir, error);
    if (error) {
        throw LaunchError("while creating the log directory " + plan.log_dir + ": " +
                          error.message() + " (choose a writable shared directory with --job-dir)");
    }
    if (!plan.recovery_dir.empty() && node.runs_leader()) make_private_dir(plan.recovery_dir);
    if (!plan.checkpoint_dir.empty() && node.runs_leader()) {
        fs::create_directories(plan.checkpoint_dir, error);
    }
    ConfigFiles files = render_configs(plan, node);
    write_file(node.conf_dir + "/spark-defaults.conf", files.spark_defaults,
               fs::perms::owner_read | fs::perms::owner_write);
    write_file(node.conf_dir + "/spark-env.sh", files.spark_env,
               fs::perms::owner_read | fs::perms::owner_write);
    if (plan.hdfs) {
        write_file(node.conf_dir + "/core-site.xml", files.core_site,
                   fs::perms::owner_read | fs::perms::owner_write);
        write_file(node.conf_dir + "/hdfs-site.xml", files.hdfs_site,
                   fs::perms::owner_read | fs::perms::owner_write);
    }
    // Log4j output of the daemons goes to their stderr, which is their log file.
}

struct RunningDaemon {
    DaemonSpec spec;
    std::optional<Process> process;
    unsigned restarts = 0;
    std::optional<Clock::time_point> restart_at;
    bool done = false;  // exited for good: reported, not restarted
};

// What happened to a daemon since the last look.
struct DaemonEvent {
    enum class Kind { Stopped, RestartScheduled, Restarted } kind;
    DaemonSpec spec;
    int status = 0;        // the wait status, for Stopped and RestartScheduled
    unsigned attempt = 0;  // for RestartScheduled and Restarted
    std::chrono::seconds delay{0};
};

// The daemons of this node, started through the runtime, each in its own process group. Once
// the cluster is running, a daemon that exits is restarted in place, a bounded number of times
// with a growing delay; HDFS and Spark recovery (with --state-dir) let it pick up its state.
class NodeDaemons {
  public:
    static constexpr unsigned kMaxRestarts = 3;

    explicit NodeDaemons(const Runtime& runtime) : runtime_(runtime) {}

    void start(const DaemonSpec& spec) {
        daemons_.push_back({spec, spawn(spec), 0, {}, false});
        log::info("started {} (log: {})", display_name(spec.daemon), spec.log_file);
    }

    // Exits since the last call, restarts scheduled or done. With `restart` false an exit is final.
    std::vector<DaemonEvent> poll(bool restart) {
        std::vector<DaemonEvent> events;
        for (auto& daemon : daemons_) {
            if (daemon.done) continue;
            if (daemon.restart_at) {
                if (Clock::now() < *daemon.restart_at) continue;
                daemon.restart_at.reset();
                try {
                    daemon.process = spawn(daemon.spec);
                    events.push_back(
                        {DaemonEvent::Kind::Restarted, daemon.spec, 0, daemon.restarts, {}});
                } catch (const LaunchError&) {
                    daemon.done = true;
                    events.push_back(
                        {DaemonEvent::Kind::Stopped, daemon.spec, 127 << 8, daemon.restarts, {}});
                }
                continue;
            }
            auto status = daemon.process ? daemon.process->exit_status() : std::nullopt;
            if (!status) continue;
            daemon.process.reset();
            if (restart && daemon.restarts < kMaxRestarts) {
                std::chrono::seconds delay(1u << daemon.restarts);
                ++daemon.restarts;
                daemon.restart_at = Clock::now() + delay;
                events.push_back({DaemonEvent::Kind::RestartScheduled, daemon.spec, *status,
                                  daemon.restarts, delay});
            } else {
                daemon.done = true;
                events.push_back(
                    {DaemonEvent::Kind::Stopped, daemon.spec, *status, daemon.restarts, {}});
            }
        }
        return events;
    }

    void stop_all_daemons() {
        std::vector<Process*> processes;
        for (auto& daemon : daemons_) {
            daemon.restart_at.reset();
            if (daemon.process) processes.push_back(&*daemon.process);
        }
        spark_slurm::stop_all(processes, kDaemonStopGrace);
    }

  private:
    Process spawn(const DaemonSpec& spec) {
        Execution execution = runtime_.prepare(spec.invocation);
        SpawnRequest request{execution.argv, execution.environment, execution.working_dir,
                             spec.log_file, false};
        return Process::spawn(request, display_name(spec.daemon));
    }

    const Runtime& runtime_;
    std::vector<RunningDaemon> daemons_;
};

std::string exit_message(const std::string& host, const DaemonSpec& spec, int status) {
    return fmt::format("the {} on {} stopped ({}); last lines of {}:\n{}",
                       display_name(spec.daemon), host, describe_wait_status(status), spec.log_file,
                       tail_of_file(spec.log_file, kLogTailLines));
}

// This node's log line for a restart that is scheduled or done (the leader and workers alike).
void log_restart(const std::string& host, const DaemonEvent& event) {
    if (event.kind == DaemonEvent::Kind::RestartScheduled) {
        log::warn("{}; restarting it in {} s (attempt {} of {})",
                  exit_message(host, event.spec, event.status), event.delay.count(), event.attempt,
                  NodeDaemons::kMaxRestarts);
    } else {
        log::info("restarted {} (attempt {})", display_name(event.spec.daemon), event.attempt);
    }
}

// Runs a short-lived step (the namenode format) to completion, or gives up at the deadline or
// at a termination signal. Returns its wait status.
std::optional<int> run_to_completion(const Runtime& runtime, const DaemonSpec& spec,
                                     SignalFd& signals, Clock::time_point deadline,
                                     int& termination_signal) {
    Execution execution = runtime.prepare(spec.invocation);
    Process process = Process::spawn(
        {execution.argv, execution.environment, execution.working_dir, spec.log_file, false},
        fmt::format("{} {}", spec.invocation.tool, fmt::join(spec.invocation.args, " ")));
    while (Clock::now() < deadline) {
        pollfd ready{signals.fd(), POLLIN, 0};
        ::poll(&ready, 1, 200);
        while (int signal = signals.read_signal()) {
            if (signal != SIGCHLD) termination_signal = signal;
        }
        reap_children();
        if (auto status = process.exit_status()) return status;
        if (termination_signal) break;
    }
    process.stop(kDaemonStopGrace);
    return {};
}

bool is_termination(int signal) {
    return signal == SIGTERM || signal == SIGINT || signal == SIGHUP;
}

// ---------------------------------------------------------------------------------------------
// The leader.

struct WorkerLink {
    Connection connection;
    std::optional<unsigned> rank;  // known after hello
    std::set<Daemon> started;      // daemons it was told to start
    bool stopped = false;
};

class Leader {
  public:
    Leader(const Plan& plan, const Runtime& runtime, const Options& options,
           const SlurmLibrary& slurm, const Allocation& allocation)
        : plan_(plan),
          node_(plan.leader()),
          runtime_(runtime),
          options_(options),
          slurm_(slurm),
          allocation_(allocation),
          daemons_(runtime),
          server_(plan.control_port) {}

    int run() {
        start_ = Clock::now();
        const auto deadline = start_ + std::chrono::seconds(plan_.ready_timeout_seconds);
        log::info("cluster of {} worker(s); daemon logs in {}", plan_.worker_count, plan_.log_dir);
        if (!plan_.requeueable) {
            log::warn(
                "job {} cannot be requeued (no --requeue): if its leader node is preempted or "
                "lost, "
                "the job fails instead of coming back; submit with --requeue to allow that",
                allocation_.job_id);
        }

        try {
            load_http_client();
        } catch (const LaunchError& error) {
            return fail(error.what());
        }
        // The master does not depend on HDFS: it boots while the namespace is formatted.
        start_local(Daemon::SparkMaster);
        if (plan_.hdfs && namenode_needs_format(node_.namenode_dir)) {
            log::info("formatting a new HDFS namespace in {}", node_.namenode_dir);
            auto status = run_to_completion(runtime_, namenode_format_spec(plan_, node_), signals_,
                                            deadline, termination_signal_);
            if (termination_signal_) return teardown(128 + termination_signal_);
            if (!status || *status != 0) {
                auto spec = namenode_format_spec(plan_, node_);
                return fail(status
                                ? exit_message(node_.hostname, spec, *status)
                                : "formatting the namenode did not finish within --ready-timeout");
            }
        }
        if (plan_.hdfs) {
            start_local(Daemon::Namenode);
            // A datanode keeps retrying its namenode by itself, so it can start right away.
            start_local(Daemon::Datanode);
            for (auto& link : links_) send_start(link, Daemon::Datanode);
        }

        // Phase 1: the leader's daemons answer. Phase 2: every worker registered.
        while (!failure_ && !termination_signal_) {
            service_events(100ms);
            if (failure_ || termination_signal_) break;
            if (Clock::now() >= deadline) {
                failure_ = readiness_timeout_message();
                break;
            }
            if (Clock::now() - last_probe_ < kProbeInterval) continue;
            last_probe_ = Clock::now();
            if (!leader_daemons_up_) {
                check_leader_daemons();
            } else if (cluster_ready()) {
                break;
            }
        }
        if (termination_signal_) {
            requeue_if_preempted();
            return teardown(128 + termination_signal_);
        }
        if (failure_) return fail(*failure_);

        for (auto& link : links_) link.connection.send({{"ready", true}});
        log::info("cluster ready in {:.1f} s: {} worker(s) x {} cores, {} MiB",
                  seconds_since(start_), plan_.worker_count, plan_.worker_cores,
                  plan_.worker_memory >> 20);
        log::info("spark master {}  web UI {}", plan_.master_url, plan_.master_webui_url);
        if (plan_.hdfs) log::info("hdfs {}  web UI {}", plan_.hdfs_url, plan_.namenode_webui_url);
        return run_driver();
    }

  private:
    void service_events(std::chrono::milliseconds timeout) {
        std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}, {server_.fd(), POLLIN, 0}};
        for (auto& link : links_) fds.push_back({link.connection.fd(), POLLIN, 0});
        ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));

        while (int signal = signals_.read_signal()) {
            if (is_termination(signal) && !termination_signal_) {
                termination_signal_ = signal;
                log::info("received {}; stopping the cluster", ::strsignal(signal));
            }
        }
        reap_children();
        while (auto connection = server_.accept())
            links_.push_back({std::move(*connection), {}, {}, false});
        for (auto& link : links_) {
            for (const auto& message : link.connection.receive()) handle_message(link, message);
        }
        for (auto& link : links_) {
            bool silent = Clock::now() - link.connection.last_heard() > kPeerSilenceLimit;
            if ((link.connection.closed() || silent) && link.rank && !link.stopped && !stopping_) {
                std::string what =
                    fmt::format("the launcher on {} (rank {}) exited or lost its connection",
                                plan_.nodes[*link.rank].hostname, *link.rank);
                if (!ready_) {
                    failure_ = what;
                } else {
                    log::warn("{}; the cluster goes on without that node", what);
                }
                link.stopped = true;
            }
        }
        for (const auto& event : daemons_.poll(ready_ && !stopping_)) {
            if (stopping_) continue;
            bool leader_daemon =
                event.spec.daemon == Daemon::SparkMaster || event.spec.daemon == Daemon::Namenode;
            switch (event.kind) {
                case DaemonEvent::Kind::RestartScheduled:
                case DaemonEvent::Kind::Restarted:
                    log_restart(node_.hostname, event);
                    break;
                case DaemonEvent::Kind::Stopped:
                    if (!ready_ || leader_daemon) {
                        // Without its master or namenode the cluster cannot go on.
                        failure_ =
                            exit_message(node_.hostname, event.spec, event.status) +
                            (ready_ ? fmt::format("gave up after {} restarts", event.attempt) : "");
                    } else {
                        log::warn("{}; the cluster goes on without it",
                                  exit_message(node_.hostname, event.spec, event.status));
                    }
                    break;
            }
        }
        if (Clock::now() - last_heartbeat_ >= kHeartbeatInterval) {
            last_heartbeat_ = Clock::now();
            for (auto& link : links_) {
                if (link.rank) link.connection.send({{"ping", true}});
            }
        }
    }

    void handle_message(WorkerLink& link, const nlohmann::json& message) {
        if (message.contains("hello")) {
            unsigned rank = message["hello"].get<unsigned>();
            if (rank == 0 || rank >= plan_.nodes.size() ||
                message.value("token", "") != hello_token(plan_.secret, rank)) {
                link.connection = Connection(-1);
                return;
            }
            link.rank = rank;
            if (stopping_) return;
            if (plan_.hdfs && namenode_started_) send_start(link, Daemon::Datanode);
            if (master_up_) send_start(link, Daemon::SparkWorker);
            return;
        }
        if (!link.rank) return;
        const std::string& host = plan_.nodes[*link.rank].hostname;
        if (message.contains("daemon_exited")) {
            std::string what =
                fmt::format("the {} on {} stopped ({}); last lines of its log:\n{}",
                            message.value("daemon_exited", "?"), host, message.value("status", "?"),
                            message.value("log_tail", ""));
            if (stopping_) return;
            if (!ready_) {
                failure_ = what;
            } else {
                log::warn("{}; the cluster goes on without it", what);
            }
        } else if (message.contains("daemon_restarting")) {
            log::warn("the {} on {} stopped ({}); it is being restarted (attempt {})",
                      message.value("daemon_restarting", "?"), host, message.value("status", "?"),
                      message.value("attempt", 0u));
        } else if (message.contains("failed")) {
            if (!ready_ && !stopping_)
                failure_ = fmt::format("on {}: {}", host, message.value("failed", ""));
        } else if (message.contains("stopped")) {
            link.stopped = true;
        }
    }

    // Tells a worker to start one of its daemons (once).
    void send_start(WorkerLink& link, Daemon daemon) {
        if (!link.rank || !link.started.insert(daemon).second) return;
        link.connection.send({{"start", file_name(daemon)}});
    }

    // Starts one of this node's own daemons, if the plan gives it one of that kind.
    void start_local(Daemon daemon) {
        for (const auto& spec : daemons_for(plan_, node_)) {
            if (spec.daemon == daemon) daemons_.start(spec);
        }
        if (daemon == Daemon::Namenode) namenode_started_ = true;
    }

    void check_leader_daemons() {
        if (!master_up_) {
            auto master = probe_master(plan_.master_webui_url);
            if (master && master->status == "ALIVE") {
                master_up_ = true;
                log::info("master up in {:.1f} s", seconds_since(start_));
                // A Spark worker that finds no master retries only 5-15 s later: start the
                // workers when the master answers, not before.
                start_local(Daemon::SparkWorker);
                for (auto& link : links_) send_start(link, Daemon::SparkWorker);
            }
        }
        if (plan_.hdfs && !namenode_up_ && probe_namenode(plan_.namenode_webui_url)) {
            namenode_up_ = true;
            log::info("namenode up in {:.1f} s", seconds_since(start_));
        }
        leader_daemons_up_ = master_up_ && (namenode_up_ || !plan_.hdfs);
    }

    bool cluster_ready() {
        auto master = probe_master(plan_.master_webui_url);
        if (!master) return false;
        unsigned workers = master->matching_workers(plan_.worker_cores, plan_.worker_memory >> 20);
        if (workers != last_workers_) {
            last_workers_ = workers;
            log::info("workers {}/{} registered ({} cores, {} MiB each) at {:.1f} s", workers,
                      plan_.worker_count, plan_.worker_cores, plan_.worker_memory >> 20,
                      seconds_since(start_));
        }
        bool hdfs_ready = true;
        if (plan_.hdfs) {
            auto namenode = probe_namenode(plan_.namenode_webui_url);
            if (!namenode) return false;
            if (namenode->live_datanodes != last_datanodes_) {
                last_datanodes_ = namenode->live_datanodes;
                log::info("datanodes {}/{} live at {:.1f} s", namenode->live_datanodes,
                          plan_.worker_count, seconds_since(start_));
            }
            hdfs_ready =
                namenode->live_datanodes >= plan_.worker_count && !namenode->in_safe_mode();
            if (namenode->live_datanodes >= plan_.worker_count && namenode->in_safe_mode() &&
                !reported_safe_mode_) {
                reported_safe_mode_ = true;
                log::info("waiting for HDFS to leave safe mode");
            }
        }
        ready_ = workers >= plan_.worker_count && hdfs_ready;
        return ready_;
    }

    std::string readiness_timeout_message() {
        std::string message = fmt::format("the cluster was not ready after --ready-timeout {} s: ",
                                          plan_.ready_timeout_seconds);
        if (!leader_daemons_up_) {
            message += fmt::format("the spark master{} on {} did not answer",
                                   plan_.hdfs ? " or hdfs namenode" : "", node_.hostname);
            for (const auto& spec : daemons_for(plan_, node_)) {
                if (spec.daemon == Daemon::SparkMaster || spec.daemon == Daemon::Namenode) {
                    message += fmt::format("\nlast lines of {}:\n{}", spec.log_file,
                                           tail_of_file(spec.log_file, kLogTailLines));
                }
            }
            return message;
        }
        message += fmt::format("{}/{} spark workers registered", last_workers_, plan_.worker_count);
        if (plan_.hdfs)
            message += fmt::format(", {}/{} datanodes live", last_datanodes_, plan_.worker_count);
        std::set<std::string> registered;
        if (auto master = probe_master(plan_.master_webui_url)) {
            for (const auto& worker : master->workers) {
                if (worker.state == "ALIVE") registered.insert(worker.host);
            }
        }
        for (const auto& node : plan_.nodes) {
            if (!node.runs_worker()) continue;
            bool connected = node.rank == 0;
            for (const auto& link : links_) connected |= link.rank == node.rank;
            if (!connected) {
                message +=
                    fmt::format("\n{}: its launcher never connected to the leader", node.hostname);
                continue;
            }
            if (!registered.count(node.address)) {
                auto spec = daemon_spec(plan_, node, Daemon::SparkWorker);
                message += fmt::format("\n{}: spark worker not registered; last lines of {}:\n{}",
                                       node.hostname, spec.log_file,
                                       tail_of_file(spec.log_file, kLogTailLines));
            }
        }
        return message;
    }

    int run_driver() {
        Invocation invocation =
            driver_invocation(plan_, options_.driver, fs::current_path().string());
        Execution execution = runtime_.prepare(invocation);
        log::info("running the driver: {}", fmt::join(options_.driver, " "));
        Process driver = Process::spawn(
            {execution.argv, execution.environment, execution.working_dir, "", true}, "driver");
        while (!termination_signal_ && !failure_) {
            service_events(200ms);
            if (driver.exited()) break;
        }
        // Slurm signals every process of the step at once: a driver killed by it may be reaped
        // a moment before the launcher's own SIGTERM is read. Look once more before deciding.
        if (driver.exited() && !termination_signal_) service_events(100ms);
        int code;
        if (termination_signal_) {
            driver.stop(kDaemonStopGrace);
            code = 128 + termination_signal_;
            requeue_if_preempted();
        } else if (!driver.exited()) {
            log::write_line(log::origin() + ": error: " + failure_.value_or("?") +
                            "; stopping the driver");
            driver.stop(kDaemonStopGrace);
            code = kExitFailure;
        } else {
            int status = *driver.exit_status();
            code = exit_code_of(status);
            log::info("driver finished ({})", describe_wait_status(status));
            if (plan_.hdfs && !plan_.state_dir.empty()) save_namespace();
        }
        return teardown(code);
    }

    // A clean end checkpoints the namespace (fsimage) into the state dir, so the next job that
    // uses it starts from the image instead of replaying the edit log.
    void save_namespace() {
        auto started = Clock::now();
        for (auto args : {std::vector<std::string>{"-safemode", "enter"},
                          std::vector<std::string>{"-saveNamespace"}}) {
            int signal = 0;
            auto status = run_to_completion(runtime_, dfsadmin_spec(plan_, node_, args), signals_,
                                            Clock::now() + 60s, signal);
            if (!status || *status != 0) {
                log::warn(
                    "could not save the HDFS namespace (hdfs dfsadmin {} {}); the edit log still "
                    "has it",
                    fmt::join(args, " "),
                    status ? describe_wait_status(*status) : "did not finish");
                return;
            }
        }
        log::info("saved the HDFS namespace in {:.1f} s", seconds_since(started));
    }

    // At SIGTERM: only a preemption that Slurm does not requeue by itself (PreemptMode=CANCEL)
    // is the launcher's to requeue; scancel and walltime never are.
    void requeue_if_preempted() {
        auto termination = classify_termination(load_job_status(slurm_, allocation_.job_id),
                                                allocation_.restart_count);
        log::info("{}", describe(termination));
        if (termination != Termination::Preempted) return;
        if (!plan_.requeueable) {
            log::warn(
                "the job cannot be requeued (it was submitted without --requeue); it ends here");
            return;
        }
        try {
            requeue_job(slurm_, allocation_.job_id);
            log::info("requeued job {}; it restarts from {}", allocation_.job_id,
                      plan_.state_dir.empty() ? "scratch (no --state-dir)" : plan_.state_dir);
        } catch (const LaunchError& error) {
            log::warn("{}", error.what());
        }
    }

    int fail(const std::string& message) {
        log::write_line(log::origin() + ": error: " + message);
        // A start can fail before every worker has connected (a daemon that dies at once): give
        // them a moment to say hello, so that they hear the stop instead of waiting to connect.
        stopping_ = true;
        const auto until = Clock::now() + kLateHelloGrace;
        while (connected_workers() < expected_workers() && Clock::now() < until)
            service_events(50ms);
        teardown(kExitFailure);
        return kExitFailure;
    }

    unsigned connected_workers() const {
        unsigned count = 0;
        for (const auto& link : links_) count += link.rank.has_value();
        return count;
    }

    unsigned expected_workers() const {
        unsigned count = 0;
        for (const auto& node : plan_.nodes) count += node.rank != 0 && node.role != Role::Idle;
        return count;
    }

    int teardown(int code) {
        stopping_ = true;
        auto started = Clock::now();
        for (auto& link : links_) {
            if (link.rank) link.connection.send({{"stop", true}});
        }
        daemons_.stop_all_daemons();
        // Workers stop theirs in parallel; wait for each to confirm, or to be gone, with a bound.
        auto limit = Clock::now() + kWorkerStopLimit;
        auto outstanding = [&] {
            unsigned count = 0;
            for (auto& link : links_)
                count += link.rank && !link.stopped && !link.connection.closed();
            return count;
        };
        while (outstanding() > 0 && Clock::now() < limit) service_events(100ms);
        if (outstanding() > 0)
            log::warn("{} worker(s) did not confirm their teardown in time", outstanding());
        log::info("cluster stopped in {:.1f} s", seconds_since(started));
        return code;
    }

    const Plan& plan_;
    const NodePlan& node_;
    const Runtime& runtime_;
    const Options& options_;
    const SlurmLibrary& slurm_;
    const Allocation& allocation_;
    NodeDaemons daemons_;
    ControlServer server_;
    SignalFd signals_;
    std::vector<WorkerLink> links_;
    Clock::time_point start_;
    Clock::time_point last_probe_{};
    Clock::time_point last_heartbeat_{};
    bool leader_daemons_up_ = false;
    bool master_up_ = false;
    bool namenode_started_ = false;
    bool namenode_up_ = false;
    bool ready_ = false;
    bool stopping_ = false;
    bool reported_safe_mode_ = false;
    unsigned last_workers_ = 0;
    unsigned last_datanodes_ = 0;
    int termination_signal_ = 0;
    std::optional<std::string> failure_;
};

// ---------------------------------------------------------------------------------------------
// A worker.

class Worker {
  public:
    Worker(const Plan& plan, const NodePlan& node, const Runtime& runtime,
           const SlurmLibrary& slurm)
        : plan_(plan), node_(node), slurm_(slurm), daemons_(runtime) {}

    int run() {
        auto deadline = Clock::now() + kLeaderConnectLimit;
        auto connection = connect_to_leader(plan_.leader_address, plan_.control_port, deadline);
        if (!connection) {
            log::write_line(log::origin() +
                            fmt::format(": error: could not reach the leader at {}:{} within "
                                        "{} s; see the leader's output",
                                        plan_.leader_address, plan_.control_port,
                                        kLeaderConnectLimit.count()));
            return kExitFailure;
        }
        leader_ = std::move(*connection);
        leader_.send({{"hello", node_.rank}, {"token", hello_token(plan_.secret, node_.rank)}});

        while (true) {
            std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}, {leader_.fd(), POLLIN, 0}};
            ::poll(fds.data(), fds.size(), 200);
            while (int signal = signals_.read_signal()) {
                if (is_termination(signal)) {
                    log::info("received {}; stopping", ::strsignal(signal));
                    daemons_.stop_all_daemons();
                    return 128 + signal;
                }
            }
            reap_children();
            for (const auto& message : leader_.receive()) {
                if (message.contains("start")) {
                    const std::string name = message.value("start", "");
                    try {
                        for (const auto& spec : daemons_for(plan_, node_)) {
                            if (name == file_name(spec.daemon) &&
                                started_.insert(spec.daemon).second) {
                                daemons_.start(spec);
                            }
                        }
                    } catch (const std::exception& error) {
                        leader_.send({{"failed", error.what()}});
                    }
                } else if (message.contains("ready")) {
                    cluster_ready_ = true;
                } else if (message.contains("stop")) {
                    daemons_.stop_all_daemons();
                    leader_.send({{"stopped", true}});
                    return 0;
                }
            }
            for (const auto& event : daemons_.poll(cluster_ready_)) report(event);
            if (Clock::now() - last_heartbeat_ >= kHeartbeatInterval) {
                last_heartbeat_ = Clock::now();
                leader_.send({{"ping", true}});
            }
            auto silence = Clock::now() - leader_.last_heard();
            if (leader_.closed() || silence > kPeerSilenceLimit) {
                log::write_line(
                    log::origin() +
                    fmt::format(": error: lost the leader {} ({}); stopping this node",
                                plan_.leader_hostname,
                                leader_.closed() ? "its launcher exited" : "no heartbeat"));
                daemons_.stop_all_daemons();
                if (cluster_ready_) requeue_after_leader_loss();
                return kExitFailure;
            }
        }
    }

  private:
    void report(const DaemonEvent& event) {
        switch (event.kind) {
            case DaemonEvent::Kind::RestartScheduled:
                log_restart(node_.hostname, event);
                leader_.send({{"daemon_restarting", display_name(event.spec.daemon)},
                              {"status", describe_wait_status(event.status)},
                              {"attempt", event.attempt}});
                break;
            case DaemonEvent::Kind::Restarted:
                log_restart(node_.hostname, event);
                break;
            case DaemonEvent::Kind::Stopped:
                log::warn("{}", exit_message(node_.hostname, event.spec, event.status));
                leader_.send({{"daemon_exited", display_name(event.spec.daemon)},
                              {"status", describe_wait_status(event.status)},
                              {"log_tail", tail_of_file(event.spec.log_file, kLogTailLines)}});
                break;
        }
    }

    // The leader is gone while the job still runs (its node was lost, or its launcher was
    // killed): the Spark master and namenode with it, so the cluster cannot recover in place.
    // Requeue the job unless Slurm is already doing so; the first worker to get here wins, the
    // others' requests fail harmlessly.
    void requeue_after_leader_loss() {
        auto termination =
            classify_termination(load_job_status(slurm_, plan_.job_id), plan_.restart_count);
        if (termination == Termination::RequeuedBySlurm) {
            log::info("{}", describe(termination));
            return;
        }
        if (!plan_.requeueable) {
            log::warn("the job cannot be requeued (no --requeue); it ends here");
            return;
        }
        try {
            requeue_job(slurm_, plan_.job_id);
            log::info("requeued job {} after losing the leader", plan_.job_id);
        } catch (const LaunchError& error) {
            log::info("{} (another worker may have requeued it already)", error.what());
        }
    }

  private:
    const Plan& plan_;
    const NodePlan& node_;
    const SlurmLibrary& slurm_;
    NodeDaemons daemons_;
    SignalFd signals_;
    Connection leader_{-1};
    std::set<Daemon> started_;
    bool cluster_ready_ = false;
    Clock::time_point last_heartbeat_{};
};

// Checks on the leader that an image follows the contract (singularity/README.md) before
// anything starts. Returns the problem, or "".
std::string image_problem(const RuntimeSettings& settings, bool hdfs) {
    if (settings.kind == RuntimeChoice::None) return "";
    std::vector<std::pair<std::string, std::string>> checks{{settings.spark_image, "spark"}};
    if (hdfs) checks.emplace_back(settings.hadoop_image, "hadoop");
    for (const auto& [image, what] : checks) {
        std::vector<std::string> argv;
        if (settings.sudo) argv = {"sudo", "-n"};
        // A fixed script, no user input in it: the image's own variables decide.
        argv.insert(
            argv.end(),
            {settings.executable, "--silent", "exec", "--cleanenv", image, "/bin/sh", "-c",
             what == "spark" ? "command -v java >/dev/null || echo 'no java on PATH'; "
                               "test -x \"$SPARK_HOME/bin/spark-class\" || echo \"SPARK_HOME "
                               "('$SPARK_HOME') has no bin/spark-class\""
                             : "command -v java >/dev/null || echo 'no java on PATH'; "
                               "test -x \"$HADOOP_HOME/bin/hdfs\" || echo \"HADOOP_HOME "
                               "('$HADOOP_HOME') has no bin/hdfs\""});
        std::map<std::string, std::string> environment;
        for (const char* name : {"PATH", "HOME", "USER", "LANG"}) {
            if (auto it = settings.inherited.find(name); it != settings.inherited.end())
                environment[name] = it->second;
        }
        const std::string prefix =
            settings.kind == RuntimeChoice::Singularity ? "SINGULARITYENV_" : "APPTAINERENV_";
        if (!settings.spark_home.empty()) environment[prefix + "SPARK_HOME"] = settings.spark_home;
        if (!settings.hadoop_home.empty())
            environment[prefix + "HADOOP_HOME"] = settings.hadoop_home;
        auto output =
            fs::temp_directory_path() / fmt::format("spark-slurm-image-check-{}", ::getpid());
        int status = -1;
        {
            Process check =
                Process::spawn({argv, environment, "", output.string(), false}, "image check");
            auto deadline = Clock::now() + 120s;
            while (!check.exited() && Clock::now() < deadline) {
                reap_children();
                std::this_thread::sleep_for(20ms);
            }
            if (auto exited = check.exit_status()) status = *exited;
        }
        std::string text = tail_of_file(output.string(), 5);
        std::error_code error;
        fs::remove(output, error);
        if (status != 0 || text.find_first_not_of(" \n") != std::string::npos) {
            return fmt::format(
                "spark-slurm run: the image {} does not provide {}: {}; see singularity/README.md "
                "for what an image needs",
                image, what,
                text.empty() ? describe_wait_status(status) : text.substr(4, text.find('\n') - 4));
        }
    }
    return "";
}

// A state dir serves one job at a time. The owner file names the job using it; it is taken over
// when that job is this one (a requeued run) or no longer active (an unclean end), so no stale
// marker ever blocks a restart.
void claim_state_dir(const SlurmLibrary& slurm, const std::string& state_dir,
                     std::uint32_t job_id) {
    std::error_code error;
    fs::create_directories(state_dir, error);
    if (error) {
        throw UsageError("spark-slurm run: cannot create the state directory " + state_dir + ": " +
                         error.message() +
                         "; give --state-dir a writable directory on a shared filesystem");
    }
    const fs::path owner_file = fs::path(state_dir) / "owner";
    std::ifstream owner(owner_file);
    std::string word;
    std::uint32_t owner_job = 0;
    if (owner >> word >> owner_job && word == "job" && owner_job != job_id &&
        job_is_active(slurm, owner_job)) {
        throw UsageError(fmt::format(
            "spark-slurm run: the state directory {} is in use by job {}, which is still "
            "active; wait for it to end, or give this job another --state-dir",
            state_dir, owner_job));
    }
    std::ofstream(owner_file, std::ios::trunc) << "job " << job_id << "\n";
}

}  // namespace

int run_command(const Options& options, const Environment& environment, int* argc, char*** argv) {
    // Problems the user can fix are found before MPI, so every rank fails the same way at once.
    RuntimeSettings runtime_settings = resolve_runtime(options, environment);
    SlurmLibrary slurm;
    Allocation allocation = read_allocation(environment);

    NodeReport mine = report_for_rendezvous(options, environment);

    become_supervisor();
    MpiSession mpi(argc, argv);
    assign_rank_for_rendezvous(mine, options, allocation.job_id, mpi.rank(), environment);
    if (mpi.rank() == 0 && mine.problem.empty())
        mine.problem = image_problem(runtime_settings, options.hdfs);
    log::set_origin(fmt::format("spark-slurm[{} {}]", mpi.rank(), mine.hostname));
    if (mpi.rank() == 0)
        log::info("job {}: rendezvous of {} rank(s)", allocation.job_id, mpi.size());
    auto rendezvous_start = Clock::now();

    Plan plan = rendezvous(
        mpi, mine,
        [&](std::vector<NodeReport> reports) {
            Plan plan =
                plan_on_leader(options, allocation, job_is_requeueable(slurm, allocation.job_id),
                               std::move(reports));
            if (options.state_dir) claim_state_dir(slurm, *options.state_dir, allocation.job_id);
            return plan;
        },
        std::chrono::seconds(options.ready_timeout_seconds));
    const NodePlan& node = plan.nodes.at(mine.rank);
    if (mine.rank == 0) log::info("rendezvous done in {:.2f} s", seconds_since(rendezvous_start));
    if (node.role == Role::Idle) {
        log::info("not needed by this cluster (--workers {}); exiting", plan.worker_count);
        return 0;
    }

    WorkDirectory work_directory(node.work_dir);
    prepare_node(plan, node);
    auto runtime = make_runtime(runtime_settings);
    if (node.runs_leader()) return Leader(plan, *runtime, options, slurm, allocation).run();
    return Worker(plan, node, *runtime, slurm).run();
}

}  // namespace spark_slurm
