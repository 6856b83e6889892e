// Argv and environment building for each runtime: pure, nothing is run.
#include "runtime/runtime.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/errors.hpp"

namespace spark_slurm {
namespace {

// The user's program (the driver), as the launcher asks the runtime to run it.
Invocation user_program(std::vector<std::string> command) {
    Invocation invocation;
    invocation.command = std::move(command);
    invocation.user_program = true;
    return invocation;
}

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

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;

// A scratch directory for the tests that look at the filesystem, removed at the end.
class ScratchDir {
  public:
    ScratchDir()
        : path_(fs::temp_directory_path() /
                ("spark-slurm-runtime-test-" + std::to_string(::getpid()))) {
        fs::create_directories(path_);
    }
    ~ScratchDir() { fs::remove_all(path_); }
    std::string operator/(const std::string& leaf) const { return (path_ / leaf).string(); }

  private:
    fs::path path_;
};

TEST(Python, PythonChosenOnTheCommandLineIsEveryones) {
    Options options;
    options.python = "/shared/venv/bin/python";
    auto choice = choose_python(options, {{"PYSPARK_PYTHON", "/other"}});
    EXPECT_EQ(choice.driver, "/shared/venv/bin/python");
    EXPECT_EQ(choice.executor, "/shared/venv/bin/python");
    EXPECT_EQ(choice.driver_origin, "--python");
}

TEST(Python, TheEnvironmentIsReadAsSparkReadsIt) {
    auto choice = choose_python({}, {{"PYSPARK_PYTHON", "/e/python"}});
    EXPECT_EQ(choice.driver, "/e/python");
    EXPECT_EQ(choice.executor, "/e/python");
    choice = choose_python({}, {{"PYSPARK_PYTHON", "/e/python"}, {"PYSPARK_DRIVER_PYTHON", "/d"}});
    EXPECT_EQ(choice.driver, "/d");
    EXPECT_EQ(choice.driver_origin, "PYSPARK_DRIVER_PYTHON");
    EXPECT_EQ(choice.executor, "/e/python");
    choice = choose_python({}, {{"PYSPARK_DRIVER_PYTHON", "/d"}});
    EXPECT_EQ(choice.executor, "");
    EXPECT_EQ(choice.executor_origin, "");
    EXPECT_EQ(choose_python({}, {}).driver, "");
}

TEST(Python, ThePrefixOfAVenvOrEnvButNotOfTheSystem) {
    EXPECT_EQ(python_prefix("/shared/me/venv/bin/python"), "/shared/me/venv");
    EXPECT_EQ(python_prefix("/shared/conda/envs/x/bin/python3.11"), "/shared/conda/envs/x");
    EXPECT_EQ(python_prefix("/shared/tools/python"), "/shared/tools");
    EXPECT_EQ(python_prefix("/opt/conda/bin/python"), "/opt/conda");
    EXPECT_EQ(python_prefix("/usr/bin/python3"), "");
    EXPECT_EQ(python_prefix("/usr/local/bin/python3"), "");
    EXPECT_EQ(python_prefix("/bin/python3"), "");
    EXPECT_EQ(python_prefix("python3"), "");
}

TEST(ContainerRuntime, JobWideBindsAndTheSitesBindVariablesReachTheRuntime) {
    auto settings = apptainer_settings();
    settings.binds = {"/shared/submit", "/home/alice", "/scratch/me:/scratch:ro"};
    settings.inherited["APPTAINER_BIND"] = "/site/data";
    settings.inherited["SINGULARITY_BINDPATH"] = "/site/old";
    auto execution = make_runtime(settings)->prepare(master_invocation());
    EXPECT_THAT(execution.argv,
                ElementsAre("/usr/bin/apptainer", "--silent", "exec", "--cleanenv", "--bind",
                            "/home/alice", "--bind", "/home/alice/logs", "--bind",
                            "/scratch/me:/scratch:ro", "--bind", "/shared/submit", "--bind",
                            "/tmp/job", "--pwd", "/tmp/job", "/images/spark.sif", "spark-class",
                            "org.apache.spark.deploy.master.Master", "--port", "7077"));
    EXPECT_EQ(execution.environment.at("APPTAINER_BIND"), "/site/data");
    EXPECT_EQ(execution.environment.at("SINGULARITY_BINDPATH"), "/site/old");
}

TEST(ContainerRuntime, TheUsersProgramGetsTheirPathLibrariesAndPython) {
    auto settings = apptainer_settings();
    settings.inherited["PATH"] = "/sw/tool/bin:/usr/bin";
    settings.inherited["LD_LIBRARY_PATH"] = "/sw/tool/lib";
    settings.driver_python = "/shared/venv/bin/python";
    settings.executor_python = "/shared/venv/bin/python";
    Invocation driver = user_program({"spark-submit", "app.py"});
    auto execution = make_runtime(settings)->prepare(driver);
    EXPECT_EQ(execution.environment.at("APPTAINERENV_APPEND_PATH"), "/sw/tool/bin:/usr/bin");
    EXPECT_EQ(execution.environment.at("APPTAINERENV_LD_LIBRARY_PATH"), "/sw/tool/lib");
    EXPECT_EQ(execution.environment.at("APPTAINERENV_PYSPARK_PYTHON"), "/shared/venv/bin/python");
    EXPECT_EQ(execution.environment.at("APPTAINERENV_PYSPARK_DRIVER_PYTHON"),
              "/shared/venv/bin/python");
    EXPECT_EQ(execution.environment.count("APPTAINERENV_PREPEND_PATH"), 0u);
    // A daemon gets none of it: the image's own environment.
    auto daemon = make_runtime(settings)->prepare(master_invocation());
    for (const char* name : {"APPTAINERENV_APPEND_PATH", "APPTAINERENV_LD_LIBRARY_PATH",
                             "APPTAINERENV_PYSPARK_PYTHON"}) {
        EXPECT_EQ(daemon.environment.count(name), 0u) << name;
    }
}

TEST(ContainerRuntime, AnInstallNamedInTheImageIsFirstOnTheDriversPath) {
    auto settings = apptainer_settings();
    settings.spark_home = "/usr/local/spark-3.5";
    Invocation driver = user_program({"spark-submit"});
    EXPECT_EQ(make_runtime(settings)->prepare(driver).environment.at("APPTAINERENV_PREPEND_PATH"),
              "/usr/local/spark-3.5/bin");
}

TEST(HostRuntime, TheChosenPythonReachesTheDriverOnly) {
    auto settings = host_settings();
    settings.driver_python = "/shared/venv/bin/python";
    settings.executor_python = "/shared/venv/bin/python";
    Invocation driver = user_program({"spark-submit", "app.py"});
    auto execution = make_runtime(settings)->prepare(driver);
    EXPECT_EQ(execution.environment.at("PYSPARK_PYTHON"), "/shared/venv/bin/python");
    EXPECT_EQ(execution.environment.at("PYSPARK_DRIVER_PYTHON"), "/shared/venv/bin/python");
    EXPECT_EQ(execution.environment.at("PATH"), "/opt/spark/bin:/opt/hadoop/bin:/usr/bin");
    // A daemon keeps what the user's environment had.
    EXPECT_EQ(make_runtime(settings)->prepare(master_invocation()).environment.at("PYSPARK_PYTHON"),
              "/usr/bin/python3");
}

TEST(ContainerBinds, WhatExistsHereAndEveryBindAsked) {
    ScratchDir scratch;
    fs::create_directories(scratch / "home");
    fs::create_directories(scratch / "base/bin");
    fs::create_directories(scratch / "venv/bin");
    std::ofstream(scratch / "base/bin/python3.11") << "";
    fs::create_symlink(scratch / "base/bin/python3.11", scratch / "venv/bin/python");
    Options options;
    options.binds = {{"/data", "/data", false}, {"/scratch/me", "/scratch", true}};
    options.python = scratch / "venv/bin/python";
    Environment environment{{"HOME", scratch / "home"},
                            {"SLURM_SUBMIT_DIR", scratch / "no-such-dir"}};
    EXPECT_THAT(
        container_binds(options, environment),
        ::testing::UnorderedElementsAre("/data", "/scratch/me:/scratch:ro", scratch / "home",
                                        scratch / "venv", scratch / "base"));
}

TEST(ContainerBinds, NeverTheRootDirectory) {
    EXPECT_THAT(container_binds({}, {{"HOME", "/"}, {"SLURM_SUBMIT_DIR", "//"}}),
                ::testing::IsEmpty());
}

TEST(ContainerBinds, APythonThatIsNotHereIsOneInTheImage) {
    Options options;
    options.python = "/opt/conda-in-image/bin/python";
    EXPECT_THAT(container_binds(options, {}), ::testing::IsEmpty());
}

TEST(ResolveRuntime, TheHostRuntimeCannotMoveADirectory) {
    Options options;
    options.runtime = RuntimeChoice::None;
    options.binds = {{"/scratch/me", "/scratch", false}};
    try {
        resolve_runtime(options, {});
        ADD_FAILURE() << "accepted";
    } catch (const UsageError& error) {
        EXPECT_THAT(error.what(), ::testing::HasSubstr("--bind /scratch/me:/scratch shows a "
                                                       "directory at another path"));
    }
}

}  // namespace
}  // namespace spark_slurm
