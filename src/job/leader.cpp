#include "job/leader.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "cds/cds.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/open_files.hpp"
#include "job/driver.hpp"
#include "network/network.hpp"
#include "plan/scaling.hpp"
#include "probes/probes.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long a failing leader waits for workers that have not said hello yet, to tell them to stop.
constexpr auto kLateWorkerGrace = 5s;
// How long the leader waits for workers to confirm their teardown: a worker's daemons may be
// writing their class archives in an image.
constexpr auto kWorkerStopLimit =
    std::max<std::chrono::seconds>(kDaemonStopGrace, kCdsImageDumpGrace) + 5s;
constexpr auto kProbeInterval = 250ms;
// Slurm signals every process of the step at once: a driver killed by it may be reaped a moment
// before the launcher's own SIGTERM is read. Look this long before deciding it just ended.
constexpr auto kDriverExitSettle = 100ms;
// Exceptions while stopping before the leader gives up stopping in order.
constexpr unsigned kStoppingErrorLimit = 3;
// How long the job's last comment may take at teardown (slurmctld may be stalled).
constexpr auto kWithdrawLimit = std::chrono::milliseconds(10s);

}  // namespace

LeaderState Leader::state() const {
    return {phase_, plan_.interactive, ready_, work_finished_, terminated_};
}

Leader::Leader(const Plan& plan, const Runtime& runtime, std::vector<std::string> driver_command,
               const SlurmLibrary& slurm, ControlServer server, EventLog& events,
               PublicationFacts publication, std::chrono::steady_clock::time_point start)
    : plan_(plan),
      node_(plan.leader()),
      runtime_(runtime),
      driver_command_(std::move(driver_command)),
      slurm_(slurm),
      events_(events),
      start_(start),
      deadline_(start + std::chrono::seconds(plan.ready_timeout_seconds)),
      links_(plan, std::move(server), events),
      daemons_(runtime),
      readiness_(plan, events, start),
      publication_(plan, std::move(publication)),
      slurm_calls_(slurm) {}

double Leader::elapsed() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
}

int Leader::run() {
    log::info("cluster of {} worker(s); daemon logs in {}", plan_.worker_count, plan_.log_dir);
    // A control connection per worker and more (plan/scaling.hpp), before any is accepted.
    if (auto warning = raise_open_files_limit(scaling_keys(plan_).leader_open_files))
        log::warn("{}", *warning);
    if (!plan_.requeueable) {
        log::warn(
            "job {} cannot be requeued (no --requeue): if its leader node is preempted or lost, "
            "the job fails instead of coming back; submit with --requeue to allow that",
            plan_.job_id);
    }
    if (plan_.hdfs && !plan_.kerberos) {
        log::warn(
            "HDFS runs without authentication (--hdfs-auth none): any user who can reach {} can "
            "read, write and delete this job's files by claiming to be {}; see docs/security.md",
            plan_.hdfs_url, plan_.user);
    }
    try {
        load_http_client();
        // The master does not depend on HDFS: it boots while the namespace is formatted.
        start_local(Daemon::SparkMaster);
        if (plan_.kerberos) {
            // The HDFS daemons log in to the job's realm when they start: its KDC comes first.
            daemons_.start(daemon_spec(plan_, node_, Daemon::Kdc));
            enter(Phase::StartingKdc);
        }
        start_namespace();
    } catch (const LaunchError& error) {
        fail(error.what());
    }
    while (phase_ != Phase::Done) {
        try {
            service(100ms);
            step();
        } catch (const std::exception& error) {
            on_loop_error(error.what());
        }
    }
    events_.write("exit", {{"code", exit_code_}});
    return exit_code_;
}

// A surprise (an answer of a daemon's that does not parse, a file that cannot be written) is a
// failed job that says what happened — never a leader that stops answering, which its workers
// would take for a lost node and requeue the job.
void Leader::on_loop_error(const std::string& what) {
    if (phase_ != Phase::Stopping) return fail("unexpected error: " + what);
    // Stopping is the way out: if it cannot make progress, end without the rest of it (the
    // daemons' processes are killed with the leader).
    log::warn("unexpected error while stopping: {}", what);
    if (++loop_errors_ >= kStoppingErrorLimit) {
        events_.write("stopped", {{"seconds", 0}, {"error", what}});
        if (exit_code_ == 0) exit_code_ = kExitFailure;
        phase_ = Phase::Done;
    }
}

void Leader::enter(Phase phase) {
    phase_ = phase;
    events_.write("phase", {{"phase", to_string(phase)}});
}

void Leader::service(std::chrono::milliseconds timeout) {
    std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}, {slurm_calls_.fd(), POLLIN, 0}};
    links_.add_poll_fds(fds);
    // The HTTP probes in flight wake the loop too: their answers, or libcurl's timer.
    readiness_.add_poll_fds(fds);
    auto wait = readiness_.poll_timeout(timeout);
    // A Slurm call past its deadline is told then, not at the next turn.
    if (auto deadline = slurm_calls_.next_deadline()) {
        wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()),
                          std::chrono::milliseconds(0), wait);
    }
    ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));

    while (int signal = signals_.read_signal()) on_signal(signal);
    reap_children();
    for (const auto& news : links_.service(!stopping())) on_news(news);
    for (const auto& event : daemons_.poll(ready_ && !stopping())) on_daemon_event(event);
    links_.heartbeat();
    slurm_calls_.collect();
    readiness_.receive_answers();
}

void Leader::step() {
    const auto now = Clock::now();
    if (helpers_ && !stopping()) {
        if (auto outcome = helpers_->poll()) on_helpers_done(*outcome);
    }
    if (namenode_reports_ && !ready_ && !stopping()) namenode_reports_->poll();
    if (worker_lost_ && now >= worker_lost_->second && !stopping())
        return fail(worker_lost_->first);
    switch (phase_) {
        case Phase::StartingKdc:
        case Phase::FormattingNamespace:
        case Phase::StartingDaemons:
        case Phase::WaitingForWorkers:
            if (now >= deadline_) {
                if (phase_ == Phase::StartingKdc) {
                    fail(
                        fmt::format("the Kerberos KDC was not ready within --ready-timeout; see "
                                    "its log {}",
                                    log_path(plan_, node_, file_name(Daemon::Kdc))));
                } else if (phase_ == Phase::FormattingNamespace) {
                    fail("formatting the namenode did not finish within --ready-timeout");
                } else {
                    fail(readiness_.timeout_message(
                        [this](unsigned rank) { return links_.admitted(rank); }));
                }
                return;
            }
            // The probes' answers are read every turn; the daemons are asked again only at the
            // probe interval, after the checks below.
            if (now - last_probe_ < kProbeInterval) return decide_readiness(false);
            last_probe_ = now;
            // The token needs a namenode out of safe mode only (it refuses to issue one
            // before): fetched while workers and datanodes start, it is off the path to the
            // driver. A namespace with blocks (--state-dir) leaves safe mode with its datanodes.
            if (token_ == Token::NotStarted && namenode_reports_ && namenode_reports_->latest() &&
                !namenode_reports_->latest()->in_safe_mode())
                start_token_fetch();
            if (phase_ == Phase::StartingKdc) probe_kdc();
            // The master's answers (and the UI token with the question) go to its web UI on
            // this node: to this job's master, not another user's process that took the port
            // first.
            if (!port_is_ours(web_ui_address(plan_.wire_encryption, node_.address),
                              node_.ports.spark_master_webui, "the Spark master's web UI"))
                return;
            return decide_readiness(true);
        case Phase::StartingConnect:
            return step_starting_connect();
        case Phase::Holding:
            retry_comment_when_due();
            step_holding();
            return;
        case Phase::DriverRunning:
            retry_comment_when_due();
            if (auto status = driver_->exit_status()) {
                if (!driver_exit_seen_) driver_exit_seen_ = now;
                if (now - *driver_exit_seen_ >= kDriverExitSettle) on_driver_exit(*status);
            }
            return;
        case Phase::FetchingToken:
        case Phase::SavingNamespace:
            return;  // on_helpers_done moves on
        case Phase::Stopping:
            step_stopping();
            return;
        case Phase::Done:
            return;
    }
}

void Leader::fail(const std::string& message) {
    if (stopping()) return;
    const bool driver_running = phase_ == Phase::DriverRunning;
    log::write_line(log::origin() + ": error: " + message +
                    (driver_running ? "; stopping the driver" : ""));
    events_.write("failed", {{"phase", to_string(phase_)}});
    // A start can fail before every worker has connected (a daemon that dies at once): give them
    // a moment to say hello, so that they hear the stop instead of waiting to connect.
    begin_stopping(kExitFailure, !ready_);
}

void Leader::begin_stopping(int code, bool wait_for_late_workers) {
    exit_code_ = code;
    enter(Phase::Stopping);
    late_workers_until_ = Clock::now() + (wait_for_late_workers ? kLateWorkerGrace : 0s);
}

void Leader::step_stopping() {
    const auto now = Clock::now();
    if (!stop_sent_) {
        if (now < late_workers_until_ && links_.admitted_count() < expected_workers()) return;
        stop_sent_ = true;
        stop_started_ = now;
        links_.broadcast(control::Stop{});
        daemons_.request_stop(terminated_);
        if (driver_ && !driver_->exited()) driver_->request_stop(kDaemonStopGrace);
        if (helpers_) helpers_->request_stop();
        if (namenode_reports_) namenode_reports_->request_stop();
        if (gateway_ && !gateway_->exited()) gateway_->request_stop(kDaemonStopGrace);
        return;
    }
    // Workers stop theirs in parallel; wait for each to confirm, or to be gone, with a bound.
    bool local_gone = daemons_.stopped();
    if (driver_) local_gone = driver_->gone() && local_gone;
    if (helpers_) local_gone = helpers_->gone() && local_gone;
    if (namenode_reports_) local_gone = namenode_reports_->gone() && local_gone;
    if (gateway_) local_gone = gateway_->gone() && local_gone;
    if (withdrawn_) return finish_stopping();
    const unsigned outstanding = links_.awaiting_stop();
    if (!local_gone || (outstanding > 0 && now < stop_started_ + kWorkerStopLimit)) return;
    if (outstanding > 0)
        log::warn("{} worker(s) did not confirm their teardown in time", outstanding);
    const double seconds = std::chrono::duration<double>(now - stop_started_).count();
    {
        // The realm died with its KDC: its keytabs and token are of no use to anyone now; nor
        // are the job's secret and Connect token the ranks read at the rendezvous (they sit in
        // the same directory, with or without Kerberos).
        std::error_code error;
        std::filesystem::remove_all(kerberos_names(plan_).dir, error);
    }
    log::info("cluster stopped in {:.1f} s", seconds);
    events_.write("stopped", {{"seconds", seconds}});
    finish_stopping();
}

// The record goes at once; the job's comment through slurmctld, which gets a bounded time.
void Leader::finish_stopping() {
    if (!withdrawn_) {
        withdrawn_ = true;
        if (publication_.withdraw()) {
            slurm_calls_.submit(
                "changing the job's comment",
                [&slurm = slurm_, job = plan_.job_id] {
                    set_job_comment(slurm, job, kStoppedClusterComment);
                },
                kWithdrawLimit,
                [](const std::optional<std::string>&) {
                    // The job may be ending already: nothing to tell.
                });
        }
    }
    if (slurm_calls_.pending() == 0) phase_ = Phase::Done;
}

bool Leader::port_is_ours(const std::string& address, std::uint16_t port, const char* handed_to) {
    auto stranger = foreign_listener(address, port);
    if (!stranger) return true;
    fail(fmt::format(
        "port {} on {}, handed to {}, is held by another user's process (uid {}); nothing was "
        "sent to it. Resubmit the job (it will get other ports) and tell the site's "
        "administrators",
        port, address == kLoopbackAddress ? "this node's loopback" : address, handed_to,
        *stranger));
    return false;
}

void Leader::start_local(Daemon daemon) {
    for (const auto& spec : daemons_for(plan_, node_)) {
        if (spec.daemon == daemon) daemons_.start(spec);
    }
}

// From the probes' answers read this turn; `ask_now` at the probe interval, once the master's
// port was found to be the job's own.
void Leader::decide_readiness(bool ask_now) {
    if (!readiness_.leader_daemons_up()) {
        if (readiness_.probe_leader_daemons(ask_now)) on_master_up();
        if (readiness_.leader_daemons_up() && phase_ == Phase::StartingDaemons)
            enter(Phase::WaitingForWorkers);
    } else if (phase_ == Phase::WaitingForWorkers && readiness_.probe_cluster(ask_now)) {
        on_ready();
    }
}

void Leader::on_master_up() {
    // A Spark worker that finds no master retries only 5-15 s later: start the workers when the
    // master answers, not before.
    try {
        start_local(Daemon::SparkWorker);
    } catch (const LaunchError& error) {
        return fail(error.what());
    }
    for (unsigned rank : links_.admitted_ranks()) links_.start_daemon(rank, Daemon::SparkWorker);
}

void Leader::on_ready() {
    ready_ = true;
    if (namenode_reports_) namenode_reports_->request_stop();
    links_.broadcast(control::ClusterReady{});
    log::info("cluster ready in {:.1f} s: {} worker(s) x {} cores, {} MiB", elapsed(),
              plan_.worker_count, plan_.worker_cores, plan_.worker_memory >> 20);
    log::info("spark master {}  web UI {} ({})", plan_.master_url, plan_.master_webui_url,
              ui_reverse_proxy(plan_.wire_encryption)
                  ? "the door to every Spark UI of the job; 'spark-slurm ui' logs you in"
                  : "on this node only");
    if (plan_.hdfs) log::info("hdfs {}  web UI {}", plan_.hdfs_url, plan_.namenode_webui_url);
    events_.write("ready", {{"seconds", elapsed()},
                            {"workers", plan_.worker_count},
                            {"cores", plan_.worker_cores},
                            {"memory_mib", plan_.worker_memory >> 20},
                            {"master_url", plan_.master_url},
                            {"master_webui_url", plan_.master_webui_url},
                            {"hdfs_url", plan_.hdfs_url},
                            {"namenode_webui_url", plan_.namenode_webui_url}});
    if (plan_.kerberos && token_ != Token::Fetched) {
        if (token_ == Token::NotStarted) start_token_fetch();
        return enter(Phase::FetchingToken);
    }
    continue_when_ready();
}

void Leader::continue_when_ready() {
    if (plan_.connect) return start_connect();
    on_serving();
}

void Leader::on_driver_exit(int status) {
    work_finished_ = true;
    work_exit_code_ = exit_code_of(status);
    log::info("driver finished ({})", describe_wait_status(status));
    events_.write("driver_exited",
                  {{"status", describe_wait_status(status)}, {"code", work_exit_code_}});
    after_work();
}

void Leader::after_work() {
    if (!plan_.hdfs || plan_.state_dir.empty()) return begin_stopping(work_exit_code_, false);
    save_namespace();
}

// Every helper command is a step of HDFS's start or end (leader_hdfs.cpp), one at a time: the
// token fetch and the format run alongside other phases, so what runs decides, then the phase.
void Leader::on_helpers_done(const HelperSteps::Outcome& outcome) {
    if (token_ == Token::Fetching) return on_token_fetched(outcome);
    if (formatting_) return on_namespace_formatted(outcome);
    switch (phase_) {
        case Phase::SavingNamespace:
            return on_namespace_saved(outcome);
        default:
            return;
    }
}

unsigned Leader::expected_workers() const {
    unsigned count = 0;
    for (const auto& node : plan_.nodes) count += node.rank != 0 && node.role != Role::Idle;
    return count;
}

}  // namespace spark_slurm
