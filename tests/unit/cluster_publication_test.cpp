#include "launcher/cluster_publication.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sizes.hpp"
#include "fixtures.hpp"

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
    EXPECT_THAT(comment, HasSubstr("ui http://10.0.0.1:8080"));
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

}  // namespace
}  // namespace spark_slurm
