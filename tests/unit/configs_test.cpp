// Generated configuration files compared with golden files in tests/data/golden. After an
// intended change, regenerate them with SPARK_SLURM_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>

#include "common/sizes.hpp"
#include "fixtures.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {
namespace {

// The golden files of leader/, worker/ and state-dir/ are those of --hdfs-auth none (as before
// Kerberos); kerberos-leader/ and kerberos-worker/ those of the default.
Plan golden_plan(bool state_dir, HdfsAuth auth = HdfsAuth::None, bool wire_encryption = false) {
    PlanInputs inputs = testing::synthetic_inputs(3, {8, 32 * kGiB});
    if (state_dir) inputs.options.state_dir = "/shared/state";
    inputs.options.hdfs_auth = auth;
    inputs.options.wire_encryption = wire_encryption;
    inputs.secret = "GOLDEN-SECRET";
    inputs.user = "alice";
    for (auto& node : inputs.nodes) node.ports.kdc = 41000;
    return make_plan(inputs);
}

// Compares; rewrites the golden file instead only when SPARK_SLURM_UPDATE_GOLDEN is exactly "1",
// and then says so on the test's output (any other value fails: a stray or empty variable must
// not turn a failing comparison into a silent rewrite).
void expect_golden(const std::string& name, const std::string& actual) {
    std::string path = std::string(SPARK_SLURM_TEST_DATA) + "/golden/" + name;
    std::optional<std::string> expected;
    if (std::ifstream file(path); file) {
        std::stringstream text;
        text << file.rdbuf();
        expected = text.str();
    }
    if (const char* update = std::getenv("SPARK_SLURM_UPDATE_GOLDEN")) {
        ASSERT_STREQ(update, "1")
            << "SPARK_SLURM_UPDATE_GOLDEN must be 1 to rewrite the golden files";
        if (actual == expected) {
            std::cout << "SPARK_SLURM_UPDATE_GOLDEN=1: " << path << " unchanged\n";
            return;
        }
        std::ofstream out(path);
        out << actual;
        ASSERT_TRUE(out.flush()) << "could not write " << path;
        std::cout << "SPARK_SLURM_UPDATE_GOLDEN=1: REWROTE " << path << " (review the diff)\n";
        return;
    }
    ASSERT_TRUE(expected) << "missing golden file " << path
                          << " (generate with SPARK_SLURM_UPDATE_GOLDEN=1)";
    EXPECT_EQ(actual, *expected) << "differs from " << path
                                 << " (after an intended change: SPARK_SLURM_UPDATE_GOLDEN=1)";
}

TEST(Configs, LeaderFilesMatchGolden) {
    auto plan = golden_plan(false);
    auto files = render_configs(plan, plan.nodes[0]);
    expect_golden("leader/spark-defaults.conf", files.spark_defaults);
    expect_golden("leader/spark-env.sh", files.spark_env);
    expect_golden("leader/core-site.xml", files.core_site);
    expect_golden("leader/hdfs-site.xml", files.hdfs_site);
    // Issue 28: no HTTP request log, whose lines would hold a login link's token.
    EXPECT_NE(files.hadoop_log4j.find("log4j.logger.http.requests=WARN\n"), std::string::npos);
    EXPECT_NE(files.hadoop_log4j.find("log4j.appender.console.target=System.err\n"),
              std::string::npos);
}

// Issue 27: a work dir named with XML's and the shell's special characters (a user may choose
// one with --work-dir) is written as text in both kinds of file, not as markup or code.
TEST(Configs, ValuesAreEscapedInXmlAndShellFiles) {
    auto plan = golden_plan(false);
    NodePlan& node = plan.nodes[1];
    node.tmp_dir = "/scratch/a&b<c>$(id)`x`\"q\"'s'";
    node.datanode_dir = node.tmp_dir + "/data";
    auto files = render_configs(plan, node);
    EXPECT_NE(files.spark_env.find("TMPDIR=\"/scratch/a&b<c>\\$(id)\\`x\\`\\\"q\\\"'s'\""),
              std::string::npos)
        << files.spark_env;
    EXPECT_NE(
        files.hdfs_site.find("/scratch/a&amp;b&lt;c&gt;$(id)`x`&quot;q&quot;&apos;s&apos;/data"),
        std::string::npos)
        << files.hdfs_site;
}

TEST(Configs, WorkerFilesMatchGolden) {
    auto plan = golden_plan(false);
    auto files = render_configs(plan, plan.nodes[1]);
    expect_golden("worker/spark-defaults.conf", files.spark_defaults);
    expect_golden("worker/spark-env.sh", files.spark_env);
    expect_golden("worker/core-site.xml", files.core_site);
    expect_golden("worker/hdfs-site.xml", files.hdfs_site);
}

TEST(Configs, KerberosLeaderFilesMatchGolden) {
    auto plan = golden_plan(false, HdfsAuth::Kerberos);
    auto files = render_configs(plan, plan.nodes[0]);
    expect_golden("kerberos-leader/spark-defaults.conf", files.spark_defaults);
    expect_golden("kerberos-leader/spark-env.sh", files.spark_env);
    expect_golden("kerberos-leader/core-site.xml", files.core_site);
    expect_golden("kerberos-leader/hdfs-site.xml", files.hdfs_site);
    expect_golden("kerberos-leader/ssl-server.xml", files.ssl_server);
    expect_golden("kerberos-leader/krb5.conf", render_krb5_conf(plan));
    // The format's: no Kerberos (it needs no login, and runs while the KDC starts).
    expect_golden("kerberos-leader/format/core-site.xml", files.format_core_site);
    EXPECT_EQ(files.format_core_site.find("kerberos"), std::string::npos);
    EXPECT_TRUE(render_configs(plan, plan.nodes[1]).format_core_site.empty());
    const auto without = golden_plan(false);
    EXPECT_TRUE(render_configs(without, without.nodes[0]).format_core_site.empty());
}

TEST(Configs, TheClassArchiveSettingsFollowTheJobsOwn) {
    auto plan = golden_plan(false);
    const std::string without = render_configs(plan, plan.nodes[0]).spark_defaults;
    const std::string with =
        render_configs(plan, plan.nodes[0],
                       {{"spark.driver.extraClassPath", "/opt/spark/jars/*"},
                        {"spark.executor.defaultJavaOptions", "-XX:SharedArchiveFile=/c/a.jsa"}})
            .spark_defaults;
    ASSERT_EQ(with.substr(0, without.size()), without);
    EXPECT_EQ(with.substr(without.size()),
              "spark.driver.extraClassPath              /opt/spark/jars/*\n"
              "spark.executor.defaultJavaOptions        -XX:SharedArchiveFile=/c/a.jsa\n");
}

TEST(Configs, KerberosWorkerFilesMatchGolden) {
    auto plan = golden_plan(false, HdfsAuth::Kerberos);
    auto files = render_configs(plan, plan.nodes[1]);
    expect_golden("kerberos-worker/hdfs-site.xml", files.hdfs_site);
    expect_golden("kerberos-worker/spark-defaults.conf", files.spark_defaults);
}

TEST(Configs, KerberosClientFilesMatchGolden) {
    auto plan = golden_plan(false, HdfsAuth::Kerberos);
    auto files = render_client_configs(plan);
    expect_golden("kerberos-client/spark-defaults.conf", files.spark_defaults);
    expect_golden("kerberos-client/core-site.xml", files.core_site);
    expect_golden("kerberos-client/hdfs-site.xml", files.hdfs_site);
    expect_golden("kerberos-client/spark-env.sh", files.spark_env);
    std::string environment;
    for (const auto& [name, value] : files.environment) environment += name + "=" + value + "\n";
    expect_golden("kerberos-client/client-env", environment);
}

TEST(Configs, NoneHasNoKerberosAtAll) {
    auto plan = golden_plan(false);
    auto files = render_configs(plan, plan.nodes[0]);
    for (const auto* text :
         {&files.spark_defaults, &files.spark_env, &files.core_site, &files.hdfs_site}) {
        EXPECT_EQ(text->find("kerberos"), std::string::npos) << *text;
        EXPECT_EQ(text->find("krb5"), std::string::npos) << *text;
    }
    EXPECT_TRUE(files.ssl_server.empty());
    // The client's `hdfs` JVMs: no hsperfdata in /tmp, and nothing of Kerberos.
    const auto client = render_client_configs(plan).environment;
    EXPECT_EQ(client, (std::vector<std::pair<std::string, std::string>>{
                          {"HADOOP_CLIENT_OPTS", "-XX:-UsePerfData"}}));
}

TEST(Configs, WireEncryptionOffLeavesSparkAndHdfsInClear) {
    const Plan plan = golden_plan(false, HdfsAuth::Kerberos, false);
    auto files = render_configs(plan, plan.nodes[0]);
    EXPECT_EQ(files.spark_defaults.find("spark.network.crypto"), std::string::npos);
    EXPECT_EQ(files.hdfs_site.find("dfs.encrypt.data.transfer"), std::string::npos);
    EXPECT_EQ(files.core_site.find("privacy"), std::string::npos);
    EXPECT_NE(files.core_site.find("<value>authentication</value>"), std::string::npos);
    // Kerberos still authenticates: only the encryption is off.
    EXPECT_NE(files.hdfs_site.find("dfs.data.transfer.protection"), std::string::npos);
}

TEST(Configs, WireEncryptionOnEncryptsSparkAndHdfsForDaemonsAndClients) {
    const Plan plan = golden_plan(false, HdfsAuth::Kerberos, true);
    const auto daemons = render_configs(plan, plan.nodes[1]);
    const auto clients = render_client_configs(plan);
    for (const auto* files : {&daemons.spark_defaults, &clients.spark_defaults}) {
        EXPECT_TRUE(
            std::regex_search(*files, std::regex(R"(\nspark\.network\.crypto\.enabled +true\n)")))
            << *files;
        EXPECT_TRUE(std::regex_search(
            *files, std::regex(R"(\nspark\.network\.crypto\.cipher +AES/GCM/NoPadding\n)")));
        EXPECT_TRUE(std::regex_search(
            *files, std::regex(R"(\nspark\.network\.crypto\.authEngineVersion +2\n)")));
    }
    for (const auto* core : {&daemons.core_site, &clients.core_site})
        EXPECT_NE(core->find("<value>privacy</value>"), std::string::npos) << *core;
    for (const auto* hdfs : {&daemons.hdfs_site, &clients.hdfs_site})
        EXPECT_NE(hdfs->find("<name>dfs.encrypt.data.transfer</name>"), std::string::npos);
}

TEST(Configs, WireEncryptionWithoutKerberosIsSparksOnly) {
    // HDFS's encryption rides on its Kerberos handshakes: with --hdfs-auth none only Spark's is on.
    const Plan plan = golden_plan(false, HdfsAuth::None, true);
    auto files = render_configs(plan, plan.nodes[0]);
    EXPECT_NE(files.spark_defaults.find("spark.network.crypto.enabled"), std::string::npos);
    EXPECT_EQ(files.hdfs_site.find("dfs.encrypt.data.transfer"), std::string::npos);
}

TEST(Configs, KerberosSecretsStayOutOfTheJavaOptions) {
    // The keystore password is the job's secret: only in 0600 files, never in JVM options
    // (which end up on command lines).
    auto plan = golden_plan(false, HdfsAuth::Kerberos);
    auto files = render_configs(plan, plan.nodes[0]);
    EXPECT_EQ(files.spark_env.find("GOLDEN-SECRET"), std::string::npos);
    EXPECT_NE(files.ssl_server.find("GOLDEN-SECRET"), std::string::npos);
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
