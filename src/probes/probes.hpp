// Readiness and health from the daemons' own HTTP endpoints: the Spark master's /json and the
// namenode's JMX. Parsing is separate from fetching so that it is tested on recorded answers;
// fetching is HttpRequests (http_requests.hpp), without blocking or in the blocking forms below.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probes/http_requests.hpp"

namespace spark_slurm {

struct SparkWorkerState {
    std::string host;
    unsigned cores = 0;
    std::uint64_t memory_mib = 0;
    std::string state;  // ALIVE, DEAD, DECOMMISSIONED, UNKNOWN
};

struct SparkMasterState {
    std::string status;  // ALIVE, STANDBY, RECOVERING, COMPLETING_RECOVERY
    std::vector<SparkWorkerState> workers;
    unsigned active_apps = 0;     // applications running now
    unsigned completed_apps = 0;  // applications that ran and ended
    unsigned alive_workers() const;
    // ALIVE workers offering exactly `cores` and `memory_mib`.
    unsigned matching_workers(unsigned cores, std::uint64_t memory_mib) const;
};

struct NamenodeState {
    unsigned live_datanodes = 0;
    unsigned dead_datanodes = 0;
    std::string fs_state;              // "Operational", or "safeMode"
    std::uint64_t capacity_used = 0;   // bytes
    std::uint64_t capacity_total = 0;  // bytes
    bool in_safe_mode() const { return fs_state != "Operational"; }
};

std::optional<SparkMasterState> parse_master_json(const std::string& text);
std::optional<NamenodeState> parse_namenode_jmx(const std::string& text);
// What `hdfs dfsadmin -report -live` printed (its source when the web endpoints want Kerberos):
// "Safe mode is ON" (only then), "Live datanodes (N):", and the summary's "Configured Capacity:"
// and "DFS Used:". nullopt when the text is not a report (the namenode did not answer).
std::optional<NamenodeState> parse_dfsadmin_report(const std::string& text);

// Where the daemons answer, from their web UI's base URL.
std::string master_json_url(const std::string& webui_url);
std::string namenode_jmx_url(const std::string& webui_url);

// The headers that let a program through the web UIs' login (src/ui_login) with the job's UI
// token; none for an empty token.
std::vector<std::string> ui_login_headers(const std::string& ui_token);

// The blocking probes, for callers outside the leader's loop (status, history; the leader probes
// through HttpRequests). A GET with a short timeout (the whole request, connecting included),
// through the UI login with `ui_token`; nullopt when nothing answers (not up yet, or gone) or
// the answer is not a 200.
std::optional<std::string> http_get(const std::string& url,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(3),
                                    const std::string& ui_token = {});

std::optional<SparkMasterState> probe_master(const std::string& webui_url,
                                             std::chrono::milliseconds timeout,
                                             const std::string& ui_token);
std::optional<NamenodeState> probe_namenode(const std::string& webui_url,
                                            std::chrono::milliseconds timeout,
                                            const std::string& ui_token);

}  // namespace spark_slurm
