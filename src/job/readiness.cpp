#include "job/readiness.hpp"

#include <fmt/format.h>

#include <set>
#include <utility>

#include "common/log.hpp"
#include "job/node_daemons.hpp"
#include "probes/probes.hpp"
#include "services/services.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

Readiness::Readiness(const Plan& plan, EventLog& events,
                     std::chrono::steady_clock::time_point start)
    : plan_(plan), events_(events), start_(start) {}

void Readiness::set_namenode_source(std::function<std::optional<NamenodeState>()> source) {
    namenode_source_ = std::move(source);
}

double Readiness::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Readiness::receive_answers() {
    for (auto& completion : http_.perform()) {
        for (Probe* probe : {&master_probe_, &namenode_probe_}) {
            if (probe->request != completion.id) continue;
            probe->request.reset();
            probe->answer = std::move(completion.answer);
        }
    }
}

void Readiness::ask(Probe& probe, const std::string& url) {
    if (!probe.request && !probe.answer)
        probe.request = http_.start(url, {}, ui_login_headers(plan_.ui_token));
}

std::optional<SparkMasterState> Readiness::take_master_answer() {
    auto answer = std::exchange(master_probe_.answer, std::nullopt);
    if (!answer || !answer->body) return {};
    auto master = parse_master_json(*answer->body);
    if (master) last_master_ = master;
    return master;
}

std::optional<NamenodeState> Readiness::take_namenode_answer() {
    auto answer = std::exchange(namenode_probe_.answer, std::nullopt);
    if (!answer || !answer->body) return {};
    return parse_namenode_jmx(*answer->body);
}

void Readiness::on_namenode_up() {
    namenode_up_ = true;
    log::info("namenode up in {:.1f} s", elapsed());
    events_.write(
        "daemon_up",
        {{"daemon", "hdfs-namenode"}, {"node", plan_.leader_hostname}, {"seconds", elapsed()}});
}

bool Readiness::probe_leader_daemons(bool ask_now) {
    bool master_came_up = false;
    auto master = take_master_answer();
    if (!master_up_ && master && master->status == "ALIVE") {
        master_up_ = master_came_up = true;
        log::info("master up in {:.1f} s", elapsed());
        events_.write(
            "daemon_up",
            {{"daemon", "spark-master"}, {"node", plan_.leader_hostname}, {"seconds", elapsed()}});
    }
    if (plan_.hdfs && !namenode_up_) {
        if (namenode_over_http() ? take_namenode_answer().has_value()
                                 : namenode_source_().has_value())
            on_namenode_up();
    }
    if (ask_now) {
        if (!master_up_) ask(master_probe_, master_json_url(plan_.master_webui_url));
        if (namenode_over_http() && !namenode_up_)
            ask(namenode_probe_, namenode_jmx_url(plan_.namenode_webui_url));
    }
    return master_came_up;
}

bool Readiness::probe_cluster(bool ask_now) {
    if (ask_now) {
        ask(master_probe_, master_json_url(plan_.master_webui_url));
        if (namenode_over_http()) ask(namenode_probe_, namenode_jmx_url(plan_.namenode_webui_url));
    }
    // A round is decided once each of its probes answered (or gave up).
    if (master_probe_.request || (namenode_over_http() && namenode_probe_.request)) return false;
    if (!master_probe_.answer) return false;
    auto master = take_master_answer();
    std::optional<NamenodeState> namenode;
    if (plan_.hdfs) namenode = namenode_over_http() ? take_namenode_answer() : namenode_source_();
    if (!master) return false;
    const auto memory_mib = plan_.worker_memory >> 20;
    unsigned workers = master->matching_workers(plan_.worker_cores, memory_mib);
    if (workers != last_workers_) {
        last_workers_ = workers;
        log::info("workers {}/{} registered ({} cores, {} MiB each) at {:.1f} s", workers,
                  plan_.worker_count, plan_.worker_cores, memory_mib, elapsed());
        events_.write(
            "workers",
            {{"registered", workers}, {"expected", plan_.worker_count}, {"seconds", elapsed()}});
    }
    bool hdfs_ready = true;
    if (plan_.hdfs) {
        if (!namenode) return false;
        if (namenode->live_datanodes != last_datanodes_) {
            last_datanodes_ = namenode->live_datanodes;
            log::info("datanodes {}/{} live at {:.1f} s", namenode->live_datanodes,
                      plan_.worker_count, elapsed());
            events_.write("datanodes", {{"live", namenode->live_datanodes},
                                        {"expected", plan_.worker_count},
                                        {"safe_mode", namenode->in_safe_mode()},
                                        {"seconds", elapsed()}});
        }
        const bool all_live = namenode->live_datanodes >= plan_.worker_count;
        hdfs_ready = all_live && !namenode->in_safe_mode();
        if (all_live && namenode->in_safe_mode() && !reported_safe_mode_) {
            reported_safe_mode_ = true;
            log::info("waiting for HDFS to leave safe mode");
        }
    }
    return workers >= plan_.worker_count && hdfs_ready;
}

std::string Readiness::timeout_message(const std::function<bool(unsigned)>& connected) const {
    std::string message = fmt::format("the cluster was not ready after --ready-timeout {} s: ",
                                      plan_.ready_timeout_seconds);
    const NodePlan& leader = plan_.leader();
    if (!leader_daemons_up()) {
        message += fmt::format("the spark master{} on {} did not answer",
                               plan_.hdfs ? " or hdfs namenode" : "", leader.hostname);
        for (const auto& spec : daemons_for(plan_, leader)) {
            if (spec.daemon == Daemon::SparkMaster || spec.daemon == Daemon::Namenode) {
                message += fmt::format("\nlast lines of {}:\n{}", spec.log_file,
                                       tail_of_file(spec.log_file, kLogTailLines));
            }
        }
        return message;
    }
    message += fmt::format("{}/{} spark workers registered", last_workers_, plan_.worker_count);
    if (plan_.hdfs)
        message += fmt::format(", {}/{} datanodes live", last_datanodes_, plan_.worker_count);
    std::set<std::string> registered;
    if (last_master_) {
        for (const auto& worker : last_master_->workers) {
            if (worker.state == "ALIVE") registered.insert(worker.host);
        }
    }
    for (const auto& node : plan_.nodes) {
        if (!node.runs_worker()) continue;
        if (node.rank != 0 && !connected(node.rank)) {
            message +=
                fmt::format("\n{}: its launcher never connected to the leader", node.hostname);
            continue;
        }
        if (!registered.count(node.address)) {
            auto spec = daemon_spec(plan_, node, Daemon::SparkWorker);
            message += fmt::format("\n{}: spark worker not registered; last lines of {}:\n{}",
                                   node.hostname, spec.log_file,
                                   tail_of_file(spec.log_file, kLogTailLines));
        }
    }
    return message;
}

}  // namespace spark_slurm
