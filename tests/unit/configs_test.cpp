// Generated configuration files compared with golden files in tests/data/golden. After an
// intended change, regenerate them with SPARK_SLURM_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/sizes.hpp"
#include "fixtures.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {
namespace {

Plan golden_plan(bool state_dir) {
    PlanInputs inputs = testing::synthetic_inputs(3, {8, 32 * kGiB});
    if (state_dir) inputs.options.state_dir = "/shared/state";
    inputs.secret = "GOLDEN-SECRET";
    return make_plan(inputs);
}

void expect_golden(const std::string& name, const std::string& actual) {
    std::string path = std::string(SPARK_SLURM_TEST_DATA) + "/golden/" + name;
    if (std::getenv("SPARK_SLURM_UPDATE_GOLDEN")) {
        std::ofstream(path) << actual;
        return;
    }
    std::ifstream file(path);
    ASSERT_TRUE(file) << "missing golden file " << path
                      << " (generate with SPARK_SLURM_UPDATE_GOLDEN=1)";
    std::stringstream expected;
    expected << file.rdbuf();
    EXPECT_EQ(actual, expected.str()) << "differs from " << path;
}

TEST(Configs, LeaderFilesMatchGolden) {
    auto plan = golden_plan(false);
    auto files = render_configs(plan, plan.nodes[0]);
    expect_golden("leader/spark-defaults.conf", files.spark_defaults);
    expect_golden("leader/spark-env.sh", files.spark_env);
    expect_golden("leader/core-site.xml", files.core_site);
    expect_golden("leader/hdfs-site.xml", files.hdfs_site);
}

TEST(Configs, WorkerFilesMatchGolden) {
    auto plan = golden_plan(false);
    auto files = render_configs(plan, plan.nodes[1]);
    expect_golden("worker/spark-defaults.conf", files.spark_defaults);
    expect_golden("worker/spark-env.sh", files.spark_env);
    expect_golden("worker/core-site.xml", files.core_site);
    expect_golden("worker/hdfs-site.xml", files.hdfs_site);
}

TEST(Configs, StateDirFilesMatchGolden) {
    auto plan = golden_plan(true);
    auto files = render_configs(plan, plan.nodes[0]);
    expect_golden("state-dir/spark-defaults.conf", files.spark_defaults);
    expect_golden("state-dir/hdfs-site.xml", files.hdfs_site);
}

TEST(Configs, TheSecretIsOnlyInSparkDefaults) {
    auto plan = golden_plan(false);
    auto files = render_configs(plan, plan.nodes[1]);
    EXPECT_NE(files.spark_defaults.find("GOLDEN-SECRET"), std::string::npos);
    for (const auto* other : {&files.spark_env, &files.core_site, &files.hdfs_site}) {
        EXPECT_EQ(other->find("GOLDEN-SECRET"), std::string::npos);
    }
}

}  // namespace
}  // namespace spark_slurm
