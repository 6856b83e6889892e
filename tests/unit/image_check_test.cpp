// The image check runs through the runtime's own command line, so what the daemons would get —
// --spark-home named inside the image, and with --sudo the environment kept through sudo — is
// what the check sees. Apptainer itself is stood in for by a script that does what `apptainer
// exec` does with the parts that matter here (the APPTAINERENV_ variables, the command after
// the image): a unit test cannot build and mount SIF images; the real runtime is exercised by
// the integration tests (launcher_bad_image, launcher_word_count_apptainer).
#include "runtime/image_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kFakeApptainer = R"(#!/bin/sh
# apptainer --silent exec --cleanenv [--bind B | --pwd D]... IMAGE COMMAND...
shift 3
while [ "$1" = --bind ] || [ "$1" = --pwd ]; do shift 2; done
shift
if [ -n "$APPTAINERENV_SPARK_HOME" ]; then SPARK_HOME=$APPTAINERENV_SPARK_HOME; export SPARK_HOME; fi
exec "$@"
)";

class ImageCheck : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("image-check-test-" + std::to_string(::getpid()));
        fs::create_directories(dir_ / "spark/bin");
        write_executable(dir_ / "apptainer", kFakeApptainer);
        write_executable(dir_ / "spark/bin/spark-class", "#!/bin/sh\n");
        settings_.kind = RuntimeChoice::Apptainer;
        settings_.executable = (dir_ / "apptainer").string();
        settings_.spark_image = settings_.hadoop_image = "/images/spark.sif";
        settings_.inherited = {{"PATH", "/usr/bin:/bin"}};
    }
    void TearDown() override { fs::remove_all(dir_); }
    static void write_executable(const fs::path& path, const std::string& text) {
        std::ofstream(path) << text;
        fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    }
    fs::path dir_;
    RuntimeSettings settings_;
};

TEST_F(ImageCheck, SparkHomeInsideTheImageReachesTheCheck) {
    settings_.spark_home = (dir_ / "spark").string();
    EXPECT_EQ(image_problem(settings_, false), "");
    settings_.spark_home = "/nowhere/spark";
    EXPECT_THAT(image_problem(settings_, false),
                HasSubstr("SPARK_HOME ('/nowhere/spark') has no bin/spark-class"));
}

TEST_F(ImageCheck, WithSudoTheCheckStillSeesSparkHome) {
    if (::geteuid() != 0 || !fs::exists("/usr/bin/sudo"))
        GTEST_SKIP() << "needs root and sudo (sudo -n without a password)";
    settings_.sudo = true;
    settings_.spark_home = (dir_ / "spark").string();
    EXPECT_EQ(image_problem(settings_, false), "");
    settings_.spark_home = "/nowhere/spark";
    EXPECT_THAT(image_problem(settings_, false), HasSubstr("('/nowhere/spark')"));
}

TEST_F(ImageCheck, NoImageNoCheck) {
    settings_.kind = RuntimeChoice::None;
    EXPECT_EQ(image_problem(settings_, true), "");
}

}  // namespace
}  // namespace spark_slurm
