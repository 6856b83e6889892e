#include "job/node_daemons.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace spark_slurm {

using Clock = std::chrono::steady_clock;

void NodeDaemons::start(const DaemonSpec& spec) {
    if (started(spec.daemon)) return;
    Running running{spec, std::nullopt, 0, {}, false};
    spawn(running);
    daemons_.push_back(std::move(running));
    log::info("started {} (log: {})", display_name(spec.daemon), spec.log_file);
}

bool NodeDaemons::started(Daemon daemon) const {
    for (const auto& running : daemons_) {
        if (running.spec.daemon == daemon) return true;
    }
    return false;
}

std::optional<std::chrono::seconds> daemon_restart_delay(unsigned restarts_so_far,
                                                         bool restart_allowed) {
    if (!restart_allowed || restarts_so_far >= kMaxDaemonRestarts) return std::nullopt;
    return std::chrono::seconds(1u << restarts_so_far);
}

std::vector<DaemonEvent> NodeDaemons::poll(bool restart) {
    std::vector<DaemonEvent> events;
    for (auto& daemon : daemons_) {
        if (daemon.done) continue;
        if (daemon.restart_at) {
            if (Clock::now() < *daemon.restart_at) continue;
            daemon.restart_at.reset();
            try {
                spawn(daemon);
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
        if (const auto delay = daemon_restart_delay(daemon.restarts, restart)) {
            ++daemon.restarts;
            daemon.restart_at = Clock::now() + *delay;
            events.push_back({DaemonEvent::Kind::RestartScheduled, daemon.spec, *status,
                              daemon.restarts, *delay});
        } else {
            daemon.done = true;
            events.push_back(
                {DaemonEvent::Kind::Stopped, daemon.spec, *status, daemon.restarts, {}});
        }
    }
    return events;
}

void NodeDaemons::request_stop(bool job_ending) {
    for (auto& daemon : daemons_) {
        daemon.restart_at.reset();
        if (daemon.process) daemon.process->request_stop(daemon.grace(job_ending));
    }
}

bool NodeDaemons::stopped() {
    bool all = true;
    for (auto& daemon : daemons_) {
        if (daemon.process) all = daemon.process->gone() && all;
    }
    return all;
}

void NodeDaemons::stop_all_daemons(bool job_ending) {
    // In parallel, as stop_all() does, but each with its own grace.
    request_stop(job_ending);
    std::vector<Process*> processes;
    for (auto& daemon : daemons_) {
        if (daemon.process) processes.push_back(&*daemon.process);
    }
    wait_until_gone(processes);
}

void NodeDaemons::spawn(Running& running) {
    Execution execution = runtime_.prepare(running.spec.invocation);
    SpawnRequest request{execution.argv, execution.environment, execution.working_dir,
                         running.spec.log_file, false};
    running.process = Process::spawn(request, display_name(running.spec.daemon));
    running.stop_grace = std::max(kDaemonStopGrace, execution.stop_grace);
    running.writes_at_exit = execution.writes_at_exit;
}

HelperSteps::HelperSteps(const Runtime& runtime, std::vector<DaemonSpec> steps,
                         std::chrono::milliseconds limit_per_step)
    : runtime_(runtime), steps_(std::move(steps)), limit_(limit_per_step) {}

std::optional<HelperSteps::Outcome> HelperSteps::start_next() {
    if (next_ == steps_.size()) {
        finished_ = true;
        return Outcome{true, nullptr, 0};
    }
    const DaemonSpec& spec = steps_[next_++];
    Execution execution = runtime_.prepare(spec.invocation);
    try {
        running_ = Process::spawn(
            {execution.argv, execution.environment, execution.working_dir, spec.log_file, false},
            fmt::format("{} {}", spec.invocation.tool, fmt::join(spec.invocation.args, " ")));
    } catch (const LaunchError&) {
        finished_ = true;
        return Outcome{false, &spec, 127 << 8};
    }
    deadline_ = Clock::now() + limit_;
    return {};
}

std::optional<HelperSteps::Outcome> HelperSteps::poll() {
    if (finished_) return {};
    if (!running_) return start_next();
    const DaemonSpec& spec = steps_[next_ - 1];
    if (auto status = running_->exit_status()) {
        running_.reset();
        if (*status != 0) {
            finished_ = true;
            return Outcome{false, &spec, *status};
        }
        return start_next();
    }
    if (Clock::now() < deadline_) return {};
    finished_ = true;
    running_->request_stop(kDaemonStopGrace);
    return Outcome{false, &spec, std::nullopt};
}

void HelperSteps::request_stop() {
    finished_ = true;
    if (running_) running_->request_stop(kDaemonStopGrace);
}

bool HelperSteps::gone() { return !running_ || running_->gone(); }

std::string exit_message(const std::string& host, const DaemonSpec& spec, int status) {
    return fmt::format("the {} on {} stopped ({}); last lines of {}:\n{}",
                       display_name(spec.daemon), host, describe_wait_status(status), spec.log_file,
                       tail_of_file(spec.log_file, kLogTailLines));
}

void log_restart(const std::string& host, const DaemonEvent& event) {
    if (event.kind == DaemonEvent::Kind::RestartScheduled) {
        log::warn("{}; restarting it in {} s (attempt {} of {})",
                  exit_message(host, event.spec, event.status), event.delay.count(), event.attempt,
                  kMaxDaemonRestarts);
    } else {
        log::info("restarted {} (attempt {})", display_name(event.spec.daemon), event.attempt);
    }
}

}  // namespace spark_slurm
