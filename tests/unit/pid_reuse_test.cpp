// A pid or process-group id that the kernel has handed to a new process is never signalled on
// behalf of the old one: neither by a Process whose leader was reaped (forget(), on destruction)
// nor by the janitor. The reuse is real: as root, the test writes /proc/sys/kernel/ns_last_pid so
// that the next fork gets the old pid, and the newcomer must survive. Skipped when that cannot be
// arranged (not root, or another process took the pid first every time).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "supervisor/janitor.hpp"
#include "supervisor/pidfd.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {
namespace {

using namespace std::chrono_literals;

// Asks the kernel to give `wanted` to the next new process (ns_last_pid, root only); false when
// it cannot. Another process on the machine may still take it first: callers retry.
bool next_pid_is(pid_t wanted) {
    std::ofstream last_pid("/proc/sys/kernel/ns_last_pid");
    last_pid << wanted - 1 << std::flush;
    return static_cast<bool>(last_pid);
}

constexpr int kAttempts = 50;

// Forks a child that leads its own process group and sleeps, given pid `wanted` when the kernel
// can be made to; -1 when not.
pid_t fork_group_leader_with_pid(pid_t wanted) {
    for (int attempt = 0; attempt < kAttempts && next_pid_is(wanted); ++attempt) {
        const pid_t child = ::fork();
        if (child == 0) {
            ::setpgid(0, 0);
            while (true) ::pause();
        }
        if (child == wanted) {
            ::setpgid(child, child);
            return child;
        }
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
    }
    return -1;
}

// True when `pid` (a child of this test) is still running 300 ms on: a SIGKILL sent a moment
// ago may not have ended it yet. Reaps it when it has exited.
bool still_running(pid_t pid) {
    for (int waited = 0; waited < 30; ++waited) {
        if (::waitpid(pid, nullptr, WNOHANG) != 0) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

void end(pid_t pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

TEST(PidReuse, ADestroyedProcessDoesNotKillTheNewOwnerOfItsGroupId) {
    become_supervisor();
    std::optional<Process> old = Process::spawn({{"/bin/true"}, {}, "", "", false}, "short");
    const pid_t pid = old->pid();
    // Reaped behind the Process's back (as a stray waitpid would): its pid is free again.
    ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
    const pid_t newcomer = fork_group_leader_with_pid(pid);
    if (newcomer < 0) GTEST_SKIP() << "could not get pid " << pid << " again (needs root)";
    old.reset();  // forget(): its SIGKILL to the group would hit the newcomer's group
    EXPECT_TRUE(still_running(newcomer))
        << "the newcomer with the old pid " << pid << " was killed";
    end(newcomer);
}

TEST(PidReuse, ANewProcessWithAnOldPidKeepsItsStatusWhenTheOldOneGoes) {
    become_supervisor();
    std::optional<Process> old = Process::spawn({{"/bin/true"}, {}, "", "", false}, "old");
    const pid_t pid = old->pid();
    ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);  // reaped behind its back
    std::optional<Process> next;
    for (int attempt = 0; attempt < kAttempts && next_pid_is(pid); ++attempt) {
        next = Process::spawn({{"/bin/sh", "-c", "sleep 0.2; exit 7"}, {}, "", "", false}, "next");
        if (next->pid() == pid) break;
        next.reset();
    }
    if (!next) GTEST_SKIP() << "could not get pid " << pid << " again (needs root)";
    old.reset();  // must neither kill `next` nor drop its record
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!next->exited() && std::chrono::steady_clock::now() < deadline) {
        reap_children();
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(next->exited()) << "the new process's exit was lost with the old one's record";
    EXPECT_EQ(exit_code_of(*next->exit_status()), 7);
}

TEST(PidReuse, TheJanitorDoesNotKillTheNewOwnerOfAGroupId) {
    become_supervisor();
    // A group leader that has exited and been reaped, known to the janitor by its pidfd.
    const pid_t old = ::fork();
    if (old == 0) {
        ::setpgid(0, 0);
        ::_exit(0);
    }
    ::setpgid(old, old);
    UniqueFd old_pidfd = open_pidfd(old);
    ASSERT_TRUE(old_pidfd);
    ASSERT_EQ(::waitpid(old, nullptr, 0), old);
    const pid_t newcomer = fork_group_leader_with_pid(old);
    if (newcomer < 0) GTEST_SKIP() << "could not get pid " << old << " again (needs root)";

    char work_dir[] = "/tmp/spark-slurm-janitor-test-XXXXXX";
    ASSERT_NE(::mkdtemp(work_dir), nullptr);
    // A launcher that tells its janitor about the old group and dies without dismissing it.
    const pid_t launcher = ::fork();
    if (launcher == 0) {
        start_janitor(work_dir);
        janitor_watch(old_pidfd, old);
        ::_exit(0);
    }
    ASSERT_EQ(::waitpid(launcher, nullptr, 0), launcher);
    // The janitor is done when the work dir is gone: at once when it drops the reaped leader,
    // after its 12 s grace and a SIGKILL to the group id when it does not.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::filesystem::exists(work_dir) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(std::filesystem::exists(work_dir)) << "the janitor did not finish";
    EXPECT_TRUE(still_running(newcomer)) << "the janitor killed the newcomer with pid " << old;
    end(newcomer);
    reap_children();  // the janitor, now our child
}

}  // namespace
}  // namespace spark_slurm
