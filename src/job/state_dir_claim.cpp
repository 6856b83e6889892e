#include "job/state_dir_claim.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/errors.hpp"
#include "common/private_files.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

constexpr int kLookups = 3;   // slurmctld's silence, asked this often, is "cannot tell"
constexpr int kAttempts = 5;  // claims lost to a racer before giving up

[[noreturn]] void cannot(const std::string& what, int error) {
    throw UsageError(
        fmt::format("spark-slurm run: cannot {}: {}; give --state-dir a writable "
                    "directory on a shared filesystem",
                    what, std::strerror(error)));
}

// The job an owner file names ("job N"), nullopt when it is missing or says something else.
std::optional<std::uint32_t> owner_job(const fs::path& file) {
    std::ifstream in(file);
    std::string word;
    std::uint32_t job = 0;
    if (in >> word >> job && word == "job") return job;
    return std::nullopt;
}

// Creates `file` naming `job_id`, only if it does not exist; false when it does. The claim is
// written in full and synced to a file of its own first (write_private_file) and then linked to
// `file` (link() fails when the name exists, atomically on NFS too): nobody ever reads a claim
// half written.
bool create_claim(const fs::path& file, std::uint32_t job_id) {
    static std::atomic<unsigned> serial = 0;
    const fs::path draft =
        file.parent_path() /
        fmt::format("{}.new-{}-{}-{}", file.filename().string(), job_id, ::getpid(), serial++);
    try {
        write_private_file(draft.string(), fmt::format("job {}\n", job_id), 0644,
                           Durability::Synced);
    } catch (const PrivateFileError& failed) {
        throw UsageError(fmt::format(
            "spark-slurm run: {}; give --state-dir a writable directory on a shared filesystem",
            failed.what()));
    }
    const bool linked = ::link(draft.c_str(), file.c_str()) == 0;
    const int error = errno;
    ::unlink(draft.c_str());
    if (!linked && error != EEXIST) cannot("create " + file.string(), error);
    return linked;
}

JobActivity ask(const JobActivityLookup& activity, std::uint32_t job) {
    JobActivity answer = JobActivity::Unknown;
    for (int i = 0; i < kLookups && answer == JobActivity::Unknown; ++i) answer = activity(job);
    return answer;
}

}  // namespace

void claim_state_dir(const std::string& state_dir, std::uint32_t job_id,
                     const JobActivityLookup& activity) {
    std::error_code error;
    fs::create_directories(state_dir, error);
    if (error) {
        throw UsageError("spark-slurm run: cannot create the state directory " + state_dir + ": " +
                         error.message() +
                         "; give --state-dir a writable directory on a shared filesystem");
    }
    const fs::path owner_file = fs::path(state_dir) / "owner";
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        if (create_claim(owner_file, job_id)) return;
        std::error_code status_error;
        if (fs::symlink_status(owner_file, status_error).type() != fs::file_type::regular &&
            !status_error) {
            throw UsageError("spark-slurm run: " + owner_file.string() +
                             " is not a file (a directory or a symbolic link); remove it, or "
                             "give this job another --state-dir");
        }
        const auto holder = owner_job(owner_file);
        if (holder == job_id) return;  // a requeued run of this job
        if (holder) {
            switch (ask(activity, *holder)) {
                case JobActivity::Active:
                    throw UsageError(fmt::format(
                        "spark-slurm run: the state directory {} is in use by job {}, which is "
                        "still active; wait for it to end, or give this job another --state-dir",
                        state_dir, *holder));
                case JobActivity::Unknown:
                    throw UsageError(fmt::format(
                        "spark-slurm run: the state directory {} is held by job {}, and slurmctld "
                        "did not say whether that job still runs (asked {} times); resubmit when "
                        "the controller answers, or give this job another --state-dir",
                        state_dir, *holder, kLookups));
                case JobActivity::Ended:
                    break;
            }
        }
        // A stale (or unreadable) claim: move it aside under a name of this job's. Of two jobs
        // doing so at once only one finds the file; the other may move the winner's fresh claim,
        // which it sees in what it moved, and puts back.
        const fs::path aside = fs::path(state_dir) / fmt::format("owner.stale-{}", job_id);
        if (::rename(owner_file.c_str(), aside.c_str()) != 0) {
            if (errno == ENOENT) continue;
            cannot("move the stale claim " + owner_file.string() + " aside", errno);
        }
        if (owner_job(aside) != holder) {
            // Not the claim judged stale: a racer's. Back where it was, unless yet another
            // claim is there already (then the racer's is lost, and this job still fails below).
            if (::link(aside.c_str(), owner_file.c_str()) != 0 && errno != EEXIST)
                cannot("restore " + owner_file.string(), errno);
        }
        ::unlink(aside.c_str());
    }
    throw UsageError(fmt::format(
        "spark-slurm run: other jobs kept claiming the state directory {} at the same moment as "
        "this one; give each job its own --state-dir",
        state_dir));
}

}  // namespace spark_slurm
