#include "common/unique_fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <utility>
#include <vector>

namespace spark_slurm {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

// A pipe's two ends, each in its owner.
std::pair<UniqueFd, UniqueFd> make_pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

TEST(UniqueFd, HoldsNothingByDefault) {
    UniqueFd none;
    EXPECT_FALSE(none.valid());
    EXPECT_EQ(none.get(), -1);
    EXPECT_EQ(none.close(), 0);
}

TEST(UniqueFd, ClosesWhenItGoes) {
    int fd = -1;
    {
        auto [read_end, write_end] = make_pipe();
        fd = read_end.get();
        EXPECT_TRUE(is_open(fd));
    }
    EXPECT_FALSE(is_open(fd));
}

TEST(UniqueFd, AMoveHandsTheDescriptorOverWithoutClosingIt) {
    auto [read_end, write_end] = make_pipe();
    const int fd = read_end.get();
    UniqueFd moved(std::move(read_end));
    EXPECT_EQ(moved.get(), fd);
    EXPECT_FALSE(read_end.valid());  // NOLINT(bugprone-use-after-move): that is the point
    EXPECT_TRUE(is_open(fd));

    std::vector<UniqueFd> held;
    held.push_back(std::move(moved));
    held.emplace_back();
    held.reserve(64);  // reallocation moves them again
    EXPECT_TRUE(is_open(fd));
    held.clear();
    EXPECT_FALSE(is_open(fd));
}

TEST(UniqueFd, AMoveAssignmentClosesWhatItReplaced) {
    auto [first_read, first_write] = make_pipe();
    auto [second_read, second_write] = make_pipe();
    const int replaced = first_read.get();
    const int kept = second_read.get();
    first_read = std::move(second_read);
    EXPECT_FALSE(is_open(replaced));
    EXPECT_EQ(first_read.get(), kept);
    EXPECT_TRUE(is_open(kept));
}

TEST(UniqueFd, ResetAndReleaseAndClose) {
    auto [read_end, write_end] = make_pipe();
    const int fd = read_end.get();
    const int released = read_end.release();
    EXPECT_EQ(released, fd);
    EXPECT_FALSE(read_end.valid());
    EXPECT_TRUE(is_open(fd));
    read_end.reset(released);
    EXPECT_EQ(read_end.get(), fd);
    read_end.reset();
    EXPECT_FALSE(is_open(fd));

    const int write_fd = write_end.get();
    EXPECT_EQ(write_end.close(), 0);
    EXPECT_FALSE(write_end.valid());
    EXPECT_FALSE(is_open(write_fd));
}

}  // namespace
}  // namespace spark_slurm
