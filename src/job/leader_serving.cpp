// The leader's work once the cluster is ready: Spark Connect and its TLS gateway (with `up` or
// `run --connect`), publishing the cluster (record, comment, banner), then the driver (`run`)
// or holding the cluster until it is asked to stop or the time limit nears (`up`).
#include <fmt/format.h>

#include <ctime>
#include <filesystem>
#include <memory>

#include "common/errors.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "job/driver.hpp"
#include "job/leader.hpp"
#include "network/network.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kProbeInterval = 250ms;
// slurmctld answers in milliseconds; past this it is having a bad minute, and the leader goes on
// without the answer.
constexpr auto kSlurmCallLimit = std::chrono::milliseconds(30s);
// A held cluster whose time limit slurmctld did not tell asks again this often.
constexpr auto kEndTimeRetry = 60s;
// A comment slurmctld did not take is offered again this often.
constexpr auto kCommentRetry = 10s;

// The gateway is this program: a hidden command of the same executable.
std::string own_executable() {
    auto path = own_executable_path();
    if (!path) throw LaunchError("cannot find the spark-slurm executable (/proc/self/exe)");
    return *path;
}

}  // namespace

void Leader::step_starting_connect() {
    const auto now = Clock::now();
    if (now - connect_started_ >= std::chrono::seconds(plan_.ready_timeout_seconds)) {
        return fail(fmt::format(
            "the Spark Connect server did not answer within --ready-timeout ({} s); see "
            "its log {}",
            plan_.ready_timeout_seconds, log_path(plan_, node_, file_name(Daemon::ConnectServer))));
    }
    if (gateway_ && gateway_->exited()) {
        return fail("the Spark Connect gateway stopped (" +
                    describe_wait_status(*gateway_->exit_status()) + "); see " +
                    log_path(plan_, node_, "connect-gateway"));
    }
    // The probes of the server and the gateway started last time: both accepted, or try again.
    if (connect_probes_) {
        const auto server = connect_probes_->first.result();
        const auto gateway = connect_probes_->second.result();
        if (!server || !gateway) return;
        connect_probes_.reset();
        if (*server && *gateway) return on_connect_ready();
    }
    if (now - last_probe_ < kProbeInterval) return;
    last_probe_ = now;
    // The gateway hands the owner's decrypted session, token included, to whatever listens on
    // the backend port: it must be this job's server, not another user's process that took the
    // port first (its name is visible to all in /proc/net/unix). Checked before any connection.
    if (!port_is_ours(kLoopbackAddress, node_.ports.connect_server, "the Spark Connect server"))
        return;
    connect_probes_.emplace(ConnectionProbe("127.0.0.1", node_.ports.connect_server, 1s),
                            ConnectionProbe(node_.address, node_.ports.connect_gateway, 1s));
}

void Leader::start_connect() {
    try {
        const GatewayFiles files = publication_.prepare_connect();
        daemons_.start(daemon_spec(plan_, node_, Daemon::ConnectServer));
        const std::vector<std::string> argv{
            own_executable(), "connect-gateway",
            "--listen",       fmt::format("{}:{}", node_.address, node_.ports.connect_gateway),
            "--backend-port", std::to_string(node_.ports.connect_server),
            "--cert",         files.certificate,
            "--key",          files.private_key};
        gateway_ = Process::spawn({argv,
                                   {{"PATH", "/usr/bin:/bin"}},
                                   node_.work_dir,
                                   log_path(plan_, node_, "connect-gateway"),
                                   false},
                                  "connect gateway");
    } catch (const LaunchError& error) {
        ready_ = false;  // nothing ran: a failed start, not a failed run
        return fail(error.what());
    }
    connect_started_ = Clock::now();
    enter(Phase::StartingConnect);
}

void Leader::on_connect_ready() {
    const double seconds = std::chrono::duration<double>(Clock::now() - connect_started_).count();
    log::info("spark connect ready in {:.1f} s at {}", seconds, plan_.connect_url);
    events_.write("connect_ready", {{"seconds", seconds}, {"connect_url", plan_.connect_url}});
    on_serving();
}

void Leader::on_serving() {
    try {
        publication_.publish();
    } catch (const LaunchError& error) {
        // Without its record an interactive cluster cannot be found; a driver does not need it.
        if (plan_.interactive) {
            ready_ = false;
            return fail(error.what());
        }
        log::warn("{}; spark-slurm env/status will not find this cluster", error.what());
    }
    // Both through slurmctld, off the loop: a stalled controller delays them, never the driver.
    set_comment();
    const bool holding = plan_.interactive;
    next_end_time_ask_ = Clock::now() + kEndTimeRetry;
    ask_end_time([this, holding](std::optional<std::int64_t> end_time) {
        if (end_time) publication_.set_end_time(*end_time);
        if (holding && phase_ == Phase::Holding) schedule_walltime_stop(end_time);
    });
    if (plan_.interactive) {
        enter(Phase::Holding);
        events_.write("holding");
        return;
    }
    try {
        driver_ = start_driver(plan_, driver_command_, runtime_);
    } catch (const LaunchError& error) {
        ready_ = false;  // nothing ran: a failed start, not a failed run
        return fail(error.what());
    }
    enter(Phase::DriverRunning);
    events_.write("driver_started");
}

// The cluster's addresses in the job's comment (squeue -o %k). A controller that failed the call
// (a timeout in a stall) is asked again every kCommentRetry while the cluster serves.
void Leader::set_comment() {
    comment_state_ = CommentState::InFlight;
    slurm_calls_.submit(
        "setting the job's comment",
        [&slurm = slurm_, job = plan_.job_id, comment = cluster_comment(plan_)] {
            set_job_comment(slurm, job, comment);
        },
        kSlurmCallLimit,
        [this](const std::optional<std::string>& error) {
            if (!error) {
                if (comment_retried_) log::info("the job's comment is set (squeue -o %k)");
                comment_state_ = CommentState::Set;
                return;
            }
            log::warn(
                "{}; squeue -o %k will not show the cluster's addresses until slurmctld "
                "takes it (asking again in {} s)",
                *error, std::chrono::duration_cast<std::chrono::seconds>(kCommentRetry).count());
            comment_state_ = CommentState::Failed;
            next_comment_try_ = Clock::now() + kCommentRetry;
        });
}

void Leader::retry_comment_when_due() {
    if (comment_state_ != CommentState::Failed || Clock::now() < next_comment_try_) return;
    comment_retried_ = true;
    set_comment();
}

void Leader::ask_end_time(std::function<void(std::optional<std::int64_t>)> then) {
    asking_end_time_ = true;
    auto status = std::make_shared<std::optional<JobStatus>>();
    slurm_calls_.submit(
        "reading the job's time limit",
        [&slurm = slurm_, job = plan_.job_id, status] { *status = load_job_status(slurm, job); },
        kSlurmCallLimit,
        [this, status, then = std::move(then)](const std::optional<std::string>& error) {
            asking_end_time_ = false;
            if (error) log::warn("{}", *error);
            if (error || !*status || (*status)->end_time <= 0) return then(std::nullopt);
            then((*status)->end_time);
        });
}

// Slurm kills the job at its time limit; a held cluster stops --stop-before-end ahead of it, so
// that HDFS is saved and every daemon stops on its own terms. The limit is read again when the
// moment comes: it may have been extended (scontrol update TimeLimit=...).
void Leader::schedule_walltime_stop(std::optional<std::int64_t> end_time) {
    stop_at_set_ = false;
    if (!end_time) return;
    const std::int64_t left = *end_time - static_cast<std::int64_t>(std::time(nullptr));
    std::int64_t until_stop = left - plan_.stop_before_end_seconds;
    if (until_stop < 0) {
        log::warn(
            "the job's time limit is {} s away, less than --stop-before-end {}: the cluster stops "
            "10 s before it",
            left, plan_.stop_before_end_seconds);
        until_stop = std::max<std::int64_t>(0, left - 10);
    }
    stop_at_ = Clock::now() + std::chrono::seconds(until_stop);
    stop_at_set_ = true;
    log::info("holding the cluster; it stops by itself {} s before the job's time limit, in {} s",
              plan_.stop_before_end_seconds, until_stop);
}

void Leader::step_holding() {
    const auto now = Clock::now();
    if (asking_end_time_) return;
    if (!stop_at_set_) {
        // slurmctld has not told the time limit (it was slow, or the job has none): ask again
        // now and then.
        if (now < next_end_time_ask_) return;
        next_end_time_ask_ = now + kEndTimeRetry;
        return ask_end_time([this](std::optional<std::int64_t> end_time) {
            if (phase_ == Phase::Holding) schedule_walltime_stop(end_time);
        });
    }
    if (now < stop_at_) return;
    const auto previous = stop_at_;
    // When slurmctld does not answer now, the limit stands: stop while there is time to save.
    ask_end_time([this, previous](std::optional<std::int64_t> end_time) {
        if (phase_ != Phase::Holding) return;
        schedule_walltime_stop(end_time);
        if (stop_at_set_ && stop_at_ > previous + 5s) return;  // the limit was extended
        finish_holding(fmt::format("the job's time limit is {} s away (--stop-before-end)",
                                   plan_.stop_before_end_seconds));
    });
}

void Leader::finish_holding(const std::string& why) {
    log::info("{}; stopping the cluster", why);
    events_.write("stop_requested", {{"reason", why}});
    // From here a SIGTERM does not requeue: the cluster was asked to end.
    work_finished_ = true;
    work_exit_code_ = 0;
    after_work();
}

}  // namespace spark_slurm
