// The leader's machine-readable account of a job (--events FILE): one JSON object per line,
// appended and flushed as things happen, so that benchmarks, `status` and people's scripts read
// facts instead of scraping log lines. Every line has "event", "time" (Unix seconds) and
// "elapsed" (seconds since this launcher started); "seconds" is since the leader began starting
// daemons (or a duration, where it says so). The events and their other fields:
//   installs {spark, hadoop: the versions the daemons run, "" when unknown or without HDFS}
//   rendezvous {ranks, seconds: its duration, control_port: where the leader's launcher listens}
//   phase {phase: formatting_namespace, starting_daemons, waiting_for_workers, starting_connect,
//          driver_running, holding, saving_namespace, stopping}
//   daemon_up {daemon, node, seconds}       workers {registered, expected, seconds}
//   datanodes {live, expected, safe_mode, seconds}
//   ready {seconds, workers, cores, memory_mib, master_url, master_webui_url, hdfs_url,
//          namenode_webui_url}
//   daemon_restart {daemon, node, status, attempt}   daemon_exited {daemon, node, status}
//   connect_ready {seconds: since the Connect server started, connect_url}
//   holding {}: `up`'s cluster is published and held   stop_requested {reason}: `up` stops
//   driver_started {}   driver_exited {status, code}   namespace_saved {seconds: duration}
//   signal {signal, phase}   failed {phase}   control_rejected {peer, reason}
//   stopped {seconds: the teardown's duration}   exit {code}
// Nothing secret is ever written here.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/unique_fd.hpp"

namespace spark_slurm {

class EventLog {
  public:
    // An empty path: events are dropped. Throws UsageError when the file cannot be opened.
    EventLog(const std::string& path, std::chrono::steady_clock::time_point started);

    void write(const std::string& event, nlohmann::json fields = nlohmann::json::object());

  private:
    UniqueFd fd_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace spark_slurm
