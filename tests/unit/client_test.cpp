// The clients' pure parts: env's exports (checked through a real sh), status text and JSON from
// answers recorded from the real daemons (tests/data/recorded), list's table and JSON, the
// lookup's messages, and the clients' options.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/cluster_lookup.hpp"
#include "client/env_command.hpp"
#include "client/list_command.hpp"
#include "client/status_command.hpp"
#include "client/ui_command.hpp"
#include "common/errors.hpp"
#include "fixtures.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string recorded(const std::string& name) {
    std::ifstream file(std::string(SPARK_SLURM_TEST_DATA) + "/recorded/" + name);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// What sh sees after evaluating `exports`, then running `script`.
std::string in_shell(const std::string& exports, const std::string& script) {
    SpawnRequest request;
    request.argv = {"/bin/sh", "-c", exports + script};
    request.environment = {{"PATH", "/usr/bin:/bin"}, {"SPARK_REMOTE", "stale"}};
    auto run = run_captured(request, "sh", std::chrono::seconds(10));
    EXPECT_EQ(run.status, 0) << run.output;
    return run.output;
}

TEST(ShellQuote, HarmlessWordsStayBareOthersAreSingleQuoted) {
    EXPECT_EQ(shell_quote("spark://10.0.0.1:7077"), "spark://10.0.0.1:7077");
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("$(touch /tmp/x);`id`"), "'$(touch /tmp/x);`id`'");
    EXPECT_EQ(shell_quote("sc://h:1/;use_ssl=true;token=x"), "'sc://h:1/;use_ssl=true;token=x'");
}

TEST(Env, EveryVariableWithConnectHdfsAndAHostSpark) {
    EnvInputs inputs;
    inputs.record = testing::sample_record();
    inputs.record_dir = "/home/alice/.spark-slurm/clusters/4242";
    inputs.local_ip = "10.213.77.1";
    inputs.connect_token = "t0k'en $x";
    inputs.spark_home_here = true;
    inputs.path = "/usr/bin:/bin";
    std::string exports = format_exports(env_variables(inputs));
    EXPECT_THAT(exports, HasSubstr("export SPARK_MASTER_URL=spark://10.213.77.11:7077\n"));
    EXPECT_THAT(exports, HasSubstr("export SPARK_CONF_DIR=/home/alice/.spark-slurm/clusters/"
                                   "4242/spark-conf\n"));
    std::string seen = in_shell(
        exports,
        "\nprintf '%s|' \"$SPARK_CONF_DIR\" \"$HADOOP_CONF_DIR\" \"$SPARK_MASTER_URL\" "
        "\"$HDFS_URL\" \"$SPARK_SLURM_JOB_ID\" \"$SPARK_REMOTE\" "
        "\"$GRPC_DEFAULT_SSL_ROOTS_FILE_PATH\" \"$SPARK_LOCAL_IP\" \"$SPARK_LOCAL_HOSTNAME\" "
        "\"$SPARK_HOME\" \"$PATH\"");
    EXPECT_EQ(seen,
              "/home/alice/.spark-slurm/clusters/4242/spark-conf|"
              "/home/alice/.spark-slurm/clusters/4242/hadoop-conf|spark://10.213.77.11:7077|"
              "hdfs://10.213.77.11:8020|4242|"
              "sc://10.213.77.11:15002/;use_ssl=true;token=t0k'en $x|"
              "/home/alice/.spark-slurm/clusters/4242/connect-ca.pem|127.0.0.1|10.213.77.1|"
              "/opt/spark dist|/home/alice/.spark-slurm/clusters/4242/bin:/opt/spark "
              "dist/bin:/usr/bin:/bin|");
    // Evaluated twice (a second `eval`), PATH does not grow.
    inputs.path = "/home/alice/.spark-slurm/clusters/4242/bin:/opt/spark dist/bin:/usr/bin:/bin";
    EXPECT_THAT(format_exports(env_variables(inputs)),
                HasSubstr("export PATH='/home/alice/.spark-slurm/clusters/4242/bin:/opt/spark "
                          "dist/bin:/usr/bin:/bin'\n"));
}

TEST(Env, WithoutConnectOrHdfsTheirVariablesAreUnset) {
    EnvInputs inputs;
    inputs.record = testing::sample_record();
    inputs.record.hdfs_url = "";
    inputs.record.connect_url = "";
    inputs.record_dir = "/h/4242";
    std::string exports = format_exports(env_variables(inputs));
    for (const char* name :
         {"HDFS_URL", "HADOOP_CONF_DIR", "SPARK_REMOTE", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"}) {
        EXPECT_THAT(exports, HasSubstr(std::string("unset ") + name + "\n"));
    }
    EXPECT_THAT(exports, Not(HasSubstr("SPARK_HOME")));
    EXPECT_THAT(exports, Not(HasSubstr("PATH=")));
    EXPECT_EQ(in_shell(exports, "\nprintf '%s' \"${SPARK_REMOTE-unset}\""), "unset");
}

ClusterStatus answered_status() {
    ClusterStatus status;
    status.record = testing::sample_record();
    status.master = parse_master_json(recorded("spark-master.json"));
    status.namenode = parse_namenode_jmx(recorded("namenode-fsnamesystemstate.json"));
    status.end_time = status.record.end_time;
    status.now = status.record.ready_at + 3725;
    status.login_host = "login1.example.org";
    return status;
}

TEST(Status, JsonFromRecordedAnswers) {
    json document = json::parse(format_status_json(answered_status()));
    EXPECT_EQ(document["job_id"], 4242);
    ASSERT_TRUE(document["workers"].is_array());
    ASSERT_EQ(document["workers"].size(), 2u);
    EXPECT_EQ(
        document["workers"][0],
        (json{{"host", "10.213.77.12"}, {"cores", 2}, {"memory_mib", 4380}, {"state", "ALIVE"}}));
    EXPECT_EQ(document["datanodes_live"], 2);
    EXPECT_EQ(document["hdfs_capacity_used"], 49152);
    EXPECT_EQ(document["hdfs_capacity_total"], 541106348032);
    EXPECT_EQ(document["applications"], (json{{"running", 0}, {"completed", 0}}));
    EXPECT_EQ(document["time_left_seconds"], 4 * 3600 - 3725);
    EXPECT_EQ(document["master_url"], "spark://10.213.77.11:7077");
    EXPECT_EQ(document["master_webui_url"], "http://127.0.0.1:8080");
    EXPECT_EQ(document["connect_url"], "sc://10.213.77.11:15002/;use_ssl=true");
    // The namenode's and Connect's through the login node; the master's (on the leader's
    // loopback in this record) through the leader.
    EXPECT_EQ(document["tunnels"].size(), 2u);
}

TEST(Status, ASilentDaemonIsSaidInItsFields) {
    ClusterStatus status = answered_status();
    status.master.reset();
    status.namenode.reset();
    status.end_time.reset();
    json document = json::parse(format_status_json(status));
    EXPECT_THAT(document["workers"].get<std::string>(),
                HasSubstr("no answer from the Spark master at http://127.0.0.1:8080/json/ on node1 "
                          "within 5 s"));
    EXPECT_THAT(document["applications"].get<std::string>(), HasSubstr("no answer"));
    EXPECT_THAT(document["datanodes_live"].get<std::string>(),
                HasSubstr("no answer from the HDFS namenode"));
    EXPECT_TRUE(document["time_left_seconds"].is_null());
    std::string text = format_status_text(status);
    EXPECT_THAT(text, HasSubstr("workers       no answer from the Spark master"));
    EXPECT_THAT(text, HasSubstr("time left unknown"));
}

TEST(Status, TextFromRecordedAnswers) {
    std::string text = format_status_text(answered_status());
    EXPECT_THAT(text, HasSubstr("Cluster of job 4242 (alice), up 1h 02m, 2h 57m left\n"));
    EXPECT_THAT(text, HasSubstr("workers       2 alive of 2 started\n"));
    EXPECT_THAT(text, HasSubstr("10.213.77.12         2 cores, 4380 MiB, ALIVE\n"));
    EXPECT_THAT(text, HasSubstr("applications  0 running, 0 completed\n"));
    EXPECT_THAT(text, HasSubstr("datanodes     2 live, 0 dead\n"));
    EXPECT_THAT(text, HasSubstr("capacity      48.0 KiB used of 503.9 GiB\n"));
    EXPECT_THAT(text, HasSubstr("web UI        http://127.0.0.1:8080 on node1 only"));
    EXPECT_THAT(text, HasSubstr("ssh -N -J login1.example.org -L 8080:127.0.0.1:8080 node1"));
}

TEST(Status, TunnelsForEachUiAndConnect) {
    auto lines = tunnel_lines(testing::sample_record(), "login1.example.org");
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0],
              "ssh -N -L 9870:10.213.77.11:9870 -L 15002:10.213.77.11:15002 login1.example.org");
    EXPECT_EQ(lines[1], "ssh -N -J login1.example.org -L 8080:127.0.0.1:8080 node1");
    EXPECT_EQ(lines[2], "# Spark master UI: http://localhost:8080");
    EXPECT_THAT(lines[4], ::testing::StartsWith("# Spark Connect: sc://localhost:15002/"));
    ClusterRecord bare = testing::sample_record();
    bare.hdfs_url = "";
    bare.connect_url = "";
    EXPECT_EQ(tunnel_lines(bare, "login1").size(), 2u);
}

TEST(Ui, LoginLinksThroughTheTunnelsAndTheHeaderForPrograms) {
    const std::string token(64, 'a');
    const std::string text = format_ui_text(testing::sample_record(), token, "login1.example.org");
    EXPECT_THAT(text, HasSubstr("ssh -N -J login1.example.org -L 8080:127.0.0.1:8080 node1"));
    EXPECT_THAT(
        text,
        HasSubstr("Spark master UI   http://localhost:8080/?spark-slurm-login=" + token + "\n"));
    EXPECT_THAT(text, HasSubstr("HDFS namenode UI  http://localhost:9870/?spark-slurm-login="));
    EXPECT_THAT(text, HasSubstr("X-Spark-Slurm-Token: TOKEN"));
    ClusterRecord kerberos = testing::sample_record();
    kerberos.namenode_webui_url = "https://10.213.77.11:9871";
    EXPECT_THAT(format_ui_text(kerberos, token, "login1"),
                HasSubstr("HDFS namenode UI  https://localhost:9871/?spark-slurm-login="));
    EXPECT_THAT(format_ui_text(kerberos, token, "login1"),
                HasSubstr("# HDFS namenode UI: https://localhost:9871"));
    ClusterRecord bare = testing::sample_record();
    bare.hdfs_url = "";
    EXPECT_THAT(format_ui_text(bare, token, "login1"), Not(HasSubstr("namenode")));
    EXPECT_EQ(ui_login_link("http://127.0.0.1", token), "");
}

TEST(Ui, TheOneDoorIsOneSshLineThroughTheLoginNode) {
    // The default (issue 28): the master's UI on the leader's address proxies every other
    // Spark UI; with the namenode's and Connect's, one ssh line, no ssh into a compute node.
    ClusterRecord record = testing::sample_record();
    record.master_webui_url = "http://10.213.77.11:8080";
    const std::string text = format_ui_text(record, std::string(64, 'b'), "login1");
    EXPECT_THAT(text, HasSubstr("ssh -N -L 8080:10.213.77.11:8080 -L 9870:10.213.77.11:9870 "
                                "-L 15002:10.213.77.11:15002 login1"));
    EXPECT_THAT(text, Not(HasSubstr("-J")));
    EXPECT_THAT(text, HasSubstr("the door to every worker's and application's UI"));
    EXPECT_EQ(tunnel_commands(record, "login1").size(), 1u);
}

TEST(Ui, TheBrowserCommandFollowsTheBrowserConvention) {
    using Words = std::vector<std::string>;
    const std::string url = "file:///home/a/.spark-slurm/clusters/7/ui-login.html";
    EXPECT_EQ(browser_argv("", url), (Words{"xdg-open", url}));
    EXPECT_EQ(browser_argv("  ", url), (Words{"xdg-open", url}));
    EXPECT_EQ(browser_argv("firefox", url), (Words{"firefox", url}));
    // The first of a ":"-separated list; its words are words, never a shell's.
    EXPECT_EQ(browser_argv("chromium --incognito:firefox", url),
              (Words{"chromium", "--incognito", url}));
    EXPECT_EQ(browser_argv("open -a %s --fresh", url), (Words{"open", "-a", url, "--fresh"}));
    EXPECT_EQ(browser_argv("$(rm -rf ~);x", url), (Words{"$(rm", "-rf", "~);x", url}));
}

TEST(Ui, TheLoginPageMovesOnToTheLinkAndEscapesIt) {
    const std::string page = ui_login_page("http://localhost:8080/?spark-slurm-login=ab\"<&");
    EXPECT_THAT(page, HasSubstr("content=\"0;url=http://localhost:8080/"
                                "?spark-slurm-login=ab&quot;&lt;&amp;\""));
    EXPECT_THAT(page, HasSubstr("<meta name=\"referrer\" content=\"no-referrer\">"));
    EXPECT_THAT(page, HasSubstr("location.replace("));
    EXPECT_THAT(page, Not(HasSubstr("ab\"<&")));
}

TEST(Status, DurationsAndBytes) {
    EXPECT_EQ(format_duration(0), "0s");
    EXPECT_EQ(format_duration(-5), "0s");
    EXPECT_EQ(format_duration(250), "4m 10s");
    EXPECT_EQ(format_duration(3725), "1h 02m");
    EXPECT_EQ(format_duration(2 * 86400 + 3 * 3600 + 5), "2d 3h");
    EXPECT_EQ(format_bytes(12), "12 B");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(3 * 1024ull * 1024 * 1024), "3.0 GiB");
}

std::vector<RunningCluster> two_clusters() {
    RunningCluster first{testing::sample_record(), {}};
    first.job.node_list = "node[1-3]";
    first.job.end_time = testing::sample_record().end_time;
    RunningCluster second{testing::sample_record(), {}};
    second.record.job_id = 4300;
    second.record.nodes = {"gpu07"};
    second.record.master_url = "spark://10.213.77.20:7077";
    second.record.ready_at = 1'000'000 + 600;
    second.record.end_time = 0;
    return {first, second};
}

TEST(List, TableOfRunningClusters) {
    std::string text = format_cluster_list(two_clusters(), 1'000'000 + 3600);
    EXPECT_EQ(text,
              "JOB   NODES          AGE      LEFT    MASTER\n"
              "4242  3 (node[1-3])  1h 00m   3h 00m  spark://10.213.77.11:7077\n"
              "4300  1 (gpu07)      50m 00s  ?       spark://10.213.77.20:7077\n");
    EXPECT_THAT(format_cluster_list({}, 0), HasSubstr("No running clusters; start one"));
}

TEST(List, Json) {
    json document = json::parse(format_cluster_list_json(two_clusters(), 1'000'000 + 3600));
    ASSERT_EQ(document["clusters"].size(), 2u);
    EXPECT_EQ(document["clusters"][0]["job_id"], 4242);
    EXPECT_EQ(document["clusters"][0]["node_count"], 3);
    EXPECT_EQ(document["clusters"][0]["age_seconds"], 3600);
    EXPECT_EQ(document["clusters"][0]["time_left_seconds"], 3 * 3600);
    EXPECT_TRUE(document["clusters"][1]["time_left_seconds"].is_null());
    EXPECT_EQ(json::parse(format_cluster_list_json({}, 0)), (json{{"clusters", json::array()}}));
}

TEST(Lookup, MessagesNameTheProblemAndTheFix) {
    EXPECT_EQ(not_owner_message(77, "bob"),
              "job 77 belongs to bob; a cluster's connection details are readable by its owner "
              "only");
    EXPECT_THAT(no_cluster_message("/home/a/.spark-slurm/clusters"),
                HasSubstr("you have no running cluster"));
    EXPECT_EQ(several_clusters_message(two_clusters()),
              "you have 2 running clusters (jobs 4242, 4300); pick one with --job ID (see "
              "'spark-slurm list')");
}

}  // namespace
}  // namespace spark_slurm
