#include "services/services.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/sizes.hpp"
#include "fixtures.hpp"
#include "services/node_check.hpp"

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

// With Kerberos the format reads a conf dir without it (no login, so it runs while the KDC
// starts); the namenode and the other helpers read the node's.
TEST(Services, TheKerberosFormatNeedsNoKdc) {
    PlanInputs inputs = testing::synthetic_inputs(2, {4, 16 * kGiB});
    inputs.options.hdfs_auth = HdfsAuth::Kerberos;
    auto plan = make_plan(inputs);
    const auto& leader = plan.nodes[0];
    EXPECT_EQ(namenode_format_spec(plan, leader).invocation.environment.at("HADOOP_CONF_DIR"),
              leader.conf_dir + "/format");
    EXPECT_EQ(
        daemon_spec(plan, leader, Daemon::Namenode).invocation.environment.at("HADOOP_CONF_DIR"),
        leader.conf_dir);
    inputs.options.hdfs_auth = HdfsAuth::None;
    auto without = make_plan(inputs);
    EXPECT_EQ(namenode_format_spec(without, without.nodes[0])
                  .invocation.environment.at("HADOOP_CONF_DIR"),
              without.nodes[0].conf_dir);
}

// The launcher says where the KDC's source and saved keys are; a container sees both programs'
// directories.
TEST(Services, TheKdcIsToldItsSourceAndWhereToSaveTheRealmsKeys) {
    PlanInputs inputs = testing::synthetic_inputs(2, {4, 16 * kGiB});
    inputs.options.hdfs_auth = HdfsAuth::Kerberos;
    auto plan = make_plan(inputs);
    const KdcProgram program{"/opt/ss/libexec/spark-slurm/spark-slurm-kdc",
                             "/opt/ss/share/spark-slurm/kdc/SparkSlurmKdc.java"};
    const Invocation kdc = kdc_spec(plan, plan.nodes[0], program).invocation;
    EXPECT_EQ(kdc.command.front(), program.script);
    EXPECT_EQ(kdc.environment.at("SPARK_SLURM_KDC_SOURCE"), program.source);
    EXPECT_EQ(kdc.environment.at("SPARK_SLURM_KDC_SAVED_KEYS"), kerberos_names(plan).saved_keys);
    EXPECT_THAT(kdc.binds, Contains("/opt/ss/libexec/spark-slurm"));
    EXPECT_THAT(kdc.binds, Contains("/opt/ss/share/spark-slurm/kdc"));
    const KdcProgram installed = kdc_program();
    EXPECT_TRUE(installed.script.ends_with("/libexec/spark-slurm/spark-slurm-kdc"));
    EXPECT_TRUE(installed.source.ends_with("/share/spark-slurm/kdc/SparkSlurmKdc.java"));
}

// Issue 15: the short helper JVMs start lean (C1 only, serial GC, small heap); the daemons keep
// the full JIT.
TEST(Services, HelperJvmsAreLeanDaemonsAreNot) {
    auto plan = small_plan();
    const std::string lean = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m";
    auto format = namenode_format_spec(plan, plan.nodes[0]).invocation.environment;
    EXPECT_EQ(format["HDFS_NAMENODE_OPTS"], lean);
    // The daemon's own options stay (with Kerberos, the realm's krb5.conf follows them).
    EXPECT_EQ(format["HADOOP_OPTS"].rfind("-Xmx1g -XX:-UsePerfData", 0), 0u);
    auto dfsadmin = dfsadmin_spec(plan, plan.nodes[0], {"-saveNamespace"}).invocation.environment;
    EXPECT_EQ(dfsadmin["HADOOP_CLIENT_OPTS"].rfind("-XX:-UsePerfData " + lean, 0), 0u);
    EXPECT_FALSE(dfsadmin.contains("HADOOP_OPTS"));
    auto namenode = daemon_spec(plan, plan.nodes[0], Daemon::Namenode).invocation.environment;
    EXPECT_FALSE(namenode.contains("HDFS_NAMENODE_OPTS"));
    EXPECT_EQ(namenode["HADOOP_OPTS"].find("TieredStopAtLevel"), std::string::npos);
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
    EXPECT_TRUE(invocation.user_program);
}

TEST(Services, EveryProgramSeesTheJobDirAndItsNodesScratch) {
    auto plan = small_plan();
    plan.state_dir = "/shared/state";
    EXPECT_THAT(
        node_binds(plan, plan.nodes[1]),
        ElementsAre("/tmp/spark-slurm-4242-1", "/home/alice/spark-slurm-4242", "/shared/state"));
    EXPECT_FALSE(daemon_spec(plan, plan.nodes[1], Daemon::SparkWorker).invocation.user_program);
}

TEST(NodeCheck, ThePythonVersionIsTheLastVersionLine) {
    EXPECT_EQ(python_version_in("3.11.2\n"), "3.11.2");
    EXPECT_EQ(python_version_in("WARNING: something\n 3.10.12 \n"), "3.10.12");
    EXPECT_EQ(python_version_in("sh: 1: exec: /x: not found\n"), "");
    EXPECT_EQ(python_version_in(""), "");
}

TEST(NodeCheck, BindSourcesAsEachRuntimeReadsThem) {
    Options options;
    options.binds = {{"/data", "/data", false}, {"/scratch/me", "/scratch", true}};
    Environment environment{{"APPTAINER_BIND", "/site/a:/a,relative,/site/b"},
                            {"SINGULARITY_BIND", "/ignored/by/apptainer"},
                            {"SINGULARITY_BINDPATH", "/site/c:/c:ro"}};
    using Source = std::pair<std::string, std::string>;
    EXPECT_THAT(
        required_bind_sources(options, RuntimeChoice::Apptainer, environment),
        ElementsAre(Source{"/data", "--bind"}, Source{"/scratch/me", "--bind"},
                    Source{"/site/a", "APPTAINER_BIND"}, Source{"/site/b", "APPTAINER_BIND"},
                    Source{"/site/c", "SINGULARITY_BINDPATH"}));
    EXPECT_THAT(required_bind_sources(options, RuntimeChoice::Singularity, environment),
                ElementsAre(Source{"/data", "--bind"}, Source{"/scratch/me", "--bind"},
                            Source{"/ignored/by/apptainer", "SINGULARITY_BIND"},
                            Source{"/site/c", "SINGULARITY_BINDPATH"}));
    EXPECT_THAT(required_bind_sources(options, RuntimeChoice::None, environment),
                ElementsAre(Source{"/data", "--bind"}, Source{"/scratch/me", "--bind"}));
}

// A host "install" and a fake Python in a scratch directory: the whole check, run for real.
class NodeCheckOnThisMachine : public ::testing::Test {
  protected:
    void SetUp() override {
        namespace fs = std::filesystem;
        fs::create_directories(dir_ + "/spark/bin");
        fs::create_directories(dir_ + "/venv/bin");
        executable(dir_ + "/spark/bin/spark-class", "#!/bin/sh\nexit 1\n");
        executable(dir_ + "/venv/bin/python", "#!/bin/sh\necho 3.10.4\n");
        options_.runtime = RuntimeChoice::None;
        options_.hdfs = false;
        environment_ = {
            {"PATH", "/usr/bin:/bin"}, {"SPARK_HOME", dir_ + "/spark"}, {"JAVA_HOME", dir_}};
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    static void executable(const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
        std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    }

    std::string dir_ = "/tmp/spark-slurm-node-check-" + std::to_string(::getpid());
    Options options_;
    Environment environment_;
};

TEST_F(NodeCheckOnThisMachine, RunsTheChosenPython) {
    options_.python = dir_ + "/venv/bin/python";
    NodeReport report;
    check_this_node(report, options_, environment_);
    EXPECT_EQ(report.executor_python.version, "3.10.4");
    EXPECT_EQ(report.executor_python.what, "--python " + dir_ + "/venv/bin/python");
    EXPECT_TRUE(report.executor_python.chosen);
    EXPECT_EQ(report.driver_python, report.executor_python);
    EXPECT_THAT(report.missing_binds, ::testing::IsEmpty());
}

TEST_F(NodeCheckOnThisMachine, TheDriversOwnPythonIsRunToo) {
    environment_["PYSPARK_PYTHON"] = dir_ + "/venv/bin/python";
    environment_["PYSPARK_DRIVER_PYTHON"] = dir_ + "/missing/python";
    NodeReport report;
    check_this_node(report, options_, environment_);
    EXPECT_EQ(report.executor_python.version, "3.10.4");
    EXPECT_EQ(report.driver_python.version, "");
    EXPECT_THAT(report.driver_python.error, ::testing::HasSubstr("missing/python"));
    EXPECT_EQ(report.driver_python.what, "PYSPARK_DRIVER_PYTHON=" + dir_ + "/missing/python");
}

TEST_F(NodeCheckOnThisMachine, MissingBindSourcesAreListed) {
    options_.binds = {{dir_, dir_, false}, {"/no/such/dir", "/no/such/dir", false}};
    NodeReport report;
    check_this_node(report, options_, environment_);
    EXPECT_THAT(report.missing_binds, ElementsAre("/no/such/dir (--bind)"));
}

Plan connect_plan() {
    PlanInputs inputs = testing::synthetic_inputs(2, {4, 16 * kGiB});
    inputs.options.command = Command::Up;
    inputs.options.connect = true;
    inputs.options.memory = 2 * kGiB;
    inputs.connect_token = "connect-token-of-the-job";
    inputs.nodes[0].ports.connect_gateway = 15002;
    inputs.nodes[0].ports.connect_server = 41000;
    return make_plan(inputs);
}

TEST(Services, TheConnectServerListensOnLoopbackWithTheTokenInItsEnvironment) {
    auto plan = connect_plan();
    EXPECT_TRUE(plan.interactive);
    EXPECT_EQ(plan.connect_url, "sc://10.0.0.1:15002/;use_ssl=true");
    auto spec = daemon_spec(plan, plan.leader(), Daemon::ConnectServer);
    const auto& args = spec.invocation.args;
    EXPECT_EQ(spec.invocation.tool, "spark-submit");
    EXPECT_THAT(args, Contains("org.apache.spark.sql.connect.service.SparkConnectServer"));
    EXPECT_THAT(args, Contains("spark.connect.grpc.binding.address=127.0.0.1"));
    EXPECT_THAT(args, Contains("spark.connect.grpc.binding.port=41000"));
    EXPECT_THAT(args, Contains("spark.dynamicAllocation.enabled=true"));
    EXPECT_EQ(args.back(), "spark-internal");
    for (const auto& arg : args) EXPECT_EQ(arg.find("connect-token-of-the-job"), std::string::npos);
    EXPECT_EQ(spec.invocation.environment.at("SPARK_CONNECT_AUTHENTICATE_TOKEN"),
              "connect-token-of-the-job");
    // Started by the leader once the cluster is ready, never among the daemons of a node.
    for (const auto& node : plan.nodes) {
        for (const auto& daemon : daemons_for(plan, node))
            EXPECT_NE(daemon.daemon, Daemon::ConnectServer);
    }
}

TEST(Services, ClientConfigsCarryTheClusterButNothingOfTheLeaderNode) {
    auto plan = connect_plan();
    auto configs = render_client_configs(plan);
    EXPECT_THAT(configs.spark_defaults, ::testing::HasSubstr("spark://10.0.0.1:7077"));
    EXPECT_THAT(configs.spark_defaults, ::testing::HasSubstr(testing::kTestSecret));
    EXPECT_THAT(configs.spark_defaults, ::testing::HasSubstr("hdfs://10.0.0.1:8020"));
    EXPECT_THAT(configs.spark_defaults, ::testing::Not(::testing::HasSubstr("spark.driver.host")));
    EXPECT_THAT(configs.spark_defaults, ::testing::Not(::testing::HasSubstr("/tmp")));
    EXPECT_THAT(configs.core_site, ::testing::HasSubstr("hdfs://10.0.0.1:8020"));
    EXPECT_THAT(configs.spark_defaults,
                ::testing::Not(::testing::HasSubstr("connect-token-of-the-job")));
}

}  // namespace
}  // namespace spark_slurm
