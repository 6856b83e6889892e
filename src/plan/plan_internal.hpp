// What plan.cpp and configs.cpp share inside the plan library; not for its users.
#pragma once

#include <cstdint>
#include <string>

#include "common/sizes.hpp"

namespace spark_slurm::plan_internal {

// The heap of each Spark daemon: counted in memory_reserve, and spark-env.sh's
// SPARK_DAEMON_MEMORY.
inline constexpr std::uint64_t kSparkDaemonHeap = 512 * kMiB;

// base + "/" + leaf, without doubling a slash base ends with.
inline std::string join_path(const std::string& base, const std::string& leaf) {
    if (base.empty() || base.back() == '/') return base + leaf;
    return base + "/" + leaf;
}

// The HDFS daemons' log4j.properties (ui_login_configs.cpp).
std::string hadoop_log4j_properties();

}  // namespace spark_slurm::plan_internal
