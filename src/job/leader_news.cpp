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

}  // namespace

// `spark-slurm down` sends SIGUSR2 to the step; SIGUSR1 is what sites use for the walltime
// warning (sbatch --signal=USR1@120). A held cluster stops cleanly on either.
void Leader::on_signal(int signal) {
    if ((signal == SIGUSR1 || signal == SIGUSR2) && plan_.interactive && !terminated_ &&
        !stopping()) {
        // Asked again while the namespace is being saved: the stop is under way already, and
        // cutting the save short would lose what the cluster wrote.
        if (work_finished_) {
            log::info("received {}; the cluster is already stopping (saving HDFS)",
                      ::strsignal(signal));
            return;
        }
        const std::string why = fmt::format(
            "received {} (spark-slurm down, or the walltime warning)", ::strsignal(signal));
        events_.write("signal", {{"signal", signal}, {"phase", to_string(phase_)}});
        if (phase_ == Phase::Holding) return finish_holding(why);
        // Not ready yet: there is nothing to save, and no reason to requeue.
        log::info("{}; stopping the cluster", why);
        work_finished_ = true;
        return begin_stopping(0, false);
    }
    if (!is_termination(signal) || terminated_ || phase_ == Phase::Done) return;
    terminated_ = true;
    log::info("received {}; stopping the cluster", ::strsignal(signal));
    events_.write("signal", {{"signal", signal}, {"phase", to_string(phase_)}});
    if (work_finished_) {
        // The driver has finished, or the held cluster was asked to stop: that result stands,
        // and the job is not requeued.
        if (!stopping()) begin_stopping(work_exit_code_, false);
        return;
    }
    // Slurm signals every step of the job at once: a worker may have exited already, and the
    // leader be stopping for that, when its own SIGTERM is read. It is still a termination.
    requeue_if_needed(slurm_, RequeueCause::LeaderSignalled, plan_.job_id, plan_.restart_count,
                      plan_.requeueable, plan_.state_dir);
    if (!stopping()) return begin_stopping(128 + signal, false);
    exit_code_ = 128 + signal;
    late_workers_until_ = Clock::now();
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
        case WorkerNews::Kind::DaemonExited: {
            if (stopping()) return;
            events_.write("daemon_exited",
                          {{"daemon", news.daemon}, {"node", host}, {"status", news.status}});
            std::string what = fmt::format("the {} on {} stopped ({}); last lines of its log:\n{}",
                                           news.daemon, host, news.status, news.text);
            if (!ready_) return fail(what);
            log::warn("{}; the cluster goes on without it", what);
            return;
        }
        case WorkerNews::Kind::StartFailed:
            if (!ready_) fail(fmt::format("on {}: {}", host, news.text));
            return;
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
            if (ready_) return on_worker_lost(fmt::format("{} ({})", host, news.text), what);
            // Slurm signals every step at once: a worker that exited may have had its SIGTERM a
            // moment before this launcher. Wait that moment, so a termination is told as one.
            if (!worker_lost_) worker_lost_ = {what, Clock::now() + kSignalSettle};
            return;
        }
    }
}

// A ready cluster goes on without a lost node while it has --min-workers; with fewer, a driver
// would wait for executors that never come: the job stops, naming the nodes it lost.
void Leader::on_worker_lost(const std::string& node, const std::string& what) {
    lost_workers_.push_back(node);
    const unsigned left = links_.live_count();
    if (left >= plan_.min_workers) {
        return log::warn("{}; the cluster goes on without that node ({} worker(s) left)", what,
                         left);
    }
    fail(fmt::format("{} worker(s) left, fewer than --min-workers {}; lost: {}", left,
                     plan_.min_workers, fmt::join(lost_workers_, ", ")));
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
            const bool leader_daemon = event.spec.daemon == Daemon::SparkMaster ||
                                       event.spec.daemon == Daemon::Namenode ||
                                       event.spec.daemon == Daemon::Kdc;
            std::string what = exit_message(node_.hostname, event.spec, event.status);
            // Without its master or namenode the cluster cannot go on, nor start without the
            // Connect server it was asked for.
            const bool starting_connect = phase_ == Phase::StartingConnect;
            if (!ready_ || leader_daemon || starting_connect) {
                return fail(
                    what + (ready_ ? fmt::format("gave up after {} restarts", event.attempt) : ""));
            }
            log::warn("{}; the cluster goes on without it", what);
            return;
        }
    }
}

}  // namespace spark_slurm
