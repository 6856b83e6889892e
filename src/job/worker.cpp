#include "job/worker.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "job/requeue_policy.hpp"
#include "job/worker_links.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

// Back-off between attempts to join the leader.
constexpr auto kFirstRetry = std::chrono::milliseconds(200);
constexpr auto kLastRetry = std::chrono::milliseconds(5000);
// A leader that has not welcomed this node by then is asked again on a new connection.
constexpr auto kHandshakeLimit = std::chrono::seconds(10);

}  // namespace

Worker::Worker(const Plan& plan, const NodePlan& node, const Runtime& runtime,
               const SlurmLibrary& slurm)
    : plan_(plan), node_(node), slurm_(slurm), daemons_(runtime) {}

int Worker::run() {
    // The leader's port is open from before the rendezvous, so it is reachable at once unless
    // the network is slow or strangers flood it: the worker retries, with back-off, for as long
    // as the leader waits for it.
    const auto join_deadline = Clock::now() + std::chrono::seconds(plan_.ready_timeout_seconds);
    auto backoff = kFirstRetry;
    for (unsigned attempt = 1;; ++attempt) {
        auto connection =
            connect_to_leader(plan_.leader_address, plan_.control_port, join_deadline);
        if (!connection) {
            log::write_line(
                log::origin() +
                fmt::format(": error: could not join the leader at {}:{} within --ready-timeout "
                            "({} s, {} attempt(s)); see the leader's output",
                            plan_.leader_address, plan_.control_port, plan_.ready_timeout_seconds,
                            attempt));
            return kExitFailure;
        }
        leader_ = std::move(*connection);
        nonce_ = control::fresh_nonce();
        leader_nonce_.clear();
        if (auto code = serve()) return *code;
        // The connection ended before the leader welcomed this node: a flood of strangers
        // evicted it, or the leader was busy. Try again.
        if (attempt == 1 || attempt % 10 == 0)
            log::warn("the leader's control port dropped this node's hello (attempt {}); retrying",
                      attempt);
        if (auto code = pause(backoff)) return *code;
        backoff = std::min(backoff * 2, kLastRetry);
    }
}

std::optional<int> Worker::pause(std::chrono::milliseconds how_long) {
    pollfd signals{signals_.fd(), POLLIN, 0};
    ::poll(&signals, 1, static_cast<int>(how_long.count()));
    return take_signals();
}

std::optional<int> Worker::take_signals() {
    while (int signal = signals_.read_signal()) {
        if (is_termination(signal)) {
            log::info("received {}; stopping", ::strsignal(signal));
            daemons_.stop_all_daemons(true);
            return 128 + signal;
        }
    }
    return {};
}

std::optional<int> Worker::serve() {
    while (true) {
        std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}, {leader_.fd(), POLLIN, 0}};
        ::poll(fds.data(), leader_.closed() ? 1 : fds.size(), 200);
        if (auto code = take_signals()) return *code;
        reap_children();
        for (auto& received : leader_.receive()) {
            if (auto* failure = std::get_if<control::ParseFailure>(&received)) {
                log::warn("ignored a malformed message from the leader ({})", failure->reason);
                continue;
            }
            if (auto code = handle(std::get<control::Message>(received))) return *code;
        }
        for (const auto& event : daemons_.poll(cluster_ready_)) report(event);
        const auto now = Clock::now();
        if (welcomed_ && now - last_heartbeat_ >= kHeartbeatInterval) {
            last_heartbeat_ = now;
            leader_.send(control::Heartbeat{});
        }
        if (!welcomed_) {
            if (leader_.closed()) return {};
            if (now - leader_.opened() > kHandshakeLimit) {
                leader_.close();
                return {};
            }
            continue;
        }
        // Evidence that the leader is gone: its connection ended or failed (its process exited,
        // or its node stopped answering TCP keepalive). Silence alone is waited out.
        switch (leader_watch_.update(leader_.closed(), now - leader_.last_heard())) {
            case PeerWatch::Change::Lost:
                return leave(leader_.closed()
                                 ? "its launcher exited or its node stopped answering"
                                 : fmt::format("no heartbeat for {} s", kLeaderPatience.count()));
            case PeerWatch::Change::WentSilent:
                log::warn(
                    "no heartbeat from the leader {} for {} s; its connection is up, so it is "
                    "waited "
                    "for (up to {} s)",
                    plan_.leader_hostname, kPeerSilenceLimit.count(), kLeaderPatience.count());
                break;
            case PeerWatch::Change::CameBack:
                log::info("the leader {} answers again", plan_.leader_hostname);
                break;
            case PeerWatch::Change::None:
                break;
        }
    }
}

std::optional<int> Worker::handle(const control::Message& message) {
    if (!welcomed_) {
        if (const auto* challenge = std::get_if<control::Challenge>(&message)) {
            if (!nonce_.empty() && !challenge->nonce.empty() && leader_nonce_.empty()) {
                leader_nonce_ = challenge->nonce;
                leader_.send(control::Hello{
                    node_.rank, nonce_,
                    control::hello_mac(plan_.secret, node_.rank, leader_nonce_, nonce_)});
            }
        } else if (const auto* welcome = std::get_if<control::Welcome>(&message)) {
            const auto expected =
                control::welcome_mac(plan_.secret, node_.rank, leader_nonce_, nonce_);
            if (!leader_nonce_.empty() && control::same_mac(expected, welcome->mac)) {
                welcomed_ = true;
            } else {
                log::warn("the leader's answer did not prove the job's secret; disconnecting");
                leader_.close();
            }
        }
        return {};
    }
    if (const auto* start = std::get_if<control::StartDaemon>(&message)) {
        try {
            for (const auto& spec : daemons_for(plan_, node_)) {
                if (start->daemon == file_name(spec.daemon)) daemons_.start(spec);
            }
        } catch (const std::exception& error) {
            leader_.send(control::StartFailed{error.what()});
        }
    } else if (std::holds_alternative<control::ClusterReady>(message)) {
        cluster_ready_ = true;
    } else if (std::holds_alternative<control::Stop>(message)) {
        daemons_.stop_all_daemons();
        leader_.send(control::Stopped{});
        return 0;
    }
    return {};
}

void Worker::report(const DaemonEvent& event) {
    const char* daemon = file_name(event.spec.daemon);
    switch (event.kind) {
        case DaemonEvent::Kind::RestartScheduled:
            log_restart(node_.hostname, event);
            leader_.send(control::DaemonRestarting{daemon, describe_wait_status(event.status),
                                                   event.attempt});
            break;
        case DaemonEvent::Kind::Restarted:
            log_restart(node_.hostname, event);
            break;
        case DaemonEvent::Kind::Stopped:
            log::warn("{}", exit_message(node_.hostname, event.spec, event.status));
            leader_.send(control::DaemonExited{daemon, describe_wait_status(event.status),
                                               tail_of_file(event.spec.log_file, kLogTailLines)});
            break;
    }
}

// The leader is gone while this node runs: the Spark master and namenode with it, so the cluster
// cannot recover in place.
int Worker::leave(const std::string& why) {
    log::write_line(log::origin() +
                    fmt::format(": error: lost the leader {} ({}); stopping this node",
                                plan_.leader_hostname, why));
    daemons_.stop_all_daemons();
    if (cluster_ready_) {
        requeue_if_needed(slurm_, RequeueCause::LeaderLost, plan_.job_id, plan_.restart_count,
                          plan_.requeueable, plan_.state_dir);
    }
    return kExitFailure;
}

}  // namespace spark_slurm
