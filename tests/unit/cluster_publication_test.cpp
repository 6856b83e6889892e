#include "job/cluster_publication.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/sizes.hpp"
#include "fixtures.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ClusterPublication, TheCommentShowsAddressesAndNoSecret) {
    PlanInputs inputs = testing::synthetic_inputs(3);
    inputs.options.command = Command::Up;
    inputs.options.connect = true;
    inputs.connect_token = "the-connect-token";
    inputs.nodes[0].ports.connect_gateway = 15002;
    const Plan plan = make_plan(inputs);
    const std::string comment = cluster_comment(plan);
    EXPECT_THAT(comment, HasSubstr("master spark://10.0.0.1:7077"));
    // The master's UI is on the leader's loopback: an address there would mislead.
    EXPECT_THAT(comment, Not(HasSubstr("127.0.0.1")));
    EXPECT_THAT(comment, HasSubstr("ui https://10.0.0.1:9870"));
    EXPECT_THAT(comment, HasSubstr("hdfs hdfs://10.0.0.1:8020"));
    EXPECT_THAT(comment, HasSubstr("connect sc://10.0.0.1:15002/;use_ssl=true"));
    EXPECT_THAT(comment, Not(HasSubstr(testing::kTestSecret)));
    EXPECT_THAT(comment, Not(HasSubstr("the-connect-token")));
}

TEST(ClusterPublication, NoHdfsNoConnectMeansAShorterComment) {
    PlanInputs inputs = testing::synthetic_inputs(2);
    inputs.options.hdfs = false;
    const std::string comment = cluster_comment(make_plan(inputs));
    EXPECT_THAT(comment, Not(HasSubstr("hdfs")));
    EXPECT_THAT(comment, Not(HasSubstr("connect")));
}

TEST(ClusterPublication, TheWrapperRunsTheNextToolOnPathWithoutSparkRemote) {
    namespace fs = std::filesystem;
    const fs::path root =
        fs::temp_directory_path() / ("wrapper-test-" + std::to_string(::getpid()));
    fs::create_directories(root / "record-bin");
    fs::create_directories(root / "spark" / "bin");
    auto write_program = [](const fs::path& path, const std::string& text) {
        std::ofstream(path) << text;
        fs::permissions(path, fs::perms::owner_all);
    };
    write_program(root / "record-bin" / "spark-submit", classic_tool_wrapper("spark-submit", 7));
    write_program(root / "spark" / "bin" / "spark-submit",
                  "#!/bin/sh\nprintf '%s|%s|%s' \"${SPARK_REMOTE-unset}\" \"$PATH\" \"$*\"\n");
    SpawnRequest request;
    request.argv = {"spark-submit", "--name", "a b", "app.py"};
    const std::string path =
        (root / "record-bin").string() + ":" + (root / "spark" / "bin").string() + ":/usr/bin:/bin";
    request.environment = {{"PATH", path}, {"SPARK_REMOTE", "sc://x:1/;token=t"}};
    request.argv[0] = (root / "record-bin" / "spark-submit").string();
    auto run = run_captured(request, "wrapper", std::chrono::seconds(10));
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(run.output,
              "unset|" + (root / "spark" / "bin").string() + ":/usr/bin:/bin|--name a b app.py");
    fs::remove_all(root);
}

}  // namespace
}  // namespace spark_slurm
