// The connection record on disk: the private directories it lives in (created 0700, refused when
// another user owns them or group/others may use them), atomic 0600 writes, and reading records
// back (their JSON: cluster_record_json.cpp).
#include "cluster/cluster_record.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <tuple>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/user_account.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

constexpr const char* kRecordFile = "cluster.json";

std::string errno_text(int error) { return std::strerror(error); }

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// A directory that must hold secrets: a real directory (not a symbolic link), ours, and closed
// to group and others.
void check_private_directory(const std::string& path) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
        throw LaunchError("while checking " + path + ": " + errno_text(errno));
    }
    if (S_ISLNK(info.st_mode) || !S_ISDIR(info.st_mode)) {
        throw LaunchError(path +
                          " is not a directory (a symbolic link or a file): spark-slurm keeps "
                          "clusters' connection details and secrets there; move it away");
    }
    if (info.st_uid != ::getuid()) {
        throw LaunchError(path + " belongs to uid " + std::to_string(info.st_uid) +
                          ", not to you (uid " + std::to_string(::getuid()) +
                          "): spark-slurm keeps clusters' connection details and secrets there; "
                          "move it away");
    }
    if ((info.st_mode & 077) != 0) {
        throw LaunchError(path + " is open to group or others (mode " + octal_mode(info.st_mode) +
                          "): spark-slurm keeps clusters' connection details and secrets there; "
                          "run 'chmod 700 " +
                          path + "'");
    }
}

// Creates `path` 0700 unless it exists, then checks it.
void ensure_private_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) == 0) {
        // The umask could only have removed bits; make it exactly 0700.
        if (::chmod(path.c_str(), 0700) != 0) {
            throw LaunchError("while creating " + path + ": " + errno_text(errno));
        }
    } else if (errno != EEXIST) {
        throw LaunchError("while creating " + path + ": " + errno_text(errno));
    }
    check_private_directory(path);
}

std::string lexically_clean(const std::string& path) {
    std::string clean = fs::path(path).lexically_normal().string();
    while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
    return clean;
}

std::string job_text(std::uint32_t job_id) { return std::to_string(job_id); }

void write_all(int fd, const std::string& content, const std::string& path) {
    const char* data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t written = ::write(fd, data, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            throw LaunchError("while writing " + path + ": " + errno_text(errno));
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
}

std::optional<std::string> read_private_record_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw LaunchError("while reading " + path + ": " + errno_text(errno));
    }
    std::string text;
    try {
        struct stat info {};
        if (::fstat(fd, &info) != 0) {
            throw LaunchError("while reading " + path + ": " + errno_text(errno));
        }
        if (!S_ISREG(info.st_mode) || info.st_uid != ::getuid()) {
            throw LaunchError(path + " is not a file of yours; remove it");
        }
        char buffer[8192];
        for (;;) {
            ssize_t got = ::read(fd, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw LaunchError("while reading " + path + ": " + errno_text(errno));
            if (got == 0) break;
            text.append(buffer, static_cast<std::size_t>(got));
        }
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return text;
}

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

void write_private_file(const std::string& path, const std::string& content) {
    fs::path target(path);
    std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
    std::string temporary = dir + "/." + target.filename().string() + ".XXXXXX";
    int fd = ::mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0) throw LaunchError("while writing " + path + ": " + errno_text(errno));
    try {
        if (::fchmod(fd, 0600) != 0) {
            throw LaunchError("while writing " + path + ": " + errno_text(errno));
        }
        write_all(fd, content, path);
        if (::fsync(fd) != 0) {
            throw LaunchError("while writing " + path + ": " + errno_text(errno));
        }
        int closed = ::close(fd);
        fd = -1;
        if (closed != 0) throw LaunchError("while writing " + path + ": " + errno_text(errno));
        if (::rename(temporary.c_str(), path.c_str()) != 0) {
            throw LaunchError("while writing " + path + ": " + errno_text(errno));
        }
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(temporary.c_str());
        throw;
    }
    // The rename itself is durable once the directory is synced; a failure here loses nothing
    // a reader could see.
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
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
    ensure_private_directory(parent);
    ensure_private_directory(root);
    std::string current = root;
    for (const auto& part : fs::path(target.substr(root.size()))) {
        if (part == "/" || part.empty()) continue;
        current += "/" + part.string();
        ensure_private_directory(current);
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
    check_private_directory(lexically_clean(clusters_dir));
    check_private_directory(dir);
    std::string path = dir + "/" + kRecordFile;
    auto text = read_private_record_file(path);
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
    check_private_directory(root);
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
    std::ifstream file(record_dir + "/client-env");
    for (std::string line; std::getline(file, line);) {
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

}  // namespace spark_slurm
