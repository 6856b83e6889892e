// Argv and environment building for each runtime: pure, nothing is run.
#include "runtime/runtime.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace spark_slurm {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

Invocation master_invocation() {
    Invocation invocation;
    invocation.install = Install::Spark;
    invocation.tool = "spark-class";
    invocation.args = {"org.apache.spark.deploy.master.Master", "--port", "7077"};
    invocation.environment = {{"SPARK_CONF_DIR", "/tmp/job/conf"}};
    invocation.binds = {"/tmp/job", "/home/alice/logs", "/tmp/job"};
    invocation.working_dir = "/tmp/job";
    return invocation;
}

RuntimeSettings host_settings() {
    RuntimeSettings settings;
    settings.kind = RuntimeChoice::None;
    settings.spark_home = "/opt/spark";
    settings.hadoop_home = "/opt/hadoop";
    settings.java_home = "/usr/lib/jvm/java-17";
    settings.inherited = {{"PATH", "/usr/bin"}, {"PYSPARK_PYTHON", "/usr/bin/python3"}};
    return settings;
}

RuntimeSettings apptainer_settings() {
    RuntimeSettings settings;
    settings.kind = RuntimeChoice::Apptainer;
    settings.executable = "/usr/bin/apptainer";
    settings.spark_image = "/images/spark.sif";
    settings.hadoop_image = "/images/hadoop.sif";
    settings.inherited = {{"PATH", "/usr/bin"}, {"HOME", "/home/alice"}, {"SECRET_TOKEN", "x"}};
    return settings;
}

TEST(HostRuntime, RunsTheToolOfTheInstallWithTheUsersEnvironment) {
    auto execution = make_runtime(host_settings())->prepare(master_invocation());
    EXPECT_THAT(execution.argv,
                ElementsAre("/opt/spark/bin/spark-class", "org.apache.spark.deploy.master.Master",
                            "--port", "7077"));
    EXPECT_EQ(execution.environment.at("SPARK_HOME"), "/opt/spark");
    EXPECT_EQ(execution.environment.at("JAVA_HOME"), "/usr/lib/jvm/java-17");
    EXPECT_EQ(execution.environment.at("SPARK_CONF_DIR"), "/tmp/job/conf");
    EXPECT_EQ(execution.environment.at("PYSPARK_PYTHON"), "/usr/bin/python3");
    EXPECT_EQ(execution.environment.at("PATH"), "/opt/spark/bin:/opt/hadoop/bin:/usr/bin");
    EXPECT_EQ(execution.working_dir, "/tmp/job");
}

TEST(HostRuntime, HadoopToolsComeFromHadoopHome) {
    Invocation invocation;
    invocation.install = Install::Hadoop;
    invocation.tool = "hdfs";
    invocation.args = {"namenode"};
    auto execution = make_runtime(host_settings())->prepare(invocation);
    EXPECT_THAT(execution.argv, ElementsAre("/opt/hadoop/bin/hdfs", "namenode"));
}

TEST(HostRuntime, TheDriverIsTheUsersCommand) {
    Invocation invocation;
    invocation.command = {"spark-submit", "app.py"};
    invocation.args = {"--extra"};
    auto execution = make_runtime(host_settings())->prepare(invocation);
    EXPECT_THAT(execution.argv, ElementsAre("spark-submit", "app.py", "--extra"));
}

TEST(ContainerRuntime, ExecCleanEnvWithBindsAndTheImage) {
    auto execution = make_runtime(apptainer_settings())->prepare(master_invocation());
    EXPECT_THAT(execution.argv,
                ElementsAre("/usr/bin/apptainer", "--silent", "exec", "--cleanenv", "--bind",
                            "/home/alice/logs", "--bind", "/tmp/job", "--pwd", "/tmp/job",
                            "/images/spark.sif", "spark-class",
                            "org.apache.spark.deploy.master.Master", "--port", "7077"));
}

TEST(ContainerRuntime, VariablesTravelInTheEnvironmentNotOnTheCommandLine) {
    auto execution = make_runtime(apptainer_settings())->prepare(master_invocation());
    EXPECT_EQ(execution.environment.at("APPTAINERENV_SPARK_CONF_DIR"), "/tmp/job/conf");
    EXPECT_EQ(execution.environment.count("SECRET_TOKEN"), 0u);
    EXPECT_EQ(execution.environment.at("HOME"), "/home/alice");
    for (const auto& arg : execution.argv) EXPECT_EQ(arg.find("SPARK_CONF_DIR"), std::string::npos);
}

TEST(ContainerRuntime, HadoopDaemonsUseTheHadoopImage) {
    Invocation invocation;
    invocation.install = Install::Hadoop;
    invocation.tool = "hdfs";
    auto execution = make_runtime(apptainer_settings())->prepare(invocation);
    EXPECT_THAT(execution.argv, Contains("/images/hadoop.sif"));
    EXPECT_THAT(execution.argv, Not(Contains("/images/spark.sif")));
}

TEST(ContainerRuntime, SingularityUsesItsOwnPrefix) {
    auto settings = apptainer_settings();
    settings.kind = RuntimeChoice::Singularity;
    settings.executable = "/usr/bin/singularity";
    auto execution = make_runtime(settings)->prepare(master_invocation());
    EXPECT_EQ(execution.argv.front(), "/usr/bin/singularity");
    EXPECT_EQ(execution.environment.at("SINGULARITYENV_SPARK_CONF_DIR"), "/tmp/job/conf");
}

TEST(ContainerRuntime, SudoPrefixesTheRuntime) {
    auto settings = apptainer_settings();
    settings.sudo = true;
    auto execution = make_runtime(settings)->prepare(master_invocation());
    EXPECT_THAT(std::vector<std::string>(execution.argv.begin(), execution.argv.begin() + 4),
                ElementsAre("sudo", "-n", "--preserve-env", "/usr/bin/apptainer"));
}

}  // namespace
}  // namespace spark_slurm

namespace spark_slurm {
namespace {

TEST(ContainerRuntime, AHomeInsideTheImageOverridesTheImagesOwn) {
    auto settings = apptainer_settings();
    settings.spark_home = "/usr/local/spark-3.5";
    auto execution = make_runtime(settings)->prepare(master_invocation());
    EXPECT_THAT(execution.argv, Contains("/usr/local/spark-3.5/bin/spark-class"));
    EXPECT_EQ(execution.environment.at("APPTAINERENV_SPARK_HOME"), "/usr/local/spark-3.5");
}

}  // namespace
}  // namespace spark_slurm
