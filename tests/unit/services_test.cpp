#include "services/services.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sizes.hpp"
#include "fixtures.hpp"

namespace spark_slurm {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

Plan small_plan() {
    PlanInputs inputs = testing::synthetic_inputs(2, {4, 16 * kGiB});
    inputs.options.memory = 2 * kGiB;
    return make_plan(inputs);
}

TEST(Services, LeaderRunsNamenodeAndMasterWorkerRunsWorkerAndDatanode) {
    auto plan = small_plan();
    std::vector<Daemon> leader, worker;
    for (const auto& spec : daemons_for(plan, plan.nodes[0])) leader.push_back(spec.daemon);
    for (const auto& spec : daemons_for(plan, plan.nodes[1])) worker.push_back(spec.daemon);
    EXPECT_THAT(leader, ElementsAre(Daemon::Namenode, Daemon::SparkMaster));
    EXPECT_THAT(worker, ElementsAre(Daemon::SparkWorker, Daemon::Datanode));
}

TEST(Services, MasterArgv) {
    auto plan = small_plan();
    auto spec = daemon_spec(plan, plan.nodes[0], Daemon::SparkMaster);
    EXPECT_EQ(spec.invocation.tool, "spark-class");
    EXPECT_THAT(spec.invocation.args,
                ElementsAre("org.apache.spark.deploy.master.Master", "--host", "10.0.0.1", "--port",
                            "7077", "--webui-port", "8080"));
    EXPECT_EQ(spec.log_file, "/home/alice/spark-slurm-4242/logs/cn1-spark-master.log");
    EXPECT_EQ(spec.invocation.environment.at("SPARK_CONF_DIR"), "/tmp/spark-slurm-4242-0/conf");
}

TEST(Services, WorkerArgvCarriesThePlannedCoresAndMemory) {
    auto plan = small_plan();
    auto spec = daemon_spec(plan, plan.nodes[1], Daemon::SparkWorker);
    EXPECT_THAT(spec.invocation.args,
                ElementsAre("org.apache.spark.deploy.worker.Worker", "--host", "10.0.0.2",
                            "--webui-port", "8081", "--cores", "4", "--memory", "2048m",
                            "--work-dir", "/tmp/spark-slurm-4242-1/spark-worker", "--port", "40001",
                            "spark://10.0.0.1:7077"));
    EXPECT_EQ(spec.invocation.environment.at("SPARK_LOCAL_DIRS"),
              "/tmp/spark-slurm-4242-1/spark-local");
}

TEST(Services, HdfsDaemonsAndFormat) {
    auto plan = small_plan();
    EXPECT_THAT(daemon_spec(plan, plan.nodes[0], Daemon::Namenode).invocation.args,
                ElementsAre("namenode"));
    EXPECT_THAT(daemon_spec(plan, plan.nodes[1], Daemon::Datanode).invocation.args,
                ElementsAre("datanode"));
    EXPECT_THAT(namenode_format_spec(plan, plan.nodes[0]).invocation.args,
                ElementsAre("namenode", "-format", "-nonInteractive"));
    EXPECT_TRUE(namenode_needs_format("/nonexistent/name"));
}

TEST(Services, NoSecretOnAnyCommandLineOrEnvironment) {
    auto plan = small_plan();
    for (const auto& node : plan.nodes) {
        for (const auto& spec : daemons_for(plan, node)) {
            for (const auto& arg : spec.invocation.args)
                EXPECT_EQ(arg.find(testing::kTestSecret), std::string::npos);
            for (const auto& [name, value] : spec.invocation.environment)
                EXPECT_EQ(value.find(testing::kTestSecret), std::string::npos);
        }
    }
}

TEST(Services, TheDriverIsToldWhereTheClusterIs) {
    auto plan = small_plan();
    auto invocation = driver_invocation(plan, {"spark-submit", "app.py"}, "/home/alice/work");
    EXPECT_EQ(invocation.environment.at("SPARK_MASTER_URL"), "spark://10.0.0.1:7077");
    EXPECT_EQ(invocation.environment.at("HDFS_URL"), "hdfs://10.0.0.1:8020");
    EXPECT_EQ(invocation.environment.at("SPARK_CONF_DIR"), "/tmp/spark-slurm-4242-0/conf");
    EXPECT_EQ(invocation.environment.at("HADOOP_CONF_DIR"), "/tmp/spark-slurm-4242-0/conf");
    EXPECT_EQ(invocation.environment.at("SPARK_SLURM_WORKERS"), "1");
    EXPECT_EQ(invocation.environment.at("SPARK_SLURM_JOB_DIR"), "/home/alice/spark-slurm-4242");
    EXPECT_EQ(invocation.working_dir, "/home/alice/work");
    EXPECT_THAT(invocation.binds, Contains("/home/alice/work"));
}

}  // namespace
}  // namespace spark_slurm
