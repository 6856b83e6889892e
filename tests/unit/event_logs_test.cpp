// How `spark-slurm history` finds jobs' event logs (records, --job-dir, ./spark-slurm-JOBID), the
// directory of links it gives the history server for several jobs, and the server's properties.
#include "history/event_logs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cmd/history_command.hpp"
#include "common/errors.hpp"

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A scratch directory with a home (records) and a submit directory (job dirs), removed after.
class EventLogsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (fs::temp_directory_path() / "spark-slurm-event-logs-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        records_ = history_records_dir(root_ + "/home");
        submit_ = root_ + "/submit";
        fs::create_directories(submit_);
    }
    void TearDown() override { fs::remove_all(root_); }

    // <submit>/spark-slurm-JOB/spark-events with `logs` in it.
    std::string job_dir_with_logs(std::uint32_t job, const std::vector<std::string>& logs) {
        std::string dir = submit_ + "/spark-slurm-" + std::to_string(job) + "/spark-events";
        fs::create_directories(dir);
        for (const auto& log : logs) {
            if (log.rfind("eventlog_v2_", 0) == 0) {
                fs::create_directories(dir + "/" + log);
                std::ofstream(dir + "/" + log + "/events_1_x.zstd") << "x";
            } else {
                std::ofstream(dir + "/" + log) << "x";
            }
        }
        return dir;
    }

    std::string rejection(const std::vector<std::uint32_t>& jobs,
                          const std::optional<std::string>& job_dir = std::nullopt) {
        try {
            find_event_logs(jobs, job_dir, records_, submit_);
        } catch (const UsageError& error) {
            return error.what();
        }
        ADD_FAILURE() << "accepted";
        return "";
    }

    std::string root_, records_, submit_;
};

TEST_F(EventLogsTest, RecordsArePrivateAndNameTheDirectory) {
    record_event_log_dir(records_, 42, "/shared/me/spark-slurm-42/spark-events");
    EXPECT_EQ(recorded_event_log_dir(records_, 42), "/shared/me/spark-slurm-42/spark-events");
    EXPECT_FALSE(recorded_event_log_dir(records_, 43));
    auto perms = [](const std::string& path) {
        return fs::status(path).permissions() & fs::perms::all;
    };
    EXPECT_EQ(perms(records_ + "/42"), fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(perms(records_), fs::perms::owner_all);
    EXPECT_EQ(perms(fs::path(records_).parent_path().string()), fs::perms::owner_all);
    // A requeued run records again: the same job, the same answer, no stray temporary file.
    record_event_log_dir(records_, 42, "/shared/me/spark-slurm-42/spark-events");
    EXPECT_EQ(std::distance(fs::directory_iterator(records_), fs::directory_iterator()), 1);
}

TEST_F(EventLogsTest, AJobIsFoundByItsRecordOrInTheCurrentDirectory) {
    std::string elsewhere = root_ + "/elsewhere/spark-events";
    fs::create_directories(elsewhere);
    record_event_log_dir(records_, 7, elsewhere);
    std::string here = job_dir_with_logs(8, {});
    EXPECT_THAT(find_event_logs({7, 8}, std::nullopt, records_, submit_),
                ElementsAre(EventLogSource{"job 7", elsewhere}, EventLogSource{"job 8", here}));
    EXPECT_THAT(find_event_logs({}, root_ + "/elsewhere", records_, submit_),
                ElementsAre(EventLogSource{"--job-dir " + root_ + "/elsewhere", elsewhere}));
}

TEST_F(EventLogsTest, MissingLogsAreRefusedWithTheFix) {
    EXPECT_THAT(rejection({9}), HasSubstr("no event logs of job 9 are recorded"));
    EXPECT_THAT(rejection({9}), HasSubstr("--job-dir DIR"));
    record_event_log_dir(records_, 10, root_ + "/gone/spark-events");
    EXPECT_THAT(rejection({10}), HasSubstr("which no longer exists"));
    EXPECT_THAT(rejection({}, root_ + "/nothing"), HasSubstr("--no-event-log"));
    EXPECT_THAT(rejection({}), HasSubstr("found no job's event logs"));
}

TEST_F(EventLogsTest, WithoutJobsEveryRecordedAndLocalJobIsServedOnce) {
    std::string recorded = job_dir_with_logs(5, {});
    record_event_log_dir(records_, 5, recorded);
    std::string local = job_dir_with_logs(3, {});
    record_event_log_dir(records_, 6, root_ + "/gone/spark-events");  // skipped: deleted since
    fs::create_directories(submit_ + "/spark-slurm-notajob/spark-events");
    EXPECT_THAT(find_event_logs({}, std::nullopt, records_, submit_),
                ElementsAre(EventLogSource{"job 3", local}, EventLogSource{"job 5", recorded}));
}

TEST_F(EventLogsTest, SeveralJobsAreLinkedIntoOneDirectory) {
    std::string one = job_dir_with_logs(1, {"eventlog_v2_app-1-0000", "app-1-0001.zstd"});
    std::string two = job_dir_with_logs(2, {"eventlog_v2_app-2-0000", "eventlog_v2_app-1-0000"});
    std::ofstream(one + "/.hidden.crc") << "x";
    std::string farm = root_ + "/farm";
    fs::create_directories(farm);
    std::vector<EventLogSource> sources{{"job 1", one}, {"job 2", two}};
    auto warnings = link_event_logs(sources, farm);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], HasSubstr("eventlog_v2_app-1-0000 of job 2"));
    EXPECT_EQ(fs::read_symlink(farm + "/eventlog_v2_app-1-0000"), one + "/eventlog_v2_app-1-0000");
    EXPECT_EQ(fs::read_symlink(farm + "/app-1-0001.zstd"), one + "/app-1-0001.zstd");
    EXPECT_EQ(fs::read_symlink(farm + "/eventlog_v2_app-2-0000"), two + "/eventlog_v2_app-2-0000");
    EXPECT_FALSE(fs::exists(farm + "/.hidden.crc"));
    // Again, with a new application in job 2: only it is added.
    job_dir_with_logs(2, {"eventlog_v2_app-2-0001"});
    link_event_logs(sources, farm);
    EXPECT_EQ(std::distance(fs::directory_iterator(farm), fs::directory_iterator()), 4);
}

TEST(HistoryServerProperties, LogDirectoryPortAndAShortUpdateInterval) {
    auto text = history_server_properties("/shared/me/spark-slurm-1/spark-events", 18080,
                                          "/tmp/h/ui-token");
    EXPECT_THAT(text, HasSubstr("spark.history.fs.logDirectory            "
                                "file:///shared/me/spark-slurm-1/spark-events\n"));
    EXPECT_THAT(text, HasSubstr("spark.history.ui.port                    18080\n"));
    EXPECT_THAT(text, HasSubstr("spark.history.fs.update.interval         2s\n"));
    EXPECT_THAT(
        text, HasSubstr("spark.ui.filters                         spark_slurm.ui.UiLoginFilter\n"));
    EXPECT_THAT(text,
                HasSubstr("spark.spark_slurm.ui.UiLoginFilter.param.tokenFile /tmp/h/ui-token\n"));
}

TEST(HistoryServerProperties, TheTunnelReachesTheLoopbackPort) {
    EXPECT_EQ(ssh_tunnel_line("login1.example.org", 41234),
              "ssh -N -L 41234:localhost:41234 login1.example.org");
}

}  // namespace
}  // namespace spark_slurm
