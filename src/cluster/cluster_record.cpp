// The connection record on disk: the chain of private directories it lives in (created 0700,
// refused when another user owns them or group/others may use them), and reading records back
// (their JSON: cluster_record_json.cpp). The files and directories themselves are made by
// common/private_files.
#include "cluster/cluster_record.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <sstream>
#include <tuple>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/user_account.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

constexpr const char* kRecordFile = "cluster.json";

// The records' directories: never widened behind the user's back (an open one is refused with
// the chmod that fixes it), since the user may have opened it on purpose and must know.
const PrivateDirectoryUse kRecordsUse{
    "spark-slurm keeps clusters' connection details and secrets there", "move it away", false};

// A record is a few kilobytes; anything much larger is not one.
constexpr std::size_t kRecordLimit = 1024 * 1024;

std::string lexically_clean(const std::string& path) {
    std::string clean = fs::path(path).lexically_normal().string();
    while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
    return clean;
}

std::string job_text(std::uint32_t job_id) { return std::to_string(job_id); }

bool all_digits(const std::string& text) {
    return !text.empty() && text.size() <= 10 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string clusters_directory() {
    return lexically_clean(user_account().home) + "/.spark-slurm/clusters";
}

std::string record_directory(std::uint32_t job_id) {
    return records_in::record_directory(clusters_directory(), job_id);
}

void make_private_directory(const std::string& path) {
    records_in::make_private_directory(clusters_directory(), path);
}

std::string prepare_record_directory(std::uint32_t job_id) {
    return records_in::prepare_record_directory(clusters_directory(), job_id);
}

void publish_record(const ClusterRecord& record) {
    records_in::publish_record(clusters_directory(), record);
}

std::optional<ClusterRecord> read_record(std::uint32_t job_id) {
    return records_in::read_record(clusters_directory(), job_id);
}

std::vector<ClusterRecord> read_all_records() {
    return records_in::read_all_records(clusters_directory());
}

void remove_record_directory(std::uint32_t job_id) noexcept {
    try {
        records_in::remove_record_directory(clusters_directory(), job_id);
    } catch (...) {
        // No home directory: there is no record to remove either.
    }
}

namespace records_in {

std::string record_directory(const std::string& clusters_dir, std::uint32_t job_id) {
    return lexically_clean(clusters_dir) + "/" + job_text(job_id);
}

void make_private_directory(const std::string& clusters_dir, const std::string& path) {
    std::string root = lexically_clean(clusters_dir);
    std::string target = lexically_clean(path);
    if (target != root && target.rfind(root + "/", 0) != 0) {
        throw LaunchError("spark-slurm: " + target + " is not under " + root +
                          " (a bug: private directories are made there only)");
    }
    std::string parent = fs::path(root).parent_path().string();
    if (parent.empty() || parent == "/") {
        throw LaunchError("spark-slurm: " + root + " has no parent to keep private (a bug)");
    }
    spark_slurm::make_private_directory(parent, kRecordsUse);
    spark_slurm::make_private_directory(root, kRecordsUse);
    std::string current = root;
    for (const auto& part : fs::path(target.substr(root.size()))) {
        if (part == "/" || part.empty()) continue;
        current += "/" + part.string();
        spark_slurm::make_private_directory(current, kRecordsUse);
    }
}

std::string prepare_record_directory(const std::string& clusters_dir, std::uint32_t job_id) {
    std::string dir = record_directory(clusters_dir, job_id);
    make_private_directory(clusters_dir, dir);
    // A requeued run of the same job: nothing of the previous run's record may survive.
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        fs::remove_all(entry.path(), error);
        if (error) {
            throw LaunchError("while emptying " + dir + " for a new record: " + error.message());
        }
    }
    if (error) throw LaunchError("while emptying " + dir + ": " + error.message());
    return dir;
}

void publish_record(const std::string& clusters_dir, const ClusterRecord& record) {
    std::string dir = record_directory(clusters_dir, record.job_id);
    make_private_directory(clusters_dir, dir);
    write_private_file(dir + "/" + kRecordFile, record_to_json(record));
}

std::optional<ClusterRecord> read_record(const std::string& clusters_dir, std::uint32_t job_id) {
    std::string dir = record_directory(clusters_dir, job_id);
    std::error_code error;
    if (!fs::exists(fs::symlink_status(dir, error))) return std::nullopt;
    check_private_directory(lexically_clean(clusters_dir), kRecordsUse);
    check_private_directory(dir, kRecordsUse);
    std::string path = dir + "/" + kRecordFile;
    auto text = read_private_file(path, kRecordLimit);
    if (!text) return std::nullopt;  // not ready yet, or being torn down
    ClusterRecord record = record_from_json(*text, path);
    if (record.job_id != job_id) {
        throw LaunchError("the cluster record " + path + " is of job " +
                          std::to_string(record.job_id) + ", not of job " + job_text(job_id) +
                          "; remove it");
    }
    return record;
}

std::vector<ClusterRecord> read_all_records(const std::string& clusters_dir) {
    std::vector<ClusterRecord> records;
    std::error_code error;
    std::string root = lexically_clean(clusters_dir);
    if (!fs::exists(fs::symlink_status(root, error))) return records;
    check_private_directory(root, kRecordsUse);
    for (const auto& entry : fs::directory_iterator(root, error)) {
        std::string name = entry.path().filename().string();
        if (!all_digits(name) || std::stoull(name) > std::numeric_limits<std::uint32_t>::max()) {
            if (name.front() != '.') {
                log::warn(
                    "skipping {}: not a cluster record (the directories there are named "
                    "after job ids)",
                    entry.path().string());
            }
            continue;
        }
        try {
            auto record = read_record(root, static_cast<std::uint32_t>(std::stoul(name)));
            if (record) records.push_back(std::move(*record));
        } catch (const LaunchError& failure) {
            log::warn("skipping a cluster record: {}", failure.what());
        }
    }
    if (error) throw LaunchError("while listing " + root + ": " + error.message());
    std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
        return std::tie(a.ready_at, a.job_id) < std::tie(b.ready_at, b.job_id);
    });
    return records;
}

void remove_record_directory(const std::string& clusters_dir, std::uint32_t job_id) noexcept {
    std::error_code error;
    fs::remove_all(record_directory(clusters_dir, job_id), error);
}

}  // namespace records_in

std::vector<std::pair<std::string, std::string>> read_client_environment(
    const std::string& record_dir) {
    std::vector<std::pair<std::string, std::string>> variables;
    std::optional<std::string> text;
    try {
        text = read_private_file(record_dir + "/client-env", kRecordLimit);
    } catch (const PrivateFileError& unreadable) {
        log::warn("ignoring the cluster's client environment: {}", unreadable.what());
    }
    if (!text) return variables;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
        const auto equals = line.find('=');
        if (equals == std::string::npos || equals == 0) continue;
        const std::string name = line.substr(0, equals);
        const bool shell_name =
            std::all_of(
                name.begin(), name.end(),
                [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }) &&
            !std::isdigit(static_cast<unsigned char>(name.front()));
        if (shell_name) variables.emplace_back(name, line.substr(equals + 1));
    }
    return variables;
}

std::optional<std::string> read_record_token(const std::string& record_dir,
                                             const std::string& name) {
    // A secret: not through a link, only the user's own file, and a token is short.
    constexpr std::size_t kTokenLimit = 64 * 1024;
    auto text = read_private_file(record_dir + "/" + name, kTokenLimit);
    if (!text) return std::nullopt;
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r' || text->back() == ' '))
        text->pop_back();
    return text;
}

std::optional<std::string> read_ui_token(const std::string& record_dir) {
    try {
        return read_record_token(record_dir, "ui-token");
    } catch (const PrivateFileError& unreadable) {
        log::warn("ignoring the cluster's web UI token: {}", unreadable.what());
        return std::nullopt;
    }
}

}  // namespace spark_slurm
