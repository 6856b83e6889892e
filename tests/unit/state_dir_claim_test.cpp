// One job at a time on a --state-dir (issue 27: the claim was read-then-write, and passed when
// slurmctld did not answer). Real files in a scratch directory; slurmctld's answers are a stand-in
// lookup (the integration tests use the real one).
#include "job/state_dir_claim.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/errors.hpp"
#include "fixtures.hpp"

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

class StateDirClaim : public ::testing::Test {
  protected:
    testing::ScratchDirectory scratch_{"spark-slurm-claim-test"};
    std::string dir_ = scratch_.path() + "/state";
    fs::path owner_ = fs::path(dir_) / "owner";
    std::map<std::uint32_t, JobActivity> slurm_;  // unknown ids: Ended
    int lookups_ = 0;
    JobActivityLookup lookup_ = [this](std::uint32_t job) {
        ++lookups_;
        auto it = slurm_.find(job);
        return it == slurm_.end() ? JobActivity::Ended : it->second;
    };

    std::string failure(std::uint32_t job) {
        try {
            claim_state_dir(dir_, job, lookup_);
        } catch (const UsageError& error) {
            return error.what();
        }
        return "";
    }
    // Nothing but the owner file is left in the state dir.
    void expect_only_the_owner_file() {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir_))
            names.push_back(entry.path().filename());
        EXPECT_EQ(names, std::vector<std::string>{"owner"});
    }
};

TEST_F(StateDirClaim, AFreshDirectoryIsMadeAndClaimedWithoutAskingSlurm) {
    claim_state_dir(dir_, 42, lookup_);
    EXPECT_EQ(read_file(owner_), "job 42\n");
    EXPECT_EQ(lookups_, 0);
    expect_only_the_owner_file();
}

TEST_F(StateDirClaim, ARequeuedRunKeepsItsOwnClaim) {
    claim_state_dir(dir_, 42, lookup_);
    slurm_[42] = JobActivity::Active;
    claim_state_dir(dir_, 42, lookup_);
    EXPECT_EQ(read_file(owner_), "job 42\n");
    EXPECT_EQ(lookups_, 0);
}

TEST_F(StateDirClaim, AnotherActiveJobKeepsItAndIsNamed) {
    claim_state_dir(dir_, 41, lookup_);
    slurm_[41] = JobActivity::Active;
    const std::string message = failure(42);
    EXPECT_THAT(message, HasSubstr("the state directory " + dir_ + " is in use by job 41"));
    EXPECT_THAT(message, HasSubstr("give this job another --state-dir"));
    EXPECT_EQ(read_file(owner_), "job 41\n");
}

TEST_F(StateDirClaim, AnEndedJobsClaimIsTakenOver) {
    claim_state_dir(dir_, 41, lookup_);  // 41 is unknown to the stand-in: ended
    claim_state_dir(dir_, 42, lookup_);
    EXPECT_EQ(read_file(owner_), "job 42\n");
    EXPECT_EQ(lookups_, 1);
    expect_only_the_owner_file();
}

TEST_F(StateDirClaim, WhenSlurmCannotTellTheClaimStandsAndTheJobIsRefused) {
    claim_state_dir(dir_, 41, lookup_);
    slurm_[41] = JobActivity::Unknown;
    const std::string message = failure(42);
    EXPECT_THAT(message, HasSubstr("held by job 41, and slurmctld did not say whether that job "
                                   "still runs (asked 3 times)"));
    EXPECT_THAT(message, HasSubstr("resubmit when the controller answers"));
    EXPECT_EQ(lookups_, 3);
    EXPECT_EQ(read_file(owner_), "job 41\n");
}

TEST_F(StateDirClaim, AGarbledOwnerFileIsReplaced) {
    fs::create_directories(dir_);
    write_file(owner_, "not a claim");
    claim_state_dir(dir_, 42, lookup_);
    EXPECT_EQ(read_file(owner_), "job 42\n");
    expect_only_the_owner_file();
}

// (As root every directory is writable: a path taken by a file stands for the unusable one.)
TEST_F(StateDirClaim, AnUnusablePathIsAUsageErrorNamingItAndTheFix) {
    write_file(dir_, "a file, not a directory");
    const std::string message = failure(42);
    EXPECT_THAT(message, HasSubstr("cannot create the state directory " + dir_));
    EXPECT_THAT(message, HasSubstr("give --state-dir a writable directory on a shared filesystem"));
    fs::remove(dir_);
    fs::create_directories(owner_);  // the owner file's name taken by a directory
    EXPECT_THAT(failure(42), HasSubstr(owner_.string() + " is not a file (a directory or a "
                                                         "symbolic link); remove it"));
    EXPECT_TRUE(fs::is_directory(owner_));
}

// Two jobs start at once on a state dir whose claim is stale: exactly one gets it, the other is
// told which job holds it, and no claim is lost (state_dir_claim.hpp says why three can lose one).
TEST_F(StateDirClaim, OfJobsStartingAtOnceExactlyOneWins) {
    for (int round = 0; round < 200; ++round) {
        fs::remove_all(dir_);
        claim_state_dir(dir_, 1, lookup_);  // stale: job 1 is unknown, so ended
        const unsigned racers = 2;
        std::mutex mutex;
        std::map<std::uint32_t, JobActivity> active;  // the winners, as Slurm would see them
        JobActivityLookup lookup = [&](std::uint32_t job) {
            std::lock_guard lock(mutex);
            return active.count(job) ? JobActivity::Active : JobActivity::Ended;
        };
        std::atomic<unsigned> winners = 0;
        std::vector<std::string> refusals(racers);
        std::vector<std::thread> threads;
        std::atomic<bool> go = false;
        for (unsigned i = 0; i < racers; ++i) {
            const std::uint32_t job = 100 + i;
            {
                std::lock_guard lock(mutex);
                active[job] = JobActivity::Active;  // every racer runs while it claims
            }
            threads.emplace_back([&, job, i] {
                while (!go) std::this_thread::yield();
                try {
                    claim_state_dir(dir_, job, lookup);
                    ++winners;
                } catch (const UsageError& error) {
                    refusals[i] = error.what();
                }
            });
        }
        go = true;
        for (auto& thread : threads) thread.join();
        ASSERT_EQ(winners, 1u) << "round " << round;
        const std::string owner = read_file(owner_);
        ASSERT_THAT(owner, ::testing::MatchesRegex("job 1[0-9][0-9]\n"));
        for (const auto& refusal : refusals) {
            if (refusal.empty()) continue;
            EXPECT_THAT(refusal, HasSubstr("is in use by job " + owner.substr(4, 3)));
        }
        expect_only_the_owner_file();
    }
}

}  // namespace
}  // namespace spark_slurm
