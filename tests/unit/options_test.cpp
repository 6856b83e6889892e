#include "options/options.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/errors.hpp"
#include "common/sizes.hpp"

namespace spark_slurm {
namespace {

using ::testing::HasSubstr;

Options parse(std::vector<std::string> args, Environment environment = {}) {
    auto parsed = parse_command_line(args, environment);
    EXPECT_EQ(parsed.action, ParsedCommandLine::Action::Proceed);
    return parsed.options;
}

std::string rejection(std::vector<std::string> args, Environment environment = {}) {
    try {
        parse_command_line(args, environment);
    } catch (const UsageError& error) {
        std::string message = error.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
        return message;
    }
    ADD_FAILURE() << "accepted";
    return "";
}

class TempFile {
  public:
    explicit TempFile(const std::string& text)
        : path_(std::filesystem::temp_directory_path() /
                ("spark-slurm-test-" + std::to_string(::getpid()) + ".ini")) {
        std::ofstream(path_) << text;
    }
    ~TempFile() { std::filesystem::remove(path_); }
    std::string path() const { return path_.string(); }

  private:
    std::filesystem::path path_;
};

TEST(Options, RunTakesTheDriverAfterTheSeparator) {
    auto options = parse({"run", "--workers", "2", "--", "spark-submit", "--verbose", "app.py"});
    EXPECT_EQ(options.command, Command::Run);
    EXPECT_EQ(options.workers, 2u);
    EXPECT_EQ(options.driver, (std::vector<std::string>{"spark-submit", "--verbose", "app.py"}));
}

TEST(Options, DefaultsLeaveDetectionToTheLauncher) {
    auto options = parse({"run", "--", "true"});
    EXPECT_FALSE(options.workers);
    EXPECT_FALSE(options.cores);
    EXPECT_FALSE(options.memory);
    EXPECT_TRUE(options.hdfs);
    EXPECT_FALSE(options.worker_on_leader);
    EXPECT_EQ(options.runtime, RuntimeChoice::Auto);
    EXPECT_EQ(options.ready_timeout_seconds, 300u);
}

TEST(Options, EveryValueIsParsed) {
    auto options = parse({"run",
                          "--cores",
                          "8",
                          "--memory",
                          "16G",
                          "--disk",
                          "1T",
                          "--leader-ip",
                          "10.0.0.1",
                          "--no-hdfs",
                          "--worker-on-leader",
                          "--runtime",
                          "apptainer",
                          "--sudo",
                          "--image",
                          "/i.sif",
                          "--work-dir",
                          "/local",
                          "--state-dir",
                          "/shared/state",
                          "--job-dir",
                          "/shared/job",
                          "--ready-timeout",
                          "60",
                          "--",
                          "x"});
    EXPECT_EQ(options.cores, 8u);
    EXPECT_EQ(options.memory, 16 * kGiB);
    EXPECT_EQ(options.disk, kTiB);
    EXPECT_EQ(options.leader_ip, "10.0.0.1");
    EXPECT_FALSE(options.hdfs);
    EXPECT_TRUE(options.worker_on_leader);
    EXPECT_EQ(options.runtime, RuntimeChoice::Apptainer);
    EXPECT_TRUE(options.sudo);
    EXPECT_EQ(options.image, "/i.sif");
    EXPECT_EQ(options.work_dir, "/local");
    EXPECT_EQ(options.state_dir, "/shared/state");
    EXPECT_EQ(options.job_dir, "/shared/job");
    EXPECT_EQ(options.ready_timeout_seconds, 60u);
}

TEST(Options, CommandLineBeatsConfigFileBeatsEnvironment) {
    TempFile config("workers = 3\ncores = 4\n");
    Environment environment{
        {"SPARK_SLURM_NUM_WORKERS", "5"}, {"SPARK_SLURM_CORES", "6"}, {"SPARK_SLURM_MEMORY", "2G"}};
    auto options =
        parse({"run", "--config", config.path(), "--workers", "2", "--", "x"}, environment);
    EXPECT_EQ(options.workers, 2u);       // command line
    EXPECT_EQ(options.cores, 4u);         // config file
    EXPECT_EQ(options.memory, 2 * kGiB);  // environment
}

TEST(Options, ConfigFileFromTheEnvironmentAndFlagsInIt) {
    TempFile config("no-hdfs = true\nworker-on-leader = 1\n");
    auto options = parse({"run", "--", "x"}, {{"SPARK_SLURM_CONFIG", config.path()}});
    EXPECT_FALSE(options.hdfs);
    EXPECT_TRUE(options.worker_on_leader);
}

TEST(Options, DriverVariablesAreNotReadBack) {
    // SPARK_SLURM_WORKERS is what the driver is given (a count); it must not become --workers.
    auto options =
        parse({"run", "--", "x"}, {{"SPARK_SLURM_WORKERS", "7"}, {"SPARK_SLURM_JOB_DIR", "/j"}});
    EXPECT_FALSE(options.workers);
    EXPECT_FALSE(options.job_dir);
}

TEST(Options, AnInheritedImageIsDroppedForTheHostRuntime) {
    auto options =
        parse({"run", "--runtime", "none", "--", "x"}, {{"SPARK_SLURM_IMAGE", "/site/spark.sif"}});
    EXPECT_FALSE(options.image);
}

TEST(Options, HelpAndVersionAreText) {
    auto help = parse_command_line({"run", "--help"}, {});
    EXPECT_EQ(help.action, ParsedCommandLine::Action::PrintText);
    EXPECT_THAT(help.text, HasSubstr("--ready-timeout"));
    EXPECT_THAT(help.text, HasSubstr("[default:"));
    EXPECT_THAT(help.text, HasSubstr("SPARK_SLURM_IMAGE"));
    EXPECT_THAT(parse_command_line({"--version"}, {}).text, HasSubstr("spark-slurm "));
    EXPECT_THAT(parse_command_line({"--help"}, {}).text, HasSubstr("plan"));
    EXPECT_THAT(parse_command_line({"help", "plan"}, {}).text, HasSubstr("--nodes"));
}

TEST(Options, RejectsBadCounts) {
    EXPECT_THAT(rejection({"run", "--workers", "0", "--", "x"}), HasSubstr("--workers '0'"));
    EXPECT_THAT(rejection({"run", "--workers", "-3", "--", "x"}), HasSubstr("--workers '-3'"));
    EXPECT_THAT(rejection({"run", "--workers", "abc", "--", "x"}), HasSubstr("whole number >= 1"));
    EXPECT_THAT(rejection({"run", "--cores", "1.5", "--", "x"}), HasSubstr("--cores"));
    EXPECT_THAT(rejection({"run", "--ready-timeout", "0", "--", "x"}),
                HasSubstr("--ready-timeout"));
}

TEST(Options, RejectsBadSizes) {
    EXPECT_THAT(rejection({"run", "--memory", "12Q", "--", "x"}), HasSubstr("'12Q' is not a size"));
    EXPECT_THAT(rejection({"run", "--memory", "0", "--", "x"}), HasSubstr("'0' is not a size"));
    EXPECT_THAT(rejection({"run", "--disk", "lots", "--", "x"}), HasSubstr("--disk"));
}

TEST(Options, RejectsEnvironmentValuesByName) {
    EXPECT_THAT(rejection({"run", "--", "x"}, {{"SPARK_SLURM_MEMORY", "huge"}}),
                HasSubstr("--memory 'huge'"));
}

TEST(Options, RejectsUnknownOptionsAndCommands) {
    EXPECT_THAT(rejection({"run", "--wrokers", "2", "--", "x"}), HasSubstr("unrecognised option"));
    EXPECT_THAT(rejection({"launch"}), HasSubstr("unknown command 'launch'"));
    EXPECT_THAT(rejection({}), HasSubstr("no command"));
    EXPECT_THAT(rejection({"run", "app.py"}), HasSubstr("after '--'"));
    EXPECT_THAT(rejection({"run", "--json", "--", "x"}), HasSubstr("unrecognised option"));
}

TEST(Options, RejectsContradictions) {
    EXPECT_THAT(rejection({"run"}), HasSubstr("no driver command"));
    EXPECT_THAT(rejection({"plan", "--", "x"}), HasSubstr("takes no command"));
    EXPECT_THAT(
        rejection({"run", "--image", "a", "--spark-image", "b", "--hadoop-image", "c", "--", "x"}),
        HasSubstr("cannot be combined"));
    EXPECT_THAT(rejection({"run", "--spark-image", "b", "--", "x"}), HasSubstr("--hadoop-image"));
    EXPECT_THAT(rejection({"run", "--runtime", "docker", "--", "x"}),
                HasSubstr("apptainer, singularity or none"));
    EXPECT_THAT(rejection({"run", "--runtime", "none", "--image", "/i.sif", "--", "x"}),
                HasSubstr("takes no image"));
    EXPECT_THAT(rejection({"run", "--leader-ip", "node1", "--", "x"}),
                HasSubstr("not an IP address"));
    EXPECT_THAT(rejection({"run", "--leader-ip", "fd00::1", "--", "x"}), HasSubstr("IPv4 only"));
    EXPECT_THAT(rejection({"run", "--work-dir", "relative", "--", "x"}),
                HasSubstr("absolute path"));
    EXPECT_THAT(rejection({"plan", "--cores-per-node", "4"}), HasSubstr("--nodes"));
}

TEST(Options, RejectsConfigFilesThatDoNotParse) {
    TempFile config("workers: 3\n");
    EXPECT_THAT(rejection({"run", "--config", config.path(), "--", "x"}), HasSubstr("config file"));
    TempFile unknown("colour = blue\n");
    EXPECT_THAT(rejection({"run", "--config", unknown.path(), "--", "x"}), HasSubstr("colour"));
    EXPECT_THAT(rejection({"run", "--config", "/does/not/exist", "--", "x"}),
                HasSubstr("cannot read"));
}

TEST(Options, BindsInApptainersSyntaxAddUpFromEverySource) {
    TempFile config("bind = /from/config\n");
    auto options = parse({"run", "--config", config.path(), "--bind", "/data/",
                          "--bind=/scratch/me:/scratch:ro,/proj/x:/x:rw", "--", "x"},
                         {{"SPARK_SLURM_BIND", "/from/env"}});
    std::vector<std::string> specs;
    for (const auto& bind : options.binds) specs.push_back(bind.spec());
    EXPECT_THAT(specs, ::testing::UnorderedElementsAre("/data", "/scratch/me:/scratch:ro",
                                                       "/proj/x:/x", "/from/config", "/from/env"));
    EXPECT_EQ(options.binds[0], (BindMount{"/data", "/data", false}));
    EXPECT_EQ(options.binds[1], (BindMount{"/scratch/me", "/scratch", true}));
}

TEST(Options, RejectsBindsOutsideApptainersSyntax) {
    EXPECT_THAT(rejection({"run", "--bind", "data", "--", "x"}),
                HasSubstr("--bind 'data' does not start with an absolute source path; write "
                          "SRC[:DST[:ro]]"));
    EXPECT_THAT(rejection({"run", "--bind", "/a:b", "--", "x"}), HasSubstr("destination"));
    EXPECT_THAT(rejection({"run", "--bind", "/a:", "--", "x"}), HasSubstr("destination"));
    EXPECT_THAT(rejection({"run", "--bind", "/a:/b:rx", "--", "x"}), HasSubstr("option 'rx'"));
    EXPECT_THAT(rejection({"run", "--bind", "/a:/b:ro:x", "--", "x"}), HasSubstr("three"));
    EXPECT_THAT(rejection({"run", "--bind", ",", "--", "x"}), HasSubstr("--bind is empty"));
    EXPECT_THAT(rejection({"run", "--", "x"}, {{"SPARK_SLURM_BIND", "rel"}}),
                HasSubstr("--bind 'rel'"));
}

TEST(Options, PythonIsAnAbsolutePathOrACommand) {
    EXPECT_EQ(parse({"run", "--python", "/shared/venv/bin/python", "--", "x"}).python,
              "/shared/venv/bin/python");
    EXPECT_EQ(parse({"run", "--", "x"}, {{"SPARK_SLURM_PYTHON", "python3.11"}}).python,
              "python3.11");
    EXPECT_FALSE(parse({"run", "--", "x"}).python);
    EXPECT_THAT(rejection({"run", "--python", "venv/bin/python", "--", "x"}),
                HasSubstr("--python 'venv/bin/python' must be an absolute path"));
}

TEST(Options, HdfsAuthIsKerberosUnlessChosen) {
    auto defaults = parse({"run", "--", "x"});
    EXPECT_EQ(defaults.hdfs_auth, HdfsAuth::Kerberos);
    auto none = parse({"run", "--hdfs-auth", "none", "--", "x"});
    EXPECT_EQ(none.hdfs_auth, HdfsAuth::None);
    auto kerberos = parse({"up"}, {{"SPARK_SLURM_HDFS_AUTH", "kerberos"}});
    EXPECT_EQ(kerberos.hdfs_auth, HdfsAuth::Kerberos);
    EXPECT_EQ(parse({"plan", "--hdfs-auth", "none"}).hdfs_auth, HdfsAuth::None);
}

TEST(Options, WireEncryptionIsOffUnlessTurnedOn) {
    EXPECT_FALSE(parse({"run", "--", "x"}).wire_encryption);
    EXPECT_TRUE(parse({"run", "--wire-encryption", "on", "--", "x"}).wire_encryption);
    EXPECT_FALSE(parse({"run", "--wire-encryption", "off", "--", "x"}).wire_encryption);
    EXPECT_FALSE(parse({"up"}, {{"SPARK_SLURM_WIRE_ENCRYPTION", "off"}}).wire_encryption);
    EXPECT_TRUE(parse({"plan", "--wire-encryption", "on"}).wire_encryption);
    EXPECT_THAT(rejection({"run", "--wire-encryption", "yes", "--", "x"}),
                HasSubstr("--wire-encryption 'yes' is not known; use on or off"));
}

TEST(Options, RejectsUnknownHdfsAuth) {
    EXPECT_THAT(rejection({"run", "--hdfs-auth", "simple", "--", "x"}),
                HasSubstr("--hdfs-auth 'simple' is not known; use kerberos or none"));
}

TEST(Options, PlanPreview) {
    auto options = parse({"plan", "--nodes", "1000", "--cores-per-node", "64", "--memory-per-node",
                          "256G", "--json"});
    EXPECT_EQ(options.command, Command::Plan);
    EXPECT_EQ(options.preview_nodes, 1000u);
    EXPECT_EQ(options.preview_cores_per_node, 64u);
    EXPECT_EQ(options.preview_memory_per_node, 256 * kGiB);
    EXPECT_TRUE(options.json);
}

TEST(Options, UpHoldsTheClusterWithSparkConnect) {
    auto options = parse({"up", "--workers", "2"});
    EXPECT_EQ(options.command, Command::Up);
    EXPECT_TRUE(options.connect);
    EXPECT_TRUE(options.driver.empty());
    EXPECT_EQ(options.stop_before_end_seconds, 90u);
    EXPECT_FALSE(parse({"up", "--no-connect"}).connect);
    EXPECT_EQ(parse({"up", "--stop-before-end", "300"}).stop_before_end_seconds, 300u);
    EXPECT_EQ(parse({"up"}, {{"SPARK_SLURM_STOP_BEFORE_END", "45"}}).stop_before_end_seconds, 45u);
}

TEST(Options, RunStartsSparkConnectOnlyWhenAsked) {
    EXPECT_FALSE(parse({"run", "--", "true"}).connect);
    EXPECT_TRUE(parse({"run", "--connect", "--", "true"}).connect);
}

TEST(Options, UpRejectionsNameTheFix) {
    EXPECT_THAT(rejection({"up", "--", "spark-submit", "app.py"}),
                HasSubstr("use 'spark-slurm run -- COMMAND'"));
    EXPECT_THAT(rejection({"run", "--no-connect", "--", "true"}),
                HasSubstr("--no-connect is for 'up'"));
    EXPECT_THAT(rejection({"up", "--connect", "--no-connect"}), HasSubstr("choose one"));
    EXPECT_THAT(rejection({"up", "--stop-before-end", "0"}), HasSubstr("--stop-before-end"));
    EXPECT_THAT(rejection({"plan", "--stop-before-end", "60"}), HasSubstr("stop-before-end"));
}

TEST(Options, UpHasItsOwnHelp) {
    auto parsed = parse_command_line({"up", "--help"}, {});
    EXPECT_EQ(parsed.action, ParsedCommandLine::Action::PrintText);
    EXPECT_THAT(parsed.text, HasSubstr("spark-slurm up [OPTIONS]"));
    EXPECT_THAT(parsed.text, HasSubstr("spark-slurm down"));
    EXPECT_THAT(parsed.text, HasSubstr("--stop-before-end"));
    EXPECT_THAT(parse_command_line({"--help"}, {}).text, HasSubstr("up      start the cluster"));
}

}  // namespace
}  // namespace spark_slurm

namespace spark_slurm {
namespace {

TEST(ClientOptions, JobJsonAndTimeout) {
    auto env = parse({"env", "--job", "4294967295"});
    EXPECT_EQ(env.command, Command::Env);
    EXPECT_EQ(env.job_id, 4294967295u);
    EXPECT_FALSE(parse({"status"}).job_id);
    EXPECT_TRUE(parse({"status", "--json"}).json);
    EXPECT_TRUE(parse({"list", "--json"}).json);
    EXPECT_TRUE(parse({"ui", "--browser"}).browser);
    EXPECT_FALSE(parse({"ui"}).browser);
    EXPECT_THAT(rejection({"status", "--browser"}), HasSubstr("unrecognised option '--browser'"));
    EXPECT_EQ(parse({"down"}).down_timeout_seconds, 120u);
    EXPECT_EQ(parse({"down", "--job", "7", "--timeout", "30"}).down_timeout_seconds, 30u);
}

TEST(ClientOptions, Rejections) {
    EXPECT_THAT(rejection({"env", "--job", "abc"}),
                HasSubstr("spark-slurm env: --job 'abc' is not a Slurm job id"));
    EXPECT_THAT(rejection({"down", "--job", "0"}), HasSubstr("--job '0' is not a Slurm job id"));
    EXPECT_THAT(rejection({"status", "--job", "4294967296"}), HasSubstr("is not a Slurm job id"));
    EXPECT_THAT(rejection({"env", "--json"}), HasSubstr("unrecognised option '--json'"));
    EXPECT_THAT(rejection({"list", "--job", "3"}), HasSubstr("unrecognised option '--job'"));
    EXPECT_THAT(rejection({"env", "--workers", "3"}), HasSubstr("unrecognised option"));
    EXPECT_THAT(rejection({"down", "--timeout", "0"}),
                HasSubstr("--timeout '0' is not a whole number of seconds"));
    EXPECT_THAT(rejection({"status", "12"}), HasSubstr("give a job id with --job ID"));
    EXPECT_THAT(rejection({"down", "--", "x"}), HasSubstr("takes no command after '--'"));
}

TEST(ClientOptions, HelpForEachClient) {
    for (const char* command : {"env", "status", "list", "down"}) {
        auto parsed = parse_command_line({"help", command}, {});
        EXPECT_EQ(parsed.action, ParsedCommandLine::Action::PrintText);
        EXPECT_THAT(parsed.text, HasSubstr(std::string("Usage: spark-slurm ") + command));
        EXPECT_THAT(parse_command_line({"--help"}, {}).text,
                    HasSubstr(std::string("\n  ") + command + " "));
    }
}

TEST(Options, HistoryTakesJobIdsAndAPort) {
    auto options = parse({"history", "123", "--port", "18080", "456"});
    EXPECT_EQ(options.command, Command::History);
    EXPECT_EQ(options.history_jobs, (std::vector<std::uint32_t>{123, 456}));
    EXPECT_EQ(options.port, 18080);
    EXPECT_FALSE(options.hdfs);
    auto everything = parse({"history", "--job-dir", "/shared/me/run1"});
    EXPECT_TRUE(everything.history_jobs.empty());
    EXPECT_EQ(everything.job_dir, "/shared/me/run1");
    EXPECT_FALSE(everything.port);
    // A Spark image alone is enough: the history server needs no Hadoop.
    EXPECT_EQ(parse({"history", "--spark-image", "/s.sif"}).spark_image, "/s.sif");
    EXPECT_THAT(parse_command_line({"help", "history"}, {}).text, HasSubstr("~/.spark-slurm"));
    EXPECT_THAT(parse_command_line({"--help"}, {}).text, HasSubstr("history"));
}

TEST(Options, HistoryRejectsWhatIsNotAJobOrAPort) {
    EXPECT_THAT(rejection({"history", "12a"}), HasSubstr("'12a' is not a job id"));
    EXPECT_THAT(rejection({"history", "0"}), HasSubstr("'0' is not a job id"));
    EXPECT_THAT(rejection({"history", "99999999999"}), HasSubstr("is not a job id"));
    EXPECT_THAT(rejection({"history", "--port", "70000"}), HasSubstr("is not a TCP port"));
    EXPECT_THAT(rejection({"history", "--port", "0"}), HasSubstr("--port '0'"));
    EXPECT_THAT(rejection({"history", "--workers", "2"}), HasSubstr("unrecognised option"));
    EXPECT_THAT(rejection({"history", "--", "x"}), HasSubstr("takes no command"));
    EXPECT_THAT(rejection({"history", "--job-dir", "rel"}), HasSubstr("absolute path"));
    EXPECT_THAT(rejection({"run", "--port", "1", "--", "x"}), HasSubstr("unrecognised option"));
}

TEST(Options, EventLogsAreOnUnlessTurnedOff) {
    EXPECT_TRUE(parse({"run", "--", "x"}).event_log);
    EXPECT_FALSE(parse({"run", "--no-event-log", "--", "x"}).event_log);
    EXPECT_FALSE(parse({"plan", "--nodes", "2"}, {{"SPARK_SLURM_NO_EVENT_LOG", "1"}}).event_log);
}

TEST(Options, ClassArchivesAreOnUnlessTurnedOff) {
    EXPECT_TRUE(parse({"run", "--", "x"}).cds);
    EXPECT_FALSE(parse({"run", "--no-cds", "--", "x"}).cds);
    EXPECT_FALSE(parse({"up"}, {{"SPARK_SLURM_NO_CDS", "1"}}).cds);
    EXPECT_THAT(rejection({"plan", "--no-cds"}), HasSubstr("unrecognised option"));
}

}  // namespace
}  // namespace spark_slurm
