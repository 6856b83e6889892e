// The leader's work once the cluster is ready: Spark Connect and its TLS gateway (with `up` or
// `run --connect`), publishing the cluster (record, comment, banner), then the driver (`run`)
// or holding the cluster until it is asked to stop or the time limit nears (`up`).
#include <fmt/format.h>

#include <ctime>
#include <filesystem>

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
    if (now - last_probe_ < kProbeInterval) return;
    last_probe_ = now;
    if (accepts_connections("127.0.0.1", node_.ports.connect_server, 200ms) &&
        accepts_connections(node_.address, node_.ports.connect_gateway, 200ms)) {
        on_connect_ready();
    }
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
    if (plan_.interactive) {
        enter(Phase::Holding);
        events_.write("holding");
        schedule_walltime_stop();
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

// Slurm kills the job at its time limit; a held cluster stops --stop-before-end ahead of it, so
// that HDFS is saved and every daemon stops on its own terms. The limit is read again when the
// moment comes: it may have been extended (scontrol update TimeLimit=...).
void Leader::schedule_walltime_stop() {
    stop_at_set_ = false;
    auto status = load_job_status(slurm_, plan_.job_id);
    if (!status || status->end_time <= 0) return;
    const std::int64_t left = status->end_time - static_cast<std::int64_t>(std::time(nullptr));
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
    if (!stop_at_set_ || Clock::now() < stop_at_) return;
    const auto previous = stop_at_;
    schedule_walltime_stop();
    if (stop_at_set_ && stop_at_ > previous + 5s) return;  // the limit was extended
    finish_holding(fmt::format("the job's time limit is {} s away (--stop-before-end)",
                               plan_.stop_before_end_seconds));
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
