// The job's secret and Connect token in files of the shared credentials directory (see
// job_secrets.hpp). Every open goes through a descriptor of the directory opened without
// following a symbolic link, and every file is checked with fstat on the descriptor actually
// read or written: whoever can swap a name in the job dir cannot redirect either side.
#include "rendezvous/job_secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "common/errors.hpp"
#include "common/unique_fd.hpp"
#include "plan/plan_json.hpp"

namespace spark_slurm {

namespace {

// Far above the 64 hex digits of a secret, and a bound on what a rank reads.
constexpr std::size_t kMaxSecretBytes = 4096;

constexpr const char* kSharedDirFix =
    "the job dir must be on a filesystem that every node of the job shares, the same path "
    "everywhere: give --job-dir such a directory";

std::string system_error_text(int error) { return std::strerror(error); }

// What makes a directory or file unfit to hold a secret, or "" when it is fit: it must be the
// user's own, and nobody else may read or enter it.
std::string privacy_problem(const struct stat& info) {
    if (info.st_uid != ::geteuid())
        return "it belongs to user id " + std::to_string(info.st_uid) + ", not to you";
    if ((info.st_mode & 077) != 0)
        return "other users may read it (mode " + [&] {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(info.st_mode & 0777));
            return std::string(mode);
        }() + ")";
    return "";
}

// The credentials directory, opened without following a symbolic link. On the leader
// (`create`) it is made 0700 if missing and set to 0700 if it is the user's own; a reader only
// checks it.
UniqueFd open_credentials_dir(const Plan& plan, const std::string& directory, bool create) {
    if (create) {
        std::error_code error;
        std::filesystem::create_directories(plan.job_dir, error);
        if (error)
            throw LaunchError("while creating the job dir " + plan.job_dir + ": " +
                              error.message() + "; " + kSharedDirFix);
        if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
            throw LaunchError("while creating the credentials directory " + directory + ": " +
                              system_error_text(errno) + "; " + kSharedDirFix);
    }
    UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) {
        const int error = errno;
        throw LaunchError("cannot open the job's credentials directory " + directory + ": " +
                          system_error_text(error) +
                          (error == ELOOP || error == ENOTDIR
                               ? "; it must be a directory of yours, not a symbolic link: remove it"
                               : std::string("; ") + kSharedDirFix));
    }
    struct stat info {};
    if (::fstat(dir.get(), &info) != 0)
        throw LaunchError("cannot inspect " + directory + ": " + system_error_text(errno));
    if (info.st_uid != ::geteuid())
        throw LaunchError("the job's credentials directory " + directory + " " +
                          privacy_problem(info) + ": remove it (or choose another --job-dir)");
    if ((info.st_mode & 077) != 0) {
        if (!create)
            throw LaunchError("the job's credentials directory " + directory + ": " +
                              privacy_problem(info) + "; make it private: chmod 700 " + directory);
        if (::fchmod(dir.get(), 0700) != 0)
            throw LaunchError("while making " + directory +
                              " private (0700): " + system_error_text(errno));
    }
    return dir;
}

void write_secret_file(int dir, const std::string& path, const std::string& name,
                       const std::string& content) {
    const auto fail = [&](const std::string& doing, int error) {
        return LaunchError("while writing the job's secrets to " + path + ": " + doing + ": " +
                           system_error_text(error) + "; " + kSharedDirFix);
    };
    UniqueFd file(
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (file.get() < 0) throw fail("open", errno);
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) throw fail("fstat", errno);
    if (!S_ISREG(info.st_mode) || info.st_uid != ::geteuid())
        throw LaunchError(path + " is not a file of yours: remove it");
    // An older file (another umask, a copy) keeps its mode through O_TRUNC.
    if ((info.st_mode & 0777) != 0600 && ::fchmod(file.get(), 0600) != 0)
        throw fail("chmod 600", errno);
    for (std::size_t written = 0; written < content.size();) {
        const ssize_t n = ::write(file.get(), content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw fail("write", n < 0 ? errno : EIO);
        written += static_cast<std::size_t>(n);
    }
    // On the file server before the broadcast tells the other ranks to read it.
    if (::fsync(file.get()) != 0) throw fail("fsync", errno);
    if (const int error = file.close(); error != 0) throw fail("close", error);
}

std::string read_secret_file(int dir, const std::string& path, const std::string& name) {
    const auto fail = [&](const std::string& why) {
        return LaunchError("cannot read the job's secrets from " + path + ": " + why);
    };
    UniqueFd file(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (file.get() < 0) throw fail(system_error_text(errno) + "; " + kSharedDirFix);
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) throw fail(system_error_text(errno));
    if (!S_ISREG(info.st_mode)) throw fail("it is not a regular file: remove it");
    if (const std::string problem = privacy_problem(info); !problem.empty())
        throw fail(problem + "; remove it, the leader writes it again at the next start");
    std::string content(kMaxSecretBytes + 1, '\0');
    std::size_t length = 0;
    while (length < content.size()) {
        const ssize_t n = ::read(file.get(), content.data() + length, content.size() - length);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw fail(system_error_text(errno));
        if (n == 0) break;
        length += static_cast<std::size_t>(n);
    }
    if (length > kMaxSecretBytes)
        throw fail("it holds more than " + std::to_string(kMaxSecretBytes) + " bytes");
    content.resize(length);
    return content;
}

void check_fingerprint(const std::string& path, const std::string& content,
                       const std::string& expected, const Plan& plan) {
    const std::string found = secret_fingerprint(content);
    if (found == expected) return;
    throw LaunchError(
        path + " does not hold what the leader of job " + std::to_string(plan.job_id) +
        " wrote (fingerprint " + found + ", the leader's " + expected +
        "): this node does not see the leader's copy of the job dir; " + kSharedDirFix);
}

}  // namespace

JobSecretFiles job_secret_files(const Plan& plan) {
    JobSecretFiles files;
    // The directory of the Kerberos keytabs: private, shared, and gone with the job dir.
    files.directory = kerberos_names(plan).dir;
    files.secret = files.directory + "/job-secret";
    files.connect_token = files.directory + "/connect-token";
    files.ui_token = ui_token_file(plan);
    return files;
}

void write_job_secrets(const Plan& plan) {
    const JobSecretFiles files = job_secret_files(plan);
    UniqueFd dir = open_credentials_dir(plan, files.directory, true);
    write_secret_file(dir.get(), files.secret, "job-secret", plan.secret);
    write_secret_file(dir.get(), files.ui_token, "ui-token", plan.ui_token);
    if (plan.connect) {
        write_secret_file(dir.get(), files.connect_token, "connect-token", plan.connect_token);
    } else {
        ::unlinkat(dir.get(), "connect-token", 0);  // an earlier run's: nobody needs it
    }
}

void read_job_secrets(Plan& plan, const std::string& secret_fingerprint,
                      const std::string& connect_token_fingerprint) {
    const JobSecretFiles files = job_secret_files(plan);
    UniqueFd dir = open_credentials_dir(plan, files.directory, false);
    std::string secret = read_secret_file(dir.get(), files.secret, "job-secret");
    check_fingerprint(files.secret, secret, secret_fingerprint, plan);
    std::string token;
    if (plan.connect) {
        token = read_secret_file(dir.get(), files.connect_token, "connect-token");
        check_fingerprint(files.connect_token, token, connect_token_fingerprint, plan);
    }
    plan.secret = std::move(secret);
    plan.connect_token = std::move(token);
}

}  // namespace spark_slurm
