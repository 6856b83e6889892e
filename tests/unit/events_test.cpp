// The events file (--events): one JSON object per line, each with its event, wall time and
// elapsed time, appended whole; a path that cannot be written is a usage error.
#include "job/events.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/errors.hpp"

namespace spark_slurm {
namespace {

TEST(EventLog, AppendsOneJsonObjectPerLine) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("events-test-" + std::to_string(::getpid()) + ".jsonl");
    {
        EventLog events(path.string(), std::chrono::steady_clock::now());
        events.write("phase", {{"phase", "starting_daemons"}});
        events.write("workers", {{"registered", 2}, {"expected", 2}, {"note", "\xff bytes"}});
    }
    EventLog again(path.string(), std::chrono::steady_clock::now());
    again.write("exit", {{"code", 0}});
    std::ifstream file(path);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(nlohmann::json::parse(line));
    std::filesystem::remove(path);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0]["event"], "phase");
    EXPECT_EQ(lines[0]["phase"], "starting_daemons");
    EXPECT_EQ(lines[1]["registered"], 2);
    EXPECT_EQ(lines[2]["event"], "exit");
    for (const auto& line : lines) {
        EXPECT_GT(line["time"].get<double>(), 1.7e9);
        EXPECT_GE(line["elapsed"].get<double>(), 0.0);
    }
    EXPECT_EQ(std::filesystem::status(path).type(), std::filesystem::file_type::not_found);
}

TEST(EventLog, AnUnwritablePathIsAUsageError) {
    EXPECT_THROW(EventLog("/nonexistent/dir/events.jsonl", std::chrono::steady_clock::now()),
                 UsageError);
}

}  // namespace
}  // namespace spark_slurm
