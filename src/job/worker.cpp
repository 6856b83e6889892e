#include "job/worker.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <cstring>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "job/requeue_policy.hpp"
#include "job/worker_links.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

// The leader's port is open from before the rendezvous; this covers a slow network.
constexpr auto kLeaderConnectLimit = std::chrono::seconds(60);

bool is_termination(int signal) {
    return signal == SIGTERM || signal == SIGINT || signal == SIGHUP;
}

}  // namespace

Worker::Worker(const Plan& plan, const NodePlan& node, const Runtime& runtime,
               const SlurmLibrary& slurm)
    : plan_(plan), node_(node), slurm_(slurm), daemons_(runtime) {}

int Worker::run() {
    auto connection = connect_to_leader(plan_.leader_address, plan_.control_port,
                                        Clock::now() + kLeaderConnectLimit);
    if (!connection) {
        log::write_line(log::origin() + fmt::format(": error: could not reach the leader at {}:{} "
                                                    "within {} s; see the leader's output",
                                                    plan_.leader_address, plan_.control_port,
                                                    kLeaderConnectLimit.count()));
        return kExitFailure;
    }
    leader_ = std::move(*connection);
    nonce_ = control::fresh_nonce();

    while (true) {
        std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}, {leader_.fd(), POLLIN, 0}};
        ::poll(fds.data(), leader_.closed() ? 1 : fds.size(), 200);
        while (int signal = signals_.read_signal()) {
            if (is_termination(signal)) {
                log::info("received {}; stopping", ::strsignal(signal));
                daemons_.stop_all_daemons(true);
                return 128 + signal;
            }
        }
        reap_children();
        for (auto& received : leader_.receive()) {
            if (auto* failure = std::get_if<control::ParseFailure>(&received)) {
                log::warn("ignored a malformed message from the leader ({})", failure->reason);
                continue;
            }
            if (auto code = handle(std::get<control::Message>(received))) return *code;
        }
        for (const auto& event : daemons_.poll(cluster_ready_)) report(event);
        if (welcomed_ && Clock::now() - last_heartbeat_ >= kHeartbeatInterval) {
            last_heartbeat_ = Clock::now();
            leader_.send(control::Heartbeat{});
        }
        if (leader_.closed())
            return leave(welcomed_ ? "its launcher exited" : "it refused this node's hello");
        if (Clock::now() - leader_.last_heard() > kPeerSilenceLimit) return leave("no heartbeat");
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
