// Readiness and health from the daemons' own HTTP endpoints: the Spark master's /json and the
// namenode's JMX. Parsing is separate from fetching so that it is tested on recorded answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
    unsigned alive_workers() const;
    // ALIVE workers offering exactly `cores` and `memory_mib`.
    unsigned matching_workers(unsigned cores, std::uint64_t memory_mib) const;
};

struct NamenodeState {
    unsigned live_datanodes = 0;
    unsigned dead_datanodes = 0;
    std::string fs_state;  // "Operational", or "safeMode"
    bool in_safe_mode() const { return fs_state != "Operational"; }
};

std::optional<SparkMasterState> parse_master_json(const std::string& text);
std::optional<NamenodeState> parse_namenode_jmx(const std::string& text);

// Loads libcurl now (it is otherwise loaded by the first http_get); throws LaunchError, naming the
// package to install, when it cannot be loaded.
void load_http_client();

// GET with a short timeout; nullopt when nothing answers (not up yet, or gone).
std::optional<std::string> http_get(const std::string& url);

std::optional<SparkMasterState> probe_master(const std::string& webui_url);
std::optional<NamenodeState> probe_namenode(const std::string& webui_url);

}  // namespace spark_slurm
