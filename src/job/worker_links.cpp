#include "job/worker_links.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/log.hpp"
#include "common/overloaded.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

// A connection that has not proved itself by then is dropped.
constexpr auto kHandshakeLimit = std::chrono::seconds(5);
// Unproven connections held at most, per source: each address of the plan's nodes has a quota
// of its own, so a stranger elsewhere (the login node, the network) cannot evict a worker whose
// hello is on its way; everything else shares one. A connection accepted in this round of the
// loop has not had time to answer its challenge: it is kept until the next round (up to
// kFreshPerSource of them), when what it sent has been read — a worker that said hello is
// admitted then — and only then counts against the quota, the oldest of a source going first.
// So a flood from a worker's own node, faster than the loop turns, still cannot evict it.
constexpr std::size_t kPendingPerNode = 4;
constexpr std::size_t kPendingStrangers = 16;
constexpr std::size_t kFreshPerSource = 64;
// Rejections are logged, and written to the events file one a line, up to this count; past it
// the events file gets their count every kRejectionSummaryInterval (a flood must not fill the
// job's output or disk).
constexpr unsigned kLoggedRejections = 20;
constexpr auto kRejectionSummaryInterval = std::chrono::seconds(10);

}  // namespace

WorkerLinks::WorkerLinks(const Plan& plan, ControlServer server, EventLog& events)
    : plan_(plan), server_(std::move(server)), events_(events) {}

void WorkerLinks::add_poll_fds(std::vector<pollfd>& fds) const {
    fds.push_back({server_.fd(), POLLIN, 0});
    for (const auto& link : links_) {
        if (!link.connection.closed()) fds.push_back({link.connection.fd(), POLLIN, 0});
    }
}

void WorkerLinks::reject(Link& link, const std::string& reason) {
    ++rejected_;
    if (rejected_ <= kLoggedRejections) {
        log::warn("control port: dropped {} from {}{}", reason, link.connection.peer(),
                  rejected_ == kLoggedRejections ? " (further rejections are counted only)" : "");
        events_.write("control_rejected", {{"peer", link.connection.peer()}, {"reason", reason}});
    } else {
        ++rejections_not_written_;
    }
    link.connection.close();
}

void WorkerLinks::report_rejections(bool now) {
    if (rejections_not_written_ == 0) return;
    if (!now && Clock::now() - rejections_written_ < kRejectionSummaryInterval) return;
    rejections_written_ = Clock::now();
    events_.write("control_rejections", {{"count", rejections_not_written_}, {"total", rejected_}});
    rejections_not_written_ = 0;
}

void WorkerLinks::accept_new() {
    while (auto connection = server_.accept()) {
        Link link{std::move(*connection), control::fresh_nonce(), {}, {}, false};
        link.connection.send(control::Challenge{link.nonce});
        links_.push_back(std::move(link));
    }
}

void WorkerLinks::enforce_pending_quotas(std::chrono::steady_clock::time_point round_started) {
    std::map<std::string, std::size_t> held, fresh;  // per source, newest first
    for (auto link = links_.rbegin(); link != links_.rend(); ++link) {
        if (link->rank || link->connection.closed()) continue;
        const std::string address = link->connection.peer_address();
        const bool a_node =
            std::any_of(plan_.nodes.begin(), plan_.nodes.end(),
                        [&](const NodePlan& node) { return node.address == address; });
        const std::string source = a_node ? address : std::string();
        const bool is_fresh = link->connection.opened() >= round_started;
        const std::size_t limit =
            is_fresh ? kFreshPerSource : (a_node ? kPendingPerNode : kPendingStrangers);
        if (++(is_fresh ? fresh : held)[source] > limit)
            reject(*link, "a connection (too many unproven ones from its source)");
    }
}

void WorkerLinks::admit(Link& link, const control::Hello& hello) {
    const bool known_rank = hello.rank > 0 && hello.rank < plan_.nodes.size() &&
                            plan_.nodes[hello.rank].role != Role::Idle;
    if (!known_rank) return reject(link, fmt::format("a hello for rank {}", hello.rank));
    const auto expected = control::hello_mac(plan_.secret, hello.rank, link.nonce, hello.nonce);
    if (!control::same_mac(expected, hello.mac))
        return reject(link, "a hello that does not prove the job's secret");
    if (admitted(hello.rank))
        return reject(link, fmt::format("a second hello for rank {}", hello.rank));
    link.rank = hello.rank;
    link.connection.send(
        control::Welcome{control::welcome_mac(plan_.secret, hello.rank, link.nonce, hello.nonce)});
}

void WorkerLinks::handle(Link& link, const control::Message& message,
                         std::vector<WorkerNews>& news) {
    if (!link.rank) {
        if (const auto* hello = std::get_if<control::Hello>(&message)) {
            admit(link, *hello);
            if (link.rank) news.push_back({WorkerNews::Kind::Joined, *link.rank, {}, {}, 0, {}});
        } else {
            reject(link,
                   fmt::format("a '{}' message before the handshake", control::type_name(message)));
        }
        return;
    }
    const unsigned rank = *link.rank;
    std::visit(
        Overloaded{
            [&](const control::DaemonRestarting& m) {
                news.push_back(
                    {WorkerNews::Kind::DaemonRestarting, rank, m.daemon, m.status, m.attempt, {}});
            },
            [&](const control::DaemonExited& m) {
                news.push_back(
                    {WorkerNews::Kind::DaemonExited, rank, m.daemon, m.status, 0, m.log_tail});
            },
            [&](const control::StartFailed& m) {
                news.push_back({WorkerNews::Kind::StartFailed, rank, {}, {}, 0, m.reason});
            },
            [&](const control::Stopped&) {
                link.stopped = true;
                news.push_back({WorkerNews::Kind::Stopped, rank, {}, {}, 0, {}});
            },
            [&](const control::Heartbeat&) {},
            [&](const auto& other) {
                log::warn("control port: ignored a '{}' message from rank {}",
                          control::type_name(other), rank);
            },
        },
        message);
}

std::vector<WorkerNews> WorkerLinks::service(bool watch) {
    std::vector<WorkerNews> news;
    const auto round_started = Clock::now();
    accept_new();
    // Reads come before the quotas: a worker whose hello arrived is admitted, not evicted.
    const auto now = Clock::now();
    for (auto& link : links_) {
        if (link.connection.closed()) continue;
        for (auto& received : link.connection.receive()) {
            if (link.connection.closed() && !link.rank) break;
            if (auto* failure = std::get_if<control::ParseFailure>(&received)) {
                if (!link.rank) {
                    reject(link, "a message that is not the protocol's (" + failure->reason + ")");
                    break;
                }
                log::warn("control port: ignored a malformed message from rank {} ({})", *link.rank,
                          failure->reason);
                continue;
            }
            handle(link, std::get<control::Message>(received), news);
        }
        if (!link.rank && !link.connection.closed() &&
            now - link.connection.opened() > kHandshakeLimit) {
            reject(link, "a connection that did not complete the handshake in time");
        }
    }
    enforce_pending_quotas(round_started);
    report_rejections(false);
    for (auto& link : links_) {
        if (!link.rank || link.stopped || !watch) continue;
        const bool closed = link.connection.closed();
        const auto change = link.watch.update(closed, now - link.connection.last_heard());
        if (change == PeerWatch::Change::Lost) {
            link.stopped = true;
            // Should it wake up, it reads this before the connection's end: it stops its node
            // instead of taking the leader for lost (and requeueing the job).
            link.connection.send(control::Stop{});
            news.push_back(
                {WorkerNews::Kind::Lost,
                 *link.rank,
                 {},
                 {},
                 0,
                 closed ? "exited or lost its connection"
                        : fmt::format("sent no heartbeat for {} s", kWorkerPatience.count())});
            link.connection.close();
        } else if (change == PeerWatch::Change::WentSilent) {
            news.push_back({WorkerNews::Kind::Silent, *link.rank, {}, {}, 0, {}});
        } else if (change == PeerWatch::Change::CameBack) {
            news.push_back({WorkerNews::Kind::Back, *link.rank, {}, {}, 0, {}});
        }
    }
    // Closed strangers are forgotten; admitted links stay (their rank and state matter).
    std::erase_if(links_, [](const Link& link) { return !link.rank && link.connection.closed(); });
    return news;
}

void WorkerLinks::start_daemon(unsigned rank, Daemon daemon) {
    for (auto& link : links_) {
        if (link.rank == rank && link.started.insert(daemon).second)
            link.connection.send(control::StartDaemon{file_name(daemon)});
    }
}

void WorkerLinks::broadcast(const control::Message& message) {
    for (auto& link : links_) {
        if (link.rank) link.connection.send(message);
    }
}

void WorkerLinks::heartbeat() {
    if (Clock::now() - last_heartbeat_ < kHeartbeatInterval) return;
    last_heartbeat_ = Clock::now();
    broadcast(control::Heartbeat{});
}

bool WorkerLinks::admitted(unsigned rank) const {
    return std::any_of(links_.begin(), links_.end(),
                       [rank](const Link& link) { return link.rank == rank; });
}

unsigned WorkerLinks::admitted_count() const {
    return static_cast<unsigned>(std::count_if(
        links_.begin(), links_.end(), [](const Link& link) { return link.rank.has_value(); }));
}

unsigned WorkerLinks::live_count() const {
    return static_cast<unsigned>(std::count_if(links_.begin(), links_.end(), [](const Link& l) {
        return l.rank && !l.stopped && !l.connection.closed();
    }));
}

unsigned WorkerLinks::awaiting_stop() const {
    return static_cast<unsigned>(std::count_if(links_.begin(), links_.end(), [](const Link& l) {
        return l.rank && !l.stopped && !l.connection.closed();
    }));
}

std::vector<unsigned> WorkerLinks::admitted_ranks() const {
    std::vector<unsigned> ranks;
    for (const auto& link : links_) {
        if (link.rank) ranks.push_back(*link.rank);
    }
    return ranks;
}

}  // namespace spark_slurm
