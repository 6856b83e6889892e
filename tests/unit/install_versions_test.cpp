#include "runtime/install_versions.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace spark_slurm {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(InstallVersions, ParsesReleaseVersions) {
    auto version = parse_release_version("3.5.9");
    ASSERT_TRUE(version);
    EXPECT_EQ(version->major, 3);
    EXPECT_EQ(version->minor, 5);
    EXPECT_EQ(version->patch, 9);
    auto preview = parse_release_version("4.1.0-preview2");
    ASSERT_TRUE(preview);
    EXPECT_EQ(preview->minor, 1);
    EXPECT_EQ(preview->text, "4.1.0-preview2");
    EXPECT_FALSE(parse_release_version("four"));
    EXPECT_FALSE(parse_release_version("4"));
    EXPECT_FALSE(parse_release_version(""));
}

TEST(InstallVersions, SparkFromTheCoreJarOfEitherScala) {
    EXPECT_EQ(spark_version_in({"scala-library-2.12.18.jar", "spark-core_2.12-3.5.9.jar"})->text,
              "3.5.9");
    EXPECT_EQ(spark_version_in({"spark-core_2.13-4.3.0.jar"})->text, "4.3.0");
    EXPECT_FALSE(spark_version_in({"spark-sql_2.13-4.3.0.jar", "spark-core-tests.jar"}));
    EXPECT_FALSE(spark_version_in({}));
}

TEST(InstallVersions, HadoopFromHadoopCommonNotItsTests) {
    EXPECT_EQ(hadoop_version_in({"hadoop-common-3.4.1-tests.jar", "hadoop-common-3.4.1.jar"})->text,
              "3.4.1");
    EXPECT_FALSE(hadoop_version_in({"hadoop-common-3.4.1-tests.jar"}));
    EXPECT_FALSE(hadoop_version_in({"hadoop-client-api-3.4.1.jar"}));
}

TEST(InstallVersions, RunsTheTestedLinesAndRefusesOthersByName) {
    for (const char* text : {"3.5.2", "3.5.9", "4.0.5", "4.1.2", "4.2.1", "4.3.0"})
        EXPECT_EQ(spark_version_problem(*parse_release_version(text), "SPARK_HOME /s"), "") << text;
    for (const char* text : {"3.5.1", "3.4.4", "2.4.8", "4.4.0", "5.0.0"}) {
        EXPECT_THAT(spark_version_problem(*parse_release_version(text), "SPARK_HOME /s"),
                    AllOf(HasSubstr("SPARK_HOME /s holds Spark " + std::string(text)),
                          HasSubstr("Spark 3.5.2 or later 3.5, and 4.0 to 4.3"),
                          HasSubstr("install-spark-hadoop --spark")))
            << text;
    }
    EXPECT_EQ(hadoop_version_problem(*parse_release_version("3.3.6"), "h"), "");
    EXPECT_EQ(hadoop_version_problem(*parse_release_version("3.4.1"), "h"), "");
    EXPECT_THAT(hadoop_version_problem(*parse_release_version("2.10.2"), "the image /i.sif"),
                AllOf(HasSubstr("the image /i.sif holds Hadoop 2.10.2"), HasSubstr("--no-hdfs")));
}

TEST(InstallVersions, OneJudgementForTheLeaderAndDoctor) {
    auto supported = check_spark_install({"x.jar", "spark-core_2.13-4.0.5.jar"}, "w");
    EXPECT_EQ(supported.version->text, "4.0.5");
    EXPECT_EQ(supported.problem, "");
    EXPECT_EQ(supported.warning, "");
    auto refused = check_spark_install({"spark-core_2.12-3.4.4.jar"}, "w");
    EXPECT_THAT(refused.problem, HasSubstr("w holds Spark 3.4.4"));
    auto unread = check_spark_install({"x.jar"}, "SPARK_HOME /s");
    EXPECT_FALSE(unread.version);
    EXPECT_EQ(unread.problem, "");
    EXPECT_THAT(unread.warning, HasSubstr("cannot tell the Spark version of SPARK_HOME /s"));
    // The jars win over the fallback; the fallback fills in when no jar names a version.
    auto from_release = check_spark_install({}, "w", parse_release_version("3.4.1"));
    EXPECT_THAT(from_release.problem, HasSubstr("holds Spark 3.4.1"));
    EXPECT_EQ(
        check_spark_install({"spark-core_2.13-4.0.5.jar"}, "w", parse_release_version("3.4.1"))
            .problem,
        "");
    EXPECT_THAT(check_hadoop_install({"hadoop-common-3.4.1-tests.jar"}, "h").warning,
                HasSubstr("cannot tell the Hadoop version of h"));
    EXPECT_THAT(check_hadoop_install({"hadoop-common-2.10.2.jar"}, "h").problem,
                HasSubstr("h holds Hadoop 2.10.2"));
}

TEST(InstallVersions, ConnectComesWithSpark4) {
    EXPECT_FALSE(has_spark_connect(*parse_release_version("3.5.9")));
    EXPECT_TRUE(has_spark_connect(*parse_release_version("4.0.5")));
    EXPECT_TRUE(has_spark_connect(*parse_release_version("4.3.0")));
}

}  // namespace
}  // namespace spark_slurm
