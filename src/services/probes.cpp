#include "services/probes.hpp"

#include <curl/curl.h>

#include <memory>
#include <nlohmann/json.hpp>

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
    return state;
}

namespace {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
};

struct CurlFree {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

std::size_t append(char* data, std::size_t size, std::size_t count, void* buffer) {
    static_cast<std::string*>(buffer)->append(data, size * count);
    return size * count;
}

}  // namespace

std::optional<std::string> http_get(const std::string& url) {
    static CurlGlobal global;
    std::unique_ptr<CURL, CurlFree> handle(curl_easy_init());
    if (!handle) return {};
    std::string body;
    curl_easy_setopt(handle.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle.get(), CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(handle.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(handle.get(), CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(handle.get(), CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(handle.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle.get(), CURLOPT_NOPROXY, "*");
    if (curl_easy_perform(handle.get()) != CURLE_OK) return {};
    long code = 0;
    curl_easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) return {};
    return body;
}

std::optional<SparkMasterState> probe_master(const std::string& webui_url) {
    auto body = http_get(webui_url + "/json/");
    if (!body) return {};
    return parse_master_json(*body);
}

std::optional<NamenodeState> probe_namenode(const std::string& webui_url) {
    auto body = http_get(webui_url + "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState");
    if (!body) return {};
    return parse_namenode_jmx(*body);
}

}  // namespace spark_slurm
