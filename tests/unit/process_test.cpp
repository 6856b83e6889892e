// The supervisor's children, for real: they get stdin, stdout and stderr and no other descriptor
// of the launcher's; a status is never taken for another process's; a stop that does not block
// still ends the whole process group.
#include "supervisor/process.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

namespace spark_slurm {
namespace {

using namespace std::chrono_literals;

SpawnRequest shell(const std::string& script) {
    return {{"/bin/sh", "-c", script}, {{"PATH", "/usr/bin:/bin"}}, "", "", false};
}

TEST(Process, ChildrenGetOnlyTheStandardDescriptors) {
    // A descriptor the launcher inherited without close-on-exec (as from slurmstepd).
    int inherited = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(inherited, 3);
    // The shell checks which descriptors it holds without opening any (no `ls`, no glob).
    auto run = run_captured(
        shell("i=0; while [ $i -lt 64 ]; do [ -e /proc/$$/fd/$i ] && echo $i; i=$((i+1)); done"),
        "fd listing", 10s);
    ::close(inherited);
    ASSERT_EQ(run.status, 0);
    EXPECT_EQ(run.output, "0\n1\n2\n");
}

TEST(Process, CapturesOutputAndExitStatus) {
    auto run = run_captured(shell("echo hello; echo oops >&2; exit 3"), "echo", 10s);
    ASSERT_TRUE(run.status.has_value());
    EXPECT_EQ(exit_code_of(*run.status), 3);
    EXPECT_EQ(run.output, "hello\noops\n");
}

TEST(Process, ACheckThatHangsIsKilledAtItsTimeout) {
    const auto started = std::chrono::steady_clock::now();
    auto run = run_captured(shell("echo started; exec sleep 60"), "hang", 300ms);
    EXPECT_FALSE(run.status.has_value());
    EXPECT_EQ(run.output, "started\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(Process, ACheckIsGivenUpWhenItsCallerSaysSo) {
    const auto started = std::chrono::steady_clock::now();
    int asked = 0;
    auto run = run_captured(shell("exec sleep 60"), "hang", 60s, 1024, [&] { return ++asked > 2; });
    EXPECT_FALSE(run.status.has_value());
    EXPECT_EQ(asked, 3);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(Process, RequestStopEndsTheWholeGroupWithoutBlocking) {
    become_supervisor();
    // A child that ignores SIGTERM and leaves a grandchild behind; stopped only once its trap is
    // set (a SIGTERM before that would end it at once).
    char marker[] = "/tmp/spark-slurm-stubborn-XXXXXX";
    ::close(::mkstemp(marker));
    ::unlink(marker);
    Process process = Process::spawn(
        shell(std::string("trap '' TERM; sleep 60 & touch ") + marker + "; wait"), "stubborn");
    const pid_t group = process.pid();
    for (int waited = 0; ::access(marker, F_OK) != 0 && waited < 500; ++waited)
        std::this_thread::sleep_for(10ms);
    ::unlink(marker);
    process.request_stop(200ms);
    EXPECT_TRUE(process.stop_requested());
    EXPECT_FALSE(process.gone());  // returns at once
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!process.gone() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(process.gone());
    EXPECT_TRUE(process.exited());
    EXPECT_NE(::kill(-group, 0), 0) << "something of the group survived";
}

// Makes the kernel give `pid` to the next process it creates (ns_last_pid: root only). Other
// processes of the machine may take it first: callers check and retry.
bool next_pid_will_be(pid_t pid) {
    std::ofstream file("/proc/sys/kernel/ns_last_pid");
    file << pid - 1;
    return static_cast<bool>(file.flush());
}

TEST(Process, ADestroyedProcessLeavesNoStatusForItsPid) {
    become_supervisor();
    pid_t pid;
    {
        Process process = Process::spawn(shell("exit 7"), "short");
        pid = process.pid();
        while (!process.exited()) {
            reap_children();
            std::this_thread::sleep_for(5ms);
        }
        EXPECT_EQ(exit_code_of(*process.exit_status()), 7);
    }
    // A later process that the kernel gives the same pid must not look exited from birth; the
    // record is gone with its owner. The kernel is made to reuse the pid: without that, the new
    // process practically never gets it, and the check could not fail.
    if (!next_pid_will_be(pid)) GTEST_SKIP() << "cannot set the next pid (needs root)";
    for (int attempt = 1; attempt <= 50; ++attempt) {
        ASSERT_TRUE(next_pid_will_be(pid));
        Process next = Process::spawn(shell("exec sleep 30"), "next");
        if (next.pid() != pid) continue;  // another process of the machine took it first
        EXPECT_FALSE(next.exited()) << "pid " << pid << " reused with a stale status";
        std::cout << "pid " << pid << " reused at attempt " << attempt << "\n";
        return;
    }
    FAIL() << "the kernel did not give pid " << pid << " to a new process in 50 attempts";
}

// A log tail is read from the end with a bound (the leader reads it in its loop): the last lines
// of a file far larger than the bound come back, and the cut first line does not.
TEST(TailOfFile, ReadsTheLastLinesOfALargeFileFromItsEnd) {
    const std::string path = ::testing::TempDir() + "tail-of-file-" + std::to_string(::getpid());
    {
        std::ofstream file(path);
        for (int i = 0; i < 200000; ++i) file << "line " << i << " of a long daemon log\n";
        file << "the last line";
    }
    EXPECT_EQ(tail_of_file(path, 2), "    line 199999 of a long daemon log\n    the last line\n");
    // Fewer lines than asked in the bounded window: only whole ones.
    const std::string tail = tail_of_file(path, 100000);
    EXPECT_LT(tail.size(), 80u * 1024);
    EXPECT_EQ(tail.rfind("    line ", 0), 0u);
    std::remove(path.c_str());
    EXPECT_EQ(tail_of_file(path, 3), "");
}

}  // namespace
}  // namespace spark_slurm
