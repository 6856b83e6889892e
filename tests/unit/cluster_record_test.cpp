// The connection record: its JSON both ways (strict), the private directories and files it lives
// in, atomic writes, and reading every record with the junk skipped. All under a temporary
// clusters directory (records_in::...), never the real home. And the ssh tunnels to a record's
// cluster.
#include "cluster/cluster_record.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cluster/ssh_tunnels.hpp"
#include "common/errors.hpp"
#include "common/private_files.hpp"
#include "fixtures.hpp"

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

mode_t mode_of(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
}

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const LaunchError& error) {
        return error.what();
    }
    ADD_FAILURE() << "no LaunchError";
    return "";
}

// A HOME-like temporary directory; the clusters directory is HOME/.spark-slurm/clusters, made by
// the code under test.
class Records : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "spark-slurm-records-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        base_ = pattern;
        fs::create_directory(base_ + "/home");
        clusters_ = base_ + "/home/.spark-slurm/clusters";
    }
    void TearDown() override {
        std::error_code error;
        fs::remove_all(base_, error);
    }
    std::string base_;
    std::string clusters_;
};

TEST(ClusterRecordJson, RoundTrip) {
    ClusterRecord record = testing::sample_record();
    EXPECT_EQ(record_from_json(record_to_json(record), "test"), record);
    record.runtime = "apptainer";
    record.image = "/shared/spark.sif";
    record.hdfs_url = "";
    record.connect_url = "";
    record.connect_port = 0;
    record.job_id = 4'294'967'295u;
    EXPECT_EQ(record_from_json(record_to_json(record), "test"), record);
}

TEST(ClusterRecordJson, EveryMissingFieldIsNamed) {
    auto document = nlohmann::json::parse(record_to_json(testing::sample_record()));
    for (const auto& item : document.items()) {
        auto broken = document;
        broken.erase(item.key());
        std::string message =
            message_of([&] { record_from_json(broken.dump(), "/home/a/cluster.json"); });
        EXPECT_THAT(message, HasSubstr("/home/a/cluster.json")) << item.key();
        EXPECT_THAT(message, HasSubstr("'" + item.key() + "' is missing"));
    }
}

TEST(ClusterRecordJson, WrongTypesAreRefused) {
    auto document = nlohmann::json::parse(record_to_json(testing::sample_record()));
    auto refused = [&](const char* key, nlohmann::json value, const char* why) {
        auto broken = document;
        broken[key] = value;
        EXPECT_THAT(message_of([&] { record_from_json(broken.dump(), "F"); }),
                    HasSubstr(std::string("'") + key + "' " + why))
            << broken[key];
    };
    refused("job_id", "4242", "is not a whole number");
    refused("job_id", -1, "is not a whole number");
    refused("job_id", 4.5, "is not a whole number");
    refused("connect_port", 70000, "is not a whole number from 0 to 65535");
    refused("master_url", 7077, "is not a string");
    refused("nodes", "node1", "is not an array of strings");
    refused("nodes", nlohmann::json::array({"node1", 2}), "is not an array of strings");
    refused("ready_at", "now", "is not a whole number");
}

TEST(ClusterRecordJson, MalformedTextAndOtherFormatsAreRefused) {
    EXPECT_THAT(message_of([] { record_from_json("{\"format\": 1,", "F.json"); }),
                HasSubstr("F.json is not a JSON object"));
    EXPECT_THAT(message_of([] { record_from_json("[]", "F.json"); }),
                HasSubstr("F.json is not a JSON object"));
    auto document = nlohmann::json::parse(record_to_json(testing::sample_record()));
    document["format"] = 2;
    EXPECT_THAT(message_of([&] { record_from_json(document.dump(), "F.json"); }),
                HasSubstr("F.json has format 2"));
}

TEST_F(Records, PublishedRecordReadsBackInPrivateDirectories) {
    std::string dir = records_in::prepare_record_directory(clusters_, 4242);
    EXPECT_EQ(dir, clusters_ + "/4242");
    records_in::publish_record(clusters_, testing::sample_record());
    EXPECT_EQ(records_in::read_record(clusters_, 4242), testing::sample_record());
    for (const auto& path : {base_ + "/home/.spark-slurm", clusters_, dir}) {
        EXPECT_EQ(mode_of(path), 0700u) << path;
    }
    EXPECT_EQ(mode_of(dir + "/cluster.json"), 0600u);
    EXPECT_FALSE(records_in::read_record(clusters_, 4243));
}

TEST_F(Records, ARecordDirectoryWithoutClusterJsonIsNotReady) {
    records_in::prepare_record_directory(clusters_, 7);
    EXPECT_FALSE(records_in::read_record(clusters_, 7));
}

TEST_F(Records, OpenDirectoriesAreRefusedWithTheFix) {
    records_in::prepare_record_directory(clusters_, 1);
    records_in::publish_record(clusters_, testing::sample_record(1));
    ASSERT_EQ(::chmod(clusters_.c_str(), 0755), 0);
    std::string message = message_of([&] { records_in::prepare_record_directory(clusters_, 2); });
    EXPECT_THAT(message, HasSubstr(clusters_ + " is open to group or others (mode 0755)"));
    EXPECT_THAT(message, HasSubstr("chmod 700 " + clusters_));
    EXPECT_THAT(message_of([&] { records_in::read_record(clusters_, 1); }),
                HasSubstr("chmod 700 " + clusters_));
    ASSERT_EQ(::chmod(clusters_.c_str(), 0700), 0);
    ASSERT_EQ(::chmod((clusters_ + "/1").c_str(), 0750), 0);
    EXPECT_THAT(message_of([&] { records_in::read_record(clusters_, 1); }),
                HasSubstr("chmod 700 " + clusters_ + "/1"));
}

TEST_F(Records, ASymbolicLinkIsNoPrivateDirectory) {
    records_in::make_private_directory(clusters_, clusters_);
    fs::create_directory(base_ + "/elsewhere");
    ::chmod((base_ + "/elsewhere").c_str(), 0700);
    fs::create_directory_symlink(base_ + "/elsewhere", clusters_ + "/5");
    EXPECT_THAT(message_of([&] { records_in::prepare_record_directory(clusters_, 5); }),
                HasSubstr(clusters_ + "/5 is not a directory"));
}

TEST_F(Records, OnlyDirectoriesUnderTheClustersDirectoryAreMade) {
    EXPECT_THAT(
        message_of([&] { records_in::make_private_directory(clusters_, base_ + "/other"); }),
        HasSubstr("is not under"));
    records_in::make_private_directory(clusters_, clusters_ + "/9/spark-conf");
    EXPECT_EQ(mode_of(clusters_ + "/9/spark-conf"), 0700u);
}

TEST_F(Records, PreparingEmptiesARequeuedJobsDirectory) {
    std::string dir = records_in::prepare_record_directory(clusters_, 3);
    records_in::make_private_directory(clusters_, dir + "/spark-conf");
    write_private_file(dir + "/spark-conf/spark-defaults.conf", "spark.authenticate true\n");
    records_in::publish_record(clusters_, testing::sample_record(3));
    records_in::prepare_record_directory(clusters_, 3);
    EXPECT_TRUE(fs::is_empty(dir));
    EXPECT_FALSE(records_in::read_record(clusters_, 3));
}

TEST_F(Records, AtomicWritesLeaveOnlyTheFile) {
    std::string dir = records_in::prepare_record_directory(clusters_, 11);
    write_private_file(dir + "/connect-token", "first");
    write_private_file(dir + "/connect-token", "second\n");
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    EXPECT_EQ(names, std::vector<std::string>{"connect-token"});
    EXPECT_EQ(mode_of(dir + "/connect-token"), 0600u);
    std::ifstream file(dir + "/connect-token");
    std::string text((std::istreambuf_iterator<char>(file)), {});
    EXPECT_EQ(text, "second\n");
    EXPECT_THAT(message_of([&] { write_private_file(dir + "/missing/file", "x"); }),
                HasSubstr("while writing " + dir + "/missing/file"));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST_F(Records, ReadAllSkipsJunkAndSortsByReadiness) {
    EXPECT_TRUE(records_in::read_all_records(clusters_).empty());  // no directory yet
    records_in::publish_record(clusters_, testing::sample_record(79, 2000));
    records_in::publish_record(clusters_, testing::sample_record(80, 1000));
    records_in::make_private_directory(clusters_, clusters_ + "/notajob");
    records_in::prepare_record_directory(clusters_, 77);  // not ready: no cluster.json
    std::string broken = records_in::prepare_record_directory(clusters_, 78);
    write_private_file(broken + "/cluster.json", "{\"format\": 1}");
    std::string misplaced = records_in::prepare_record_directory(clusters_, 81);
    write_private_file(misplaced + "/cluster.json", record_to_json(testing::sample_record(82)));
    write_private_file(clusters_ + "/stray-file", "x");
    auto records = records_in::read_all_records(clusters_);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].job_id, 80u);
    EXPECT_EQ(records[1].job_id, 79u);
}

TEST_F(Records, RemoveTakesEverything) {
    std::string dir = records_in::prepare_record_directory(clusters_, 12);
    records_in::make_private_directory(clusters_, dir + "/hadoop-conf");
    write_private_file(dir + "/hadoop-conf/core-site.xml", "<configuration/>");
    records_in::publish_record(clusters_, testing::sample_record(12));
    records_in::remove_record_directory(clusters_, 12);
    EXPECT_FALSE(fs::exists(dir));
    records_in::remove_record_directory(clusters_, 12);  // twice: still fine
}

TEST(ClusterRecordPaths, UnderTheHomeFromThePasswordDatabase) {
    std::string dir = clusters_directory();
    EXPECT_THAT(dir, ::testing::EndsWith("/.spark-slurm/clusters"));
    EXPECT_EQ(record_directory(17), dir + "/17");
}

TEST(SshTunnels, TheUisAndConnectInOrder) {
    auto tunnels = ssh_tunnels(testing::sample_record());
    ASSERT_EQ(tunnels.size(), 3u);
    EXPECT_EQ(tunnels[0].port, "8080");
    EXPECT_EQ(tunnels[0].target, "127.0.0.1:8080");
    EXPECT_TRUE(tunnels[0].into_leader);
    EXPECT_EQ(tunnels[0].what, "Spark master UI: http://localhost:8080");
    EXPECT_EQ(tunnels[1].target, "10.213.77.11:9870");
    EXPECT_FALSE(tunnels[1].into_leader);
    EXPECT_EQ(tunnels[2].target, "10.213.77.11:15002");
    EXPECT_FALSE(tunnels[2].into_leader);
    EXPECT_THAT(tunnels[2].what, ::testing::StartsWith("Spark Connect: sc://localhost:15002/"));
}

// The leader's banner: one command per way in, through the login node first.
TEST(SshTunnels, OneCommandPerWayIn) {
    EXPECT_THAT(ssh_tunnel_commands(ssh_tunnels(testing::sample_record()), "login1", "node1"),
                ::testing::ElementsAre(
                    "ssh -N -L 9870:10.213.77.11:9870 -L 15002:10.213.77.11:15002 login1",
                    "ssh -N -J login1 -L 8080:127.0.0.1:8080 node1"));
    ClusterRecord bare = testing::sample_record();
    bare.hdfs_url = "";
    bare.connect_url = "";
    bare.connect_port = 0;
    EXPECT_THAT(ssh_tunnel_commands(ssh_tunnels(bare), "login1", "node1"),
                ::testing::ElementsAre("ssh -N -J login1 -L 8080:127.0.0.1:8080 node1"));
    // A record of an older launcher, whose UI listened on the leader's address.
    ClusterRecord older = bare;
    older.master_webui_url = "http://10.213.77.11:8080";
    EXPECT_THAT(ssh_tunnel_commands(ssh_tunnels(older), "login1", "node1"),
                ::testing::ElementsAre("ssh -N -L 8080:10.213.77.11:8080 login1"));
}

TEST(SshTunnels, LoopbackUrls) {
    EXPECT_TRUE(on_loopback("http://127.0.0.1:8080"));
    EXPECT_TRUE(on_loopback("127.0.0.1:8080"));
    EXPECT_FALSE(on_loopback("http://10.0.0.1:8080"));
    EXPECT_FALSE(on_loopback("http://127.0.0.10:8080"));
}

TEST(SshTunnels, PortOfAUrl) {
    EXPECT_EQ(port_of("http://10.0.0.1:8080"), "8080");
    EXPECT_EQ(port_of("https://node1:9870/"), "9870");
    EXPECT_EQ(port_of("sc://10.0.0.1:15002/;use_ssl=true"), "15002");
    EXPECT_EQ(port_of("http://10.0.0.1/"), "");
    EXPECT_EQ(port_of(""), "");
}

}  // namespace
}  // namespace spark_slurm
