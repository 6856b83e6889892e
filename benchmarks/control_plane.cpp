// control_plane: the leader's control plane against N simulated worker launchers (issue 31, 4b).
// A benchmark-only driver: the workers are simulated here (one process holding N connections), the
// leader side is the real code — WorkerLinks over a ControlServer, the handshake of
// control_protocol.hpp, the heartbeats — in a child process measured alone.
//
//   control_plane N [SECONDS]    (with a hard `ulimit -n` of at least N + 256)
//
// Each simulated worker connects from its own loopback address (127.1.x.y, as the plan's nodes
// have their own), answers the challenge with the job secret's HMAC, and then sends a heartbeat
// every second, as a worker launcher does. The leader broadcasts a heartbeat every second and
// writes the moment of each broadcast to a pipe. Prints one JSON object: how long until every
// worker was admitted, the heartbeats' latency (broadcast to receipt by a simulated worker, p50 and
// p99, over SECONDS, default 10), and the leader's CPU over those seconds (share of one core)
// and its peak resident memory.
// What it does not show: the network between nodes (all of this is one host's loopback), and the
// simulator's own time, which is inside the latency figures (it polls N descriptors per turn).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "control/control_channel.hpp"
#include "control/control_protocol.hpp"
#include "job/events.hpp"
#include "job/worker_links.hpp"
#include "plan/plan.hpp"

using namespace spark_slurm;
using Clock = std::chrono::steady_clock;

namespace {

std::string worker_address(unsigned rank) {
    const std::uint32_t ip = (127u << 24) | (1u << 16) | rank;  // 127.1.x.y
    in_addr address{htonl(ip)};
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

Plan make_bench_plan(unsigned workers) {
    Plan plan;
    plan.job_id = 1;
    plan.secret = control::fresh_nonce() + control::fresh_nonce();
    plan.leader_address = "127.0.0.1";
    plan.worker_count = workers;
    plan.nodes.resize(workers + 1);
    for (unsigned rank = 0; rank <= workers; ++rank) {
        NodePlan& node = plan.nodes[rank];
        node.rank = rank;
        node.address = rank == 0 ? "127.0.0.1" : worker_address(rank);
        node.hostname = "sim" + std::to_string(rank);
        node.role = rank == 0 ? Role::Leader : Role::Worker;
    }
    return plan;
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

// The leader, in the child: serves the links, broadcasts a heartbeat every second and writes its
// time to `beats`. Runs until SIGTERM.
[[noreturn]] void run_leader(const Plan& plan, ControlServer server, int beats) {
    EventLog events("", Clock::now());
    WorkerLinks links(plan, std::move(server), events);
    auto next_beat = Clock::now();
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    while (true) {
        std::vector<pollfd> fds;
        links.add_poll_fds(fds);
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - Clock::now());
        ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long>(wait.count(), 0, 100)));
        links.service(true);
        if (Clock::now() >= next_beat) {
            next_beat += std::chrono::seconds(1);
            const std::int64_t at = now_ns();
            links.broadcast(control::Heartbeat{});
            if (::write(beats, &at, sizeof at) != sizeof at) ::_exit(3);
        }
    }
}

struct Worker {
    unsigned rank = 0;
    std::optional<Connection> connection;
    std::string nonce;
    bool admitted = false;
    Clock::time_point retry_at{};
    std::vector<std::int64_t> beats_received;  // ns
};

bool start_connection(Worker& worker, std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in own{};
    own.sin_family = AF_INET;
    ::inet_pton(AF_INET, worker_address(worker.rank).c_str(), &own.sin_addr);
    sockaddr_in leader{};
    leader.sin_family = AF_INET;
    leader.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &leader.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&own), sizeof own) != 0 ||
        (::connect(fd, reinterpret_cast<sockaddr*>(&leader), sizeof leader) != 0 &&
         errno != EINPROGRESS)) {
        ::close(fd);
        return false;
    }
    worker.connection.emplace(fd, "127.0.0.1:" + std::to_string(port));
    worker.nonce = control::fresh_nonce();
    return true;
}

// The leader's resident peak (VmHWM, kB) and CPU time (s) so far, from /proc.
std::pair<long, double> leader_usage(pid_t pid) {
    long peak_kb = 0;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmHWM:", 0) == 0) peak_kb = std::stol(line.substr(6));
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoul(field);
        if (i == 15) stime = std::stoul(field);
    }
    return {peak_kb,
            static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK))};
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return -1;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(p * (values.size() - 1)))];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: control_plane N [SECONDS]\n");
        return 2;
    }
    const unsigned workers = static_cast<unsigned>(std::stoul(argv[1]));
    const int seconds = argc > 2 ? std::stoi(argv[2]) : 10;
    // The simulator and the leader (a child) each hold one descriptor per worker.
    rlimit files{workers + 256u, workers + 256u};
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) {
        std::fprintf(stderr, "control_plane: cannot raise the descriptor limit to %lu: %s\n",
                     static_cast<unsigned long>(files.rlim_cur), std::strerror(errno));
        return 1;
    }
    const Plan plan = make_bench_plan(workers);
    ControlServer server("127.0.0.1");
    const std::uint16_t port = server.port();
    int beat_pipe[2];
    if (::pipe2(beat_pipe, O_CLOEXEC) != 0) return 1;
    const pid_t leader = ::fork();
    if (leader == 0) {
        ::close(beat_pipe[0]);
        run_leader(plan, std::move(server), beat_pipe[1]);
    }
    server.close();
    ::close(beat_pipe[1]);
    ::fcntl(beat_pipe[0], F_SETFL, O_NONBLOCK);

    std::vector<Worker> sim(workers);
    for (unsigned i = 0; i < workers; ++i) sim[i].rank = i + 1;
    const auto started = Clock::now();
    std::optional<double> all_admitted_s;
    std::optional<Clock::time_point> measure_from;
    double cpu_at_measure_start = 0;
    std::vector<std::int64_t> beats_sent;
    unsigned admitted = 0, reconnects = 0;
    auto next_own_beat = Clock::now();
    const auto give_up = started + std::chrono::seconds(300);
    while (Clock::now() < give_up) {
        const auto now = Clock::now();
        std::vector<pollfd> fds;
        std::vector<unsigned> owner;
        for (unsigned i = 0; i < workers; ++i) {
            Worker& w = sim[i];
            if ((!w.connection || w.connection->closed()) && now >= w.retry_at) {
                if (w.connection) ++reconnects;
                w.admitted = false;
                if (!start_connection(w, port)) w.retry_at = now + std::chrono::milliseconds(200);
            }
            if (w.connection && !w.connection->closed()) {
                fds.push_back({w.connection->fd(), POLLIN, 0});
                owner.push_back(i);
            }
        }
        ::poll(fds.data(), fds.size(), 20);
        for (std::size_t k = 0; k < fds.size(); ++k) {
            if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Worker& w = sim[owner[k]];
            const std::int64_t received_at = now_ns();
            for (auto& received : w.connection->receive()) {
                auto* message = std::get_if<control::Message>(&received);
                if (!message) continue;
                if (auto* challenge = std::get_if<control::Challenge>(message)) {
                    w.connection->send(control::Hello{
                        w.rank, w.nonce,
                        control::hello_mac(plan.secret, w.rank, challenge->nonce, w.nonce)});
                } else if (std::holds_alternative<control::Welcome>(*message)) {
                    w.admitted = true;
                    ++admitted;
                } else if (std::holds_alternative<control::Heartbeat>(*message)) {
                    w.beats_received.push_back(received_at);
                }
            }
            if (w.connection->closed()) {
                if (w.admitted) --admitted;
                w.retry_at = Clock::now() + std::chrono::milliseconds(200);
            }
        }
        for (std::int64_t at; ::read(beat_pipe[0], &at, sizeof at) == sizeof at;)
            beats_sent.push_back(at);
        if (Clock::now() >= next_own_beat) {
            next_own_beat += std::chrono::seconds(1);
            for (Worker& w : sim)
                if (w.admitted && !w.connection->closed()) w.connection->send(control::Heartbeat{});
        }
        if (!all_admitted_s && admitted == workers) {
            all_admitted_s = std::chrono::duration<double>(Clock::now() - started).count();
            measure_from = Clock::now();
            cpu_at_measure_start = leader_usage(leader).second;
            for (Worker& w : sim) w.beats_received.clear();
        }
        if (measure_from && Clock::now() - *measure_from >= std::chrono::seconds(seconds)) break;
    }
    const auto [peak_kb, cpu_now] = leader_usage(leader);
    const double measured_s =
        measure_from ? std::chrono::duration<double>(Clock::now() - *measure_from).count() : 0;
    ::kill(leader, SIGTERM);
    ::waitpid(leader, nullptr, 0);
    // Latency: each receipt against the latest broadcast at or before it (broadcasts are 1 s
    // apart; a latency over 1 s would be matched to the wrong one, and shows as p99 near 1000 ms).
    std::vector<double> latencies_ms;
    for (const Worker& w : sim) {
        for (std::int64_t at : w.beats_received) {
            auto sent = std::upper_bound(beats_sent.begin(), beats_sent.end(), at);
            if (sent == beats_sent.begin()) continue;
            latencies_ms.push_back(static_cast<double>(at - *std::prev(sent)) / 1e6);
        }
    }
    std::printf(
        "{\"workers\": %u, \"all_admitted_s\": %.3f, \"handshakes_per_s\": %.1f, "
        "\"reconnects\": %u, \"heartbeat_samples\": %zu, \"heartbeat_p50_ms\": %.2f, "
        "\"heartbeat_p99_ms\": %.2f, \"leader_cpu_core_share\": %.3f, \"leader_peak_mib\": %.1f, "
        "\"measured_s\": %.1f}\n",
        workers, all_admitted_s.value_or(-1), all_admitted_s ? workers / *all_admitted_s : 0.0,
        reconnects, latencies_ms.size(), percentile(latencies_ms, 0.50),
        percentile(latencies_ms, 0.99),
        measured_s > 0 ? (cpu_now - cpu_at_measure_start) / measured_s : 0.0, peak_kb / 1024.0,
        measured_s);
    return all_admitted_s ? 0 : 1;
}
