// A node's ground before its daemons start: the node-local work directory (removed on every way
// out, by the janitor when the launcher is killed) and the configuration files. (The leader's
// claim on a state directory: state_dir_claim.hpp.)
#pragma once

#include <cstdint>
#include <string>

#include "plan/plan.hpp"

namespace spark_slurm {

// Owns the node-local work directory: starts the janitor that removes it if the launcher is
// killed, and removes it itself on destruction.
class WorkDirectory {
  public:
    explicit WorkDirectory(std::string path);
    ~WorkDirectory();
    WorkDirectory(const WorkDirectory&) = delete;
    WorkDirectory& operator=(const WorkDirectory&) = delete;

  private:
    std::string path_;
};

// Directories and configuration files of this node; the secret goes only into 0600 files inside
// 0700 directories. On the leader also the event-log directory, recorded for `spark-slurm
// history` (history/event_logs.hpp). `spark_settings` go into spark-defaults.conf as well.
// Throws LaunchError naming the path and the fix.
void prepare_node(const Plan& plan, const NodePlan& node, const SparkSettings& spark_settings = {});

}  // namespace spark_slurm
