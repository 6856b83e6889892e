#include "history/event_logs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/errors.hpp"
#include "common/private_files.hpp"
#include "common/ui_login.hpp"
#include "plan/plan.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void reject(const std::string& problem) {
    throw UsageError("spark-slurm history: " + problem);
}

// ~/.spark-slurm and its history directory; the home itself is not ours to change.
const PrivateDirectoryUse kRecordsUse{
    "spark-slurm records there where each job's Spark event logs are", "move it away", true};

void make_private_dirs(const fs::path& dir) {
    std::error_code error;
    fs::create_directories(dir.parent_path().parent_path(), error);  // the home, normally there
    make_private_directory(dir.parent_path().string(), kRecordsUse);
    make_private_directory(dir.string(), kRecordsUse);
}

bool is_directory(const fs::path& path) {
    std::error_code error;
    return fs::is_directory(path, error);
}

// "123" -> 123; nullopt for anything that is not a job id.
std::optional<std::uint32_t> job_id_of(const std::string& name) {
    if (name.empty() || name.size() > 10 ||
        name.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    auto value = std::stoull(name);
    if (value == 0 || value > 0xffffffffULL) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

std::string default_event_log_dir(const std::string& current_dir, std::uint32_t job_id) {
    return (fs::path(current_dir) / fmt::format("spark-slurm-{}", job_id) / kEventLogDirName)
        .string();
}

}  // namespace

std::string history_records_dir(const std::string& home) {
    return (fs::path(home) / ".spark-slurm" / "history").string();
}

void record_event_log_dir(const std::string& records_dir, std::uint32_t job_id,
                          const std::string& event_log_dir) {
    make_private_dirs(records_dir);
    const fs::path path = fs::path(records_dir) / std::to_string(job_id);
    write_private_file(path.string(), event_log_dir + "\n");
}

std::optional<std::string> recorded_event_log_dir(const std::string& records_dir,
                                                  std::uint32_t job_id) {
    // One path and a newline; a record much larger than that is not one of ours.
    constexpr std::size_t kRecordLimit = 64 * 1024;
    const auto text =
        read_private_file((fs::path(records_dir) / std::to_string(job_id)).string(), kRecordLimit);
    if (!text) return std::nullopt;
    const std::string dir = text->substr(0, text->find('\n'));
    if (dir.empty()) return std::nullopt;
    return dir;
}

std::vector<EventLogSource> find_event_logs(const std::vector<std::uint32_t>& jobs,
                                            const std::optional<std::string>& job_dir,
                                            const std::string& records_dir,
                                            const std::string& current_dir) {
    std::vector<EventLogSource> sources;
    for (std::uint32_t job : jobs) {
        const std::string what = fmt::format("job {}", job);
        if (auto recorded = recorded_event_log_dir(records_dir, job)) {
            if (!is_directory(*recorded)) {
                reject(
                    fmt::format("the event logs of job {} were in {} (recorded in {}/{}), "
                                "which no longer exists",
                                job, *recorded, records_dir, job));
            }
            sources.push_back({what, *recorded});
            continue;
        }
        std::string here = default_event_log_dir(current_dir, job);
        if (!is_directory(here)) {
            reject(
                fmt::format("no event logs of job {} are recorded in {} and {} does not "
                            "exist; give the job's directory with --job-dir DIR",
                            job, records_dir, here));
        }
        sources.push_back({what, here});
    }
    if (job_dir) {
        std::string dir = (fs::path(*job_dir) / kEventLogDirName).string();
        if (!is_directory(dir)) {
            reject(
                fmt::format("--job-dir {}: {} does not exist (did the job run with "
                            "--no-event-log, or with another --job-dir?)",
                            *job_dir, dir));
        }
        sources.push_back({"--job-dir " + *job_dir, dir});
    }
    if (!jobs.empty() || job_dir) return sources;

    // Everything: the records, then the job dirs here that no record names.
    std::map<std::uint32_t, std::string> found;
    std::error_code error;
    for (fs::directory_iterator it(records_dir, error), end; !error && it != end;
         it.increment(error)) {
        auto job = job_id_of(it->path().filename().string());
        if (!job) continue;
        auto dir = recorded_event_log_dir(records_dir, *job);
        if (dir && is_directory(*dir)) found.emplace(*job, *dir);
    }
    error.clear();
    for (fs::directory_iterator it(current_dir, error), end; !error && it != end;
         it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (name.rfind("spark-slurm-", 0) != 0) continue;
        auto job = job_id_of(name.substr(std::string("spark-slurm-").size()));
        if (!job) continue;
        std::string dir = (it->path() / kEventLogDirName).string();
        if (is_directory(dir)) found.emplace(*job, dir);
    }
    if (found.empty()) {
        reject(
            fmt::format("found no job's event logs: nothing is recorded in {} and no "
                        "./spark-slurm-JOBID/{} is here; give JOBID or --job-dir DIR",
                        records_dir, kEventLogDirName));
    }
    for (const auto& [job, dir] : found) {
        // Two records may name one directory (a job dir reused): serve it once.
        bool seen = std::any_of(sources.begin(), sources.end(),
                                [&](const EventLogSource& source) { return source.dir == dir; });
        if (!seen) sources.push_back({fmt::format("job {}", job), dir});
    }
    return sources;
}

std::vector<std::string> link_event_logs(const std::vector<EventLogSource>& sources,
                                         const std::string& farm) {
    std::vector<std::string> warnings;
    for (const auto& source : sources) {
        std::error_code error;
        for (fs::directory_iterator it(source.dir, error), end; !error && it != end;
             it.increment(error)) {
            const std::string name = it->path().filename().string();
            if (name.empty() || name.front() == '.') continue;
            const fs::path link = fs::path(farm) / name;
            std::error_code link_error;
            if (fs::is_symlink(link, link_error)) {
                if (fs::read_symlink(link, link_error) != it->path()) {
                    warnings.push_back(
                        fmt::format("{} of {} has the same name as another "
                                    "job's; only the first is served",
                                    name, source.what));
                }
                continue;
            }
            fs::create_symlink(it->path(), link, link_error);
            if (link_error) {
                throw LaunchError(fmt::format("while linking {} into {}: {}", it->path().string(),
                                              farm, link_error.message()));
            }
        }
    }
    return warnings;
}

std::string history_server_properties(const std::string& log_directory, std::uint16_t port,
                                      const std::string& ui_token_file) {
    std::string text = "# generated by spark-slurm history (mode 0600)\n";
    auto line = [&](const std::string& key, const std::string& value) {
        text += fmt::format("{:<40} {}\n", key, value);
    };
    line("spark.history.fs.logDirectory", "file://" + log_directory);
    line("spark.history.ui.port", std::to_string(port));
    line("spark.history.fs.update.interval", "2s");
    // Applications stay as long as the job dir keeps their logs: nothing is deleted from there.
    line("spark.history.fs.cleaner.enabled", "false");
    // Yours alone, other users of the login node included.
    line("spark.ui.filters", kSparkUiFilter);
    line(fmt::format("spark.{}.param.tokenFile", kSparkUiFilter), ui_token_file);
    return text;
}

}  // namespace spark_slurm
