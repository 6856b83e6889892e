#include "probes/probes.hpp"

#include <curl/curl.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

#include "common/errors.hpp"

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

namespace {

// libcurl is loaded on first use instead of being linked. Only the leader probes, and only after
// the MPI rendezvous has finalized; linked, libcurl and its TLS, Kerberos and LDAP dependencies
// (5.5 MiB of mapped pages) sat in every rank's memory from exec on, and were the largest part of
// the launcher's peak RSS (reached during MPI_Init). See benchmarks/README.md.
class LibCurl {
  public:
    static const LibCurl& instance() {
        static const LibCurl library;
        return library;
    }
    LibCurl(const LibCurl&) = delete;
    LibCurl& operator=(const LibCurl&) = delete;
    ~LibCurl() {
        global_cleanup();
        // Not dlclose()d: libcurl's TLS libraries register atexit handlers of their own.
    }

    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_global_cleanup) global_cleanup = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_setopt) easy_setopt = nullptr;
    decltype(&curl_easy_perform) easy_perform = nullptr;
    decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;

  private:
    static constexpr const char* kSoname = "libcurl.so.4";

    LibCurl() {
        handle_ = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
        if (!handle_) fail(dlerror());
        bind(global_init, "curl_global_init");
        bind(global_cleanup, "curl_global_cleanup");
        bind(easy_init, "curl_easy_init");
        bind(easy_setopt, "curl_easy_setopt");
        bind(easy_perform, "curl_easy_perform");
        bind(easy_getinfo, "curl_easy_getinfo");
        bind(easy_cleanup, "curl_easy_cleanup");
        if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) fail("curl_global_init failed");
    }

    template <typename Function>
    void bind(Function& function, const char* name) {
        function = reinterpret_cast<Function>(dlsym(handle_, name));
        if (!function) fail(dlerror());
    }

    [[noreturn]] static void fail(const char* why) {
        throw LaunchError(fmt::format(
            "spark-slurm: cannot load {} ({}); the launcher probes the daemons' HTTP endpoints "
            "with it: install libcurl (Debian/Ubuntu: libcurl4, RHEL: libcurl)",
            kSoname, why ? why : "unknown error"));
    }

    void* handle_ = nullptr;
};

struct CurlFree {
    void operator()(CURL* handle) const { LibCurl::instance().easy_cleanup(handle); }
};

std::size_t append(char* data, std::size_t size, std::size_t count, void* buffer) {
    static_cast<std::string*>(buffer)->append(data, size * count);
    return size * count;
}

}  // namespace

void load_http_client() { LibCurl::instance(); }

std::optional<std::string> http_get(const std::string& url, std::chrono::milliseconds timeout) {
    const LibCurl& curl = LibCurl::instance();
    std::unique_ptr<CURL, CurlFree> handle(curl.easy_init());
    if (!handle) return {};
    std::string body;
    curl.easy_setopt(handle.get(), CURLOPT_URL, url.c_str());
    curl.easy_setopt(handle.get(), CURLOPT_WRITEFUNCTION, append);
    curl.easy_setopt(handle.get(), CURLOPT_WRITEDATA, &body);
    long total_ms = static_cast<long>(timeout.count());
    curl.easy_setopt(handle.get(), CURLOPT_CONNECTTIMEOUT_MS, std::min(1000L, total_ms));
    curl.easy_setopt(handle.get(), CURLOPT_TIMEOUT_MS, total_ms);
    curl.easy_setopt(handle.get(), CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(handle.get(), CURLOPT_NOPROXY, "*");
    if (curl.easy_perform(handle.get()) != CURLE_OK) return {};
    long code = 0;
    curl.easy_getinfo(handle.get(), CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) return {};
    return body;
}

std::optional<SparkMasterState> probe_master(const std::string& webui_url,
                                             std::chrono::milliseconds timeout) {
    auto body = http_get(webui_url + "/json/", timeout);
    if (!body) return {};
    return parse_master_json(*body);
}

std::optional<NamenodeState> probe_namenode(const std::string& webui_url,
                                            std::chrono::milliseconds timeout) {
    auto body =
        http_get(webui_url + "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState", timeout);
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
