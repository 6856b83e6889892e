#include "probes/probes.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

#include "common/errors.hpp"
#include "common/ui_login.hpp"

namespace spark_slurm {

using nlohmann::json;

unsigned SparkMasterState::alive_workers() const {
    unsigned count = 0;
    for (const auto& worker : workers) count += worker.state == "ALIVE";
    return count;
}

unsigned SparkMasterState::matching_workers(unsigned cores, std::uint64_t memory_mib) const {
    unsigned count = 0;
    for (const auto& worker : workers) {
        count +=
            worker.state == "ALIVE" && worker.cores == cores && worker.memory_mib == memory_mib;
    }
    return count;
}

std::optional<SparkMasterState> parse_master_json(const std::string& text) {
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded() || !document.is_object() || !document.contains("status")) return {};
    SparkMasterState state;
    state.status = document.value("status", "");
    for (const auto& worker : document.value("workers", json::array())) {
        SparkWorkerState entry;
        entry.host = worker.value("host", "");
        entry.cores = worker.value("cores", 0u);
        entry.memory_mib = worker.value("memory", std::uint64_t{0});
        entry.state = worker.value("state", "");
        state.workers.push_back(entry);
    }
    for (auto [name, count] : {std::pair{"activeapps", &state.active_apps},
                               std::pair{"completedapps", &state.completed_apps}}) {
        auto it = document.find(name);
        if (it != document.end() && it->is_array()) *count = static_cast<unsigned>(it->size());
    }
    return state;
}

std::optional<NamenodeState> parse_namenode_jmx(const std::string& text) {
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded() || !document.contains("beans") || document["beans"].empty())
        return {};
    const json& bean = document["beans"][0];
    NamenodeState state;
    state.live_datanodes = bean.value("NumLiveDataNodes", 0u);
    state.dead_datanodes = bean.value("NumDeadDataNodes", 0u);
    state.fs_state = bean.value("FSState", "");
    state.capacity_used = bean.value("CapacityUsed", std::uint64_t{0});
    state.capacity_total = bean.value("CapacityTotal", std::uint64_t{0});
    return state;
}

std::vector<std::string> ui_login_headers(const std::string& ui_token) {
    if (ui_token.empty()) return {};
    return {std::string(kUiTokenHeader) + ": " + ui_token};
}

std::optional<std::string> http_get(const std::string& url, std::chrono::milliseconds timeout,
                                    const std::string& ui_token) {
    return http_fetch(url, {.timeout = timeout}, ui_login_headers(ui_token)).body;
}

std::string master_json_url(const std::string& webui_url) { return webui_url + "/json/"; }

std::string namenode_jmx_url(const std::string& webui_url) {
    return webui_url + "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState";
}

std::optional<SparkMasterState> probe_master(const std::string& webui_url,
                                             std::chrono::milliseconds timeout,
                                             const std::string& ui_token) {
    auto body = http_get(master_json_url(webui_url), timeout, ui_token);
    if (!body) return {};
    return parse_master_json(*body);
}

std::optional<NamenodeState> probe_namenode(const std::string& webui_url,
                                            std::chrono::milliseconds timeout,
                                            const std::string& ui_token) {
    auto body = http_get(namenode_jmx_url(webui_url), timeout, ui_token);
    if (!body) return {};
    return parse_namenode_jmx(*body);
}

std::optional<NamenodeState> parse_dfsadmin_report(const std::string& text) {
    static const std::regex live(R"(Live datanodes \((\d+)\):)");
    static const std::regex capacity(R"(Configured Capacity: (\d+))");
    static const std::regex used(R"(DFS Used: (\d+))");
    std::smatch match;
    if (!std::regex_search(text, match, live)) return {};
    NamenodeState state;
    // Digits past 64 bits are not a report: no answer, rather than an exception in the loop.
    try {
        state.live_datanodes = static_cast<unsigned>(std::stoul(match[1].str()));
        state.fs_state =
            text.find("Safe mode is ON") != std::string::npos ? "safeMode" : "Operational";
        if (std::regex_search(text, match, capacity))
            state.capacity_total = std::stoull(match[1].str());
        if (std::regex_search(text, match, used)) state.capacity_used = std::stoull(match[1].str());
    } catch (const std::out_of_range&) {
        return {};
    }
    return state;
}

}  // namespace spark_slurm
