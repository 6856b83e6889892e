// The one PATH search: which entry wins, and what is passed over.
#include "common/executables.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;

// Three directories a, b, c under a fresh one of this test process.
class FindOnPath : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::remove_all(root_);
        for (const char* name : {"a", "b", "c"}) fs::create_directories(root_ / name);
    }
    void TearDown() override { fs::remove_all(root_); }

    std::string dir(const char* name) const { return (root_ / name).string(); }
    void make_file(const char* dir, const char* name, fs::perms perms) const {
        const fs::path path = root_ / dir / name;
        std::ofstream(path) << "#!/bin/sh\n";
        fs::permissions(path, perms);
    }

    const fs::path root_ =
        fs::temp_directory_path() / ("spark-slurm-path-test-" + std::to_string(::getpid()));
};

TEST_F(FindOnPath, TakesTheFirstExecutableFileInPathOrder) {
    make_file("b", "tool", fs::perms::owner_all);
    make_file("c", "tool", fs::perms::owner_all);
    const Environment environment{{"PATH", dir("a") + ":" + dir("b") + ":" + dir("c")}};
    EXPECT_EQ(find_on_path("tool", environment), dir("b") + "/tool");
    EXPECT_TRUE(is_executable_file(dir("b") + "/tool"));
}

TEST_F(FindOnPath, PassesOverWhatCannotBeExecutedAndEmptyEntries) {
    make_file("a", "tool", fs::perms::owner_read | fs::perms::owner_write);
    fs::create_directory(root_ / "b" / "tool");  // a directory is not a program
    make_file("c", "tool", fs::perms::owner_all);
    const Environment environment{{"PATH", "::" + dir("a") + "::" + dir("b") + ":" + dir("c")}};
    EXPECT_EQ(find_on_path("tool", environment), dir("c") + "/tool");
    EXPECT_FALSE(is_executable_file(dir("a") + "/tool"));
    EXPECT_FALSE(is_executable_file(dir("b") + "/tool"));
}

TEST_F(FindOnPath, IsEmptyWhenNothingOrNoPath) {
    EXPECT_EQ(find_on_path("tool", {{"PATH", dir("a")}}), "");
    EXPECT_EQ(find_on_path("tool", {{"PATH", ""}}), "");
    EXPECT_EQ(find_on_path("sh", {{"HOME", "/"}}), "");
    EXPECT_FALSE(is_executable_file(dir("a") + "/missing"));
}

}  // namespace
}  // namespace spark_slurm
