// What the leader hears while it runs: signals (Slurm's SIGTERM, `spark-slurm down`'s SIGUSR2,
// the walltime warning), news from its workers (joined, silent, back, lost, their daemons'
// exits) and its own daemons' exits and restarts — and what each means in the phase it comes in.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "common/log.hpp"
#include "job/leader.hpp"
#include "job/requeue_policy.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Slurm signals every step at once: a worker that goes away before the cluster is ready may have
// had its SIGTERM a moment before this launcher. Look this long before calling it a failure.
constexpr auto kSignalSettle = 500ms;
// How long the requeue decision at a termination may take (see requeue_if_needed_off_the_loop).
constexpr auto kRequeueLimit = std::chrono::milliseconds(15s);

}  // namespace

void Leader::on_signal(int signal) {
    const SignalResponse response = respond_to_signal(state(), signal);
    if (response == SignalResponse::Ignore) return;
    const char* name = ::strsignal(signal);
    if (response == SignalResponse::AlreadySaving)
        return log::info("received {}; the cluster is already stopping (saving HDFS)", name);
    if (is_termination(signal)) terminated_ = true;
    events_.write("signal", {{"signal", signal}, {"phase", to_string(phase_)}});
    const std::string asked =
        fmt::format("received {} (spark-slurm down, or the walltime warning)", name);
    switch (response) {
        case SignalResponse::Ignore:
        case SignalResponse::AlreadySaving:
            return;
        case SignalResponse::FinishHolding:
            return finish_holding(asked);
        case SignalResponse::StopBeforeReady:
            // Not ready yet: there is nothing to save, and no reason to requeue.
            log::info("{}; stopping the cluster", asked);
            work_finished_ = true;
            return begin_stopping(0, false);
        case SignalResponse::StopWithWorkResult:
            log::info("received {}; stopping the cluster", name);
            return begin_stopping(work_exit_code_, false);
        case SignalResponse::NoteTermination:
            return log::info("received {}; the cluster is stopping already", name);
        case SignalResponse::RequeueAndStop:
            log::info("received {}; stopping the cluster", name);
            requeue_if_needed_off_the_loop();
            return begin_stopping(128 + signal, false);
        case SignalResponse::RequeueWhileStopping:
            log::info("received {}; stopping the cluster", name);
            requeue_if_needed_off_the_loop();
            exit_code_ = 128 + signal;
            late_workers_until_ = Clock::now();
            return;
    }
}

// Slurm sends SIGKILL KillWait (30 s by default) after SIGTERM: the requeue decision, which
// asks slurmctld for the job's record, has that long at most; the stop does not wait for it,
// and the leader exits once it is told (or overdue).
void Leader::requeue_if_needed_off_the_loop() {
    slurm_calls_.submit(
        "deciding whether to requeue the job",
        [&slurm = slurm_, job_id = plan_.job_id, restarts = plan_.restart_count,
         requeueable = plan_.requeueable, state_dir = plan_.state_dir] {
            requeue_if_needed(slurm, RequeueCause::LeaderSignalled, job_id, restarts, requeueable,
                              state_dir);
        },
        kRequeueLimit,
        [](const std::optional<std::string>& error) {
            if (error) log::warn("{}; this launcher did not requeue the job", *error);
        });
}

void Leader::on_news(const WorkerNews& news) {
    const std::string& host = plan_.nodes[news.rank].hostname;
    switch (news.kind) {
        case WorkerNews::Kind::Joined:
            if (stopping()) return;
            if (namenode_started_) links_.start_daemon(news.rank, Daemon::Datanode);
            if (readiness_.master_up()) links_.start_daemon(news.rank, Daemon::SparkWorker);
            return;
        case WorkerNews::Kind::DaemonRestarting:
            log::warn("the {} on {} stopped ({}); it is being restarted (attempt {})", news.daemon,
                      host, news.status, news.attempt);
            events_.write("daemon_restart", {{"daemon", news.daemon},
                                             {"node", host},
                                             {"status", news.status},
                                             {"attempt", news.attempt}});
            return;
        case WorkerNews::Kind::DaemonExited:
        case WorkerNews::Kind::StartFailed: {
            const LossResponse response = respond_to_workers_daemon_loss(state());
            if (response == LossResponse::Ignore) return;
            std::string what = fmt::format("on {}: {}", host, news.text);
            if (news.kind == WorkerNews::Kind::DaemonExited) {
                events_.write("daemon_exited",
                              {{"daemon", news.daemon}, {"node", host}, {"status", news.status}});
                what = fmt::format("the {} on {} stopped ({}); last lines of its log:\n{}",
                                   news.daemon, host, news.status, news.text);
            }
            if (response == LossResponse::GoOnWithout)
                return log::warn("{}; the cluster goes on without it", what);
            return fail(what);
        }
        case WorkerNews::Kind::Stopped:
            return;
        case WorkerNews::Kind::Silent:
            if (stopping()) return;
            log::warn(
                "no heartbeat from the launcher on {} (rank {}) for {} s; its connection is up, "
                "so it is waited for (up to {} s)",
                host, news.rank, kPeerSilenceLimit.count(), kWorkerPatience.count());
            events_.write("worker_silent", {{"node", host}, {"rank", news.rank}});
            return;
        case WorkerNews::Kind::Back:
            log::info("the launcher on {} (rank {}) answers again", host, news.rank);
            events_.write("worker_back", {{"node", host}, {"rank", news.rank}});
            return;
        case WorkerNews::Kind::Lost: {
            std::string what =
                fmt::format("the launcher on {} (rank {}) {}", host, news.rank, news.text);
            events_.write("worker_lost", {{"node", host}, {"rank", news.rank}, {"why", news.text}});
            return on_worker_lost(fmt::format("{} ({})", host, news.text), what);
        }
    }
}

// A ready cluster goes on without a lost node while it has --min-workers; with fewer, a driver
// would wait for executors that never come: the job stops, naming the nodes it lost.
void Leader::on_worker_lost(const std::string& node, const std::string& what) {
    const unsigned left = links_.live_count();
    switch (respond_to_worker_loss(state(), left, plan_.min_workers)) {
        case LossResponse::Ignore:
            return;
        case LossResponse::FailTheStart:
            // Slurm signals every step at once: a worker that exited may have had its SIGTERM a
            // moment before this launcher. Wait that moment, so a termination is told as one.
            if (!worker_lost_) worker_lost_ = {what, Clock::now() + kSignalSettle};
            return;
        case LossResponse::GoOnWithout:
            lost_workers_.push_back(node);
            return log::warn("{}; the cluster goes on without that node ({} worker(s) left)", what,
                             left);
        case LossResponse::FailTheJob:
            lost_workers_.push_back(node);
            return fail(fmt::format("{} worker(s) left, fewer than --min-workers {}; lost: {}",
                                    left, plan_.min_workers, fmt::join(lost_workers_, ", ")));
    }
}

void Leader::on_daemon_event(const DaemonEvent& event) {
    if (stopping()) return;
    const char* daemon = file_name(event.spec.daemon);
    switch (event.kind) {
        case DaemonEvent::Kind::RestartScheduled:
            events_.write("daemon_restart", {{"daemon", daemon},
                                             {"node", node_.hostname},
                                             {"status", describe_wait_status(event.status)},
                                             {"attempt", event.attempt}});
            [[fallthrough]];
        case DaemonEvent::Kind::Restarted:
            log_restart(node_.hostname, event);
            return;
        case DaemonEvent::Kind::Stopped: {
            events_.write("daemon_exited", {{"daemon", daemon},
                                            {"node", node_.hostname},
                                            {"status", describe_wait_status(event.status)}});
            std::string what = exit_message(node_.hostname, event.spec, event.status);
            switch (respond_to_own_daemon_loss(state(), event.spec.daemon)) {
                case LossResponse::Ignore:
                    return;
                case LossResponse::FailTheStart:
                    return fail(what);
                case LossResponse::FailTheJob:
                    return fail(what + fmt::format("gave up after {} restarts", event.attempt));
                case LossResponse::GoOnWithout:
                    return log::warn("{}; the cluster goes on without it", what);
            }
            return;
        }
    }
}

}  // namespace spark_slurm
