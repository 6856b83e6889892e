// The leader's machine-readable account of a job (--events FILE): one JSON object per line,
// appended and flushed as things happen, so that benchmarks, `status` and people's scripts read
// facts instead of scraping log lines. Every line has "event", "time" (Unix seconds) and
// "elapsed" (seconds since the launcher started); the rest depends on the event:
//   rendezvous {ranks, seconds}            phase {phase}
//   daemon_up {daemon, node}               workers {registered, expected}
//   datanodes {live, expected, safe_mode}  ready {workers, cores, memory_mib, master_url,
//                                                 master_webui_url, hdfs_url, namenode_webui_url}
//   daemon_restart {daemon, node, status, attempt}   daemon_exited {daemon, node, status}
//   driver_started {}  driver_exited {status, code}  namespace_saved {seconds}
//   control_rejected {peer, reason}        stopped {seconds}   exit {code, reason}
// Nothing secret is ever written here.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace spark_slurm {

class EventLog {
  public:
    // An empty path: events are dropped. Throws UsageError when the file cannot be opened.
    EventLog(const std::string& path, std::chrono::steady_clock::time_point started);
    ~EventLog();
    EventLog(const EventLog&) = delete;
    EventLog& operator=(const EventLog&) = delete;

    void write(const std::string& event, nlohmann::json fields = nlohmann::json::object());

  private:
    int fd_ = -1;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace spark_slurm
