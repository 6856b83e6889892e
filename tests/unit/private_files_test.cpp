// The one private-files module: a file is written 0600 (or the mode asked) whatever the umask, by
// a rename (a reader of the old file keeps the old content, nothing half-written is ever seen, no
// temporary file is left); a directory that is a symbolic link or another user's is refused with
// a message naming it and the fix, and left as it was; reads are bounded and do not follow links.
#include "common/private_files.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "fixtures.hpp"

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const PrivateDirectoryUse kUse{"the test keeps secrets there", "remove it", true};

class PrivateFiles : public ::testing::Test {
  protected:
    testing::ScratchDirectory scratch_{"spark-slurm-private"};
    const std::string dir_ = scratch_.path();
};

unsigned mode_of(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
    return info.st_mode & 07777;
}

std::string content_of(const std::string& path) {
    std::ifstream file(path);
    return std::string((std::istreambuf_iterator<char>(file)), {});
}

// The message and errno of the PrivateFileError `action` throws ("" when it throws none).
std::pair<std::string, int> failure_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const PrivateFileError& error) {
        return {error.what(), error.error_number};
    }
    return {"", 0};
}

TEST_F(PrivateFiles, AFileIsWrittenWithItsModeWhateverTheUmaskByARename) {
    const std::string path = dir_ + "/secret";
    const mode_t umask_before = ::umask(0);  // an open umask must not widen the file
    write_private_file(path, "first");
    ::umask(umask_before);
    EXPECT_EQ(mode_of(path), 0600u);
    // A reader that has the old file open keeps reading the old content: the new one is a new
    // file renamed over it, never the old one truncated and half rewritten.
    const int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(reader, 0);
    write_private_file(path, "second\n", 0600, Durability::Scratch);
    char seen[16] = {};
    EXPECT_EQ(::read(reader, seen, sizeof seen - 1), 5);
    EXPECT_STREQ(seen, "first");
    ::close(reader);
    EXPECT_EQ(content_of(path), "second\n");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
        << "a temporary file was left behind";
    write_private_file(dir_ + "/script", "#!/bin/sh\n", 0700);
    EXPECT_EQ(mode_of(dir_ + "/script"), 0700u);
}

TEST_F(PrivateFiles, AFailedWriteNamesThePathKeepsErrnoAndLeavesNothing) {
    const auto [message, error_number] =
        failure_of([&] { write_private_file(dir_ + "/missing/file", "x"); });
    EXPECT_THAT(message, HasSubstr("while writing " + dir_ + "/missing/file"));
    EXPECT_EQ(error_number, ENOENT);
    EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(PrivateFiles, ADirectoryIsMadeExactly0700) {
    const mode_t umask_before = ::umask(0);
    make_private_directory(dir_ + "/new", kUse);
    ::umask(umask_before);
    EXPECT_EQ(mode_of(dir_ + "/new"), 0700u);
    // An own directory open to others: tightened, or refused with the chmod when asked to be.
    ASSERT_EQ(::mkdir((dir_ + "/open").c_str(), 0755), 0);
    ASSERT_EQ(::chmod((dir_ + "/open").c_str(), 0755), 0);
    PrivateDirectoryUse strict = kUse;
    strict.tighten_open_mode = false;
    EXPECT_THAT(failure_of([&] { make_private_directory(dir_ + "/open", strict); }).first,
                HasSubstr(dir_ + "/open is open to group or others (mode 0755)"));
    EXPECT_THAT(failure_of([&] { check_private_directory(dir_ + "/open", kUse); }).first,
                HasSubstr("run 'chmod 700 " + dir_ + "/open'"));
    make_private_directory(dir_ + "/open", kUse);
    EXPECT_EQ(mode_of(dir_ + "/open"), 0700u);
}

TEST_F(PrivateFiles, ASymbolicLinkIsRefusedAndNotFollowed) {
    const std::string target = dir_ + "/elsewhere";
    ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(target.c_str(), 0755), 0);
    const std::string link = dir_ + "/work";
    fs::create_directory_symlink(target, link);
    const auto [message, error_number] = failure_of([&] { make_private_directory(link, kUse); });
    EXPECT_THAT(message, HasSubstr(link + " is not a directory but a symbolic link"));
    EXPECT_THAT(message, HasSubstr("the test keeps secrets there; remove it"));
    // open(O_NOFOLLOW | O_DIRECTORY) of a link: ENOTDIR on Linux, ELOOP elsewhere.
    EXPECT_THAT(error_number, ::testing::AnyOf(ENOTDIR, ELOOP));
    EXPECT_EQ(mode_of(target), 0755u) << "the link was followed";
    EXPECT_THAT(failure_of([&] { check_private_directory(link, kUse); }).first,
                HasSubstr("is not a directory but a symbolic link"));
}

// fetchdt's token, written under its umask, made the owner's alone; a link is not followed.
TEST_F(PrivateFiles, AFileAnotherProgramWroteIsRestrictedToItsOwner) {
    const std::string token = dir_ + "/hdfs.token";
    std::ofstream(token) << "token";
    ASSERT_EQ(::chmod(token.c_str(), 0644), 0);
    restrict_to_owner(token);
    EXPECT_EQ(mode_of(token), 0600u);
    EXPECT_EQ(content_of(token), "token");
    const std::string target = dir_ + "/elsewhere";
    std::ofstream(target) << "x";
    ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
    const std::string link = dir_ + "/link.token";
    fs::create_symlink(target, link);
    const auto [message, error_number] = failure_of([&] { restrict_to_owner(link); });
    EXPECT_THAT(message, HasSubstr("while protecting " + link));
    EXPECT_THAT(message, HasSubstr("symbolic link; remove it"));
    EXPECT_EQ(error_number, ELOOP);
    EXPECT_EQ(mode_of(target), 0644u) << "the link was followed";
    EXPECT_THAT(failure_of([&] { restrict_to_owner(dir_ + "/missing"); }).first,
                HasSubstr("No such file or directory"));
}

TEST_F(PrivateFiles, AnotherUsersDirectoryIsRefusedAndLeftAsItIs) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
    const std::string theirs = dir_ + "/theirs";
    ASSERT_EQ(::mkdir(theirs.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(theirs.c_str(), 0755), 0);
    ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
    const auto [message, error_number] = failure_of([&] { make_private_directory(theirs, kUse); });
    EXPECT_THAT(message, HasSubstr(theirs + " belongs to "));
    EXPECT_THAT(message, HasSubstr("(uid 65534), not to you (uid 0)"));
    EXPECT_THAT(message, HasSubstr("; remove it"));
    EXPECT_EQ(error_number, 0);
    EXPECT_EQ(mode_of(theirs), 0755u) << "another user's directory was changed";
    EXPECT_THAT(failure_of([&] { check_private_directory(theirs, kUse); }).first,
                HasSubstr("(uid 65534), not to you"));
}

TEST_F(PrivateFiles, ReadsAreBoundedAndDoNotFollowLinks) {
    const std::string path = dir_ + "/record";
    EXPECT_FALSE(read_private_file(path, 100));
    write_private_file(path, std::string(100, 'x'));
    EXPECT_EQ(read_private_file(path, 100), std::string(100, 'x'));
    const auto [too_large, efbig] = failure_of([&] { read_private_file(path, 99); });
    EXPECT_THAT(too_large, HasSubstr(path + " is larger than the 99 bytes"));
    EXPECT_EQ(efbig, EFBIG);
    fs::create_symlink(path, dir_ + "/link");
    const auto [linked, eloop] = failure_of([&] { read_private_file(dir_ + "/link", 1000); });
    EXPECT_THAT(linked, HasSubstr("while reading " + dir_ + "/link"));
    EXPECT_EQ(eloop, ELOOP);
}

}  // namespace
}  // namespace spark_slurm
