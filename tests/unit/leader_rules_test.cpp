// The leader's decisions, "event X in phase Y" (issue 27, item 8): what a signal, a lost worker
// or a lost daemon means in each phase of a `run` job and of a held (`up`) cluster. The states
// are the ones the leader passes through: `ready` from WaitingForWorkers on, `work_finished`
// from the driver's exit or the request to stop a held cluster.
#include "job/leader_rules.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <string>
#include <vector>

#include "job/node_daemons.hpp"

namespace spark_slurm {
namespace {

using P = LeaderPhase;
using S = SignalResponse;
using L = LossResponse;

constexpr bool kRun = false;
constexpr bool kUp = true;

const std::vector<P> kAllPhases = {
    P::StartingKdc,
    P::FormattingNamespace,
    P::StartingDaemons,
    P::WaitingForWorkers,
    P::FetchingToken,
    P::StartingConnect,
    P::DriverRunning,
    P::Holding,
    P::SavingNamespace,
    P::Stopping,
    P::Done,
};

// Whether the cluster was ready by the time the leader is in `phase` on its way through.
bool ready_by(P phase) {
    return phase != P::StartingKdc && phase != P::FormattingNamespace &&
           phase != P::StartingDaemons && phase != P::WaitingForWorkers;
}

LeaderState state(P phase, bool interactive, bool work_finished = false, bool terminated = false) {
    return {phase, interactive, ready_by(phase), work_finished, terminated};
}

std::string label(const LeaderState& s, int signal) {
    return std::string(to_string(s.phase)) + (s.interactive ? " up" : " run") +
           (s.work_finished ? " work-finished" : "") + (s.terminated ? " terminated" : "") +
           " signal " + std::to_string(signal);
}

struct SignalRow {
    LeaderState state;
    int signal;
    S expected;
};

TEST(LeaderRules, EachSignalInEachPhase) {
    const std::vector<SignalRow> table = {
        // `run`: a termination during the start or the work asks the requeue policy; SIGUSR1/2
        // mean nothing (the driver decides when the job ends).
        {state(P::StartingKdc, kRun), SIGTERM, S::RequeueAndStop},
        {state(P::FormattingNamespace, kRun), SIGTERM, S::RequeueAndStop},
        {state(P::StartingDaemons, kRun), SIGINT, S::RequeueAndStop},
        {state(P::WaitingForWorkers, kRun), SIGHUP, S::RequeueAndStop},
        {state(P::FetchingToken, kRun), SIGTERM, S::RequeueAndStop},
        {state(P::DriverRunning, kRun), SIGTERM, S::RequeueAndStop},
        {state(P::DriverRunning, kRun), SIGUSR1, S::Ignore},
        {state(P::DriverRunning, kRun), SIGUSR2, S::Ignore},
        // After the driver: its exit code stands, saving or not, and nothing is requeued.
        {state(P::SavingNamespace, kRun, true), SIGTERM, S::StopWithWorkResult},
        {state(P::Stopping, kRun, true), SIGTERM, S::NoteTermination},
        // Stopping for a failure when Slurm's SIGTERM comes: still a termination.
        {state(P::Stopping, kRun), SIGTERM, S::RequeueWhileStopping},
        {state(P::Done, kRun), SIGTERM, S::Ignore},
        {state(P::DriverRunning, kRun, false, true), SIGTERM, S::Ignore},  // a repeat
        // `up`: SIGUSR1 (walltime warning) and SIGUSR2 (`spark-slurm down`) stop it cleanly.
        {state(P::StartingDaemons, kUp), SIGUSR2, S::StopBeforeReady},
        {state(P::WaitingForWorkers, kUp), SIGUSR1, S::StopBeforeReady},
        {state(P::StartingConnect, kUp), SIGUSR2, S::StopBeforeReady},
        {state(P::Holding, kUp), SIGUSR1, S::FinishHolding},
        {state(P::Holding, kUp), SIGUSR2, S::FinishHolding},
        {state(P::Holding, kUp), SIGTERM, S::RequeueAndStop},
        // SIGUSR2 again while the namespace is saved: the save goes on.
        {state(P::SavingNamespace, kUp, true), SIGUSR2, S::AlreadySaving},
        {state(P::SavingNamespace, kUp, true), SIGUSR1, S::AlreadySaving},
        {state(P::SavingNamespace, kUp, true), SIGTERM, S::StopWithWorkResult},
        {state(P::Stopping, kUp, true), SIGUSR2, S::Ignore},
        {state(P::Stopping, kUp), SIGUSR2, S::Ignore},
        {state(P::Holding, kUp, false, true), SIGUSR2, S::Ignore},  // terminated already
        {state(P::Done, kUp, true), SIGUSR1, S::Ignore},
    };
    for (const auto& row : table) {
        SCOPED_TRACE(label(row.state, row.signal));
        EXPECT_EQ(respond_to_signal(row.state, row.signal), row.expected);
    }
}

TEST(LeaderRules, SignalsThatEndNothingAreIgnoredInEveryPhase) {
    for (P phase : kAllPhases) {
        for (bool interactive : {kRun, kUp}) {
            for (int signal : {SIGCHLD, SIGPIPE, SIGWINCH}) {
                const auto s = state(phase, interactive);
                SCOPED_TRACE(label(s, signal));
                EXPECT_EQ(respond_to_signal(s, signal), S::Ignore);
            }
        }
    }
}

TEST(LeaderRules, ATerminationIsAlwaysAnsweredOnceUntilDone) {
    for (P phase : kAllPhases) {
        for (bool interactive : {kRun, kUp}) {
            for (bool work_finished : {false, true}) {
                const auto fresh = state(phase, interactive, work_finished);
                const auto again = state(phase, interactive, work_finished, true);
                SCOPED_TRACE(label(fresh, SIGTERM));
                EXPECT_EQ(respond_to_signal(fresh, SIGTERM) == S::Ignore, phase == P::Done);
                EXPECT_EQ(respond_to_signal(again, SIGTERM), S::Ignore);
                // A finished work's result is never requeued away.
                const S response = respond_to_signal(fresh, SIGTERM);
                if (work_finished) {
                    EXPECT_NE(response, S::RequeueAndStop);
                    EXPECT_NE(response, S::RequeueWhileStopping);
                }
            }
        }
    }
}

struct LossRow {
    LeaderState state;
    unsigned workers_left;
    L expected;
};

TEST(LeaderRules, ALostWorkerInEachPhase) {
    const unsigned min_workers = 1;
    const std::vector<LossRow> table = {
        // Before ready the start fails (after a settling moment, in the leader).
        {state(P::StartingKdc, kRun), 1, L::FailTheStart},
        {state(P::FormattingNamespace, kRun), 1, L::FailTheStart},
        {state(P::StartingDaemons, kRun), 1, L::FailTheStart},
        {state(P::WaitingForWorkers, kUp), 1, L::FailTheStart},
        // After ready: on while --min-workers remain; no driver waits on fewer.
        {state(P::FetchingToken, kRun), 1, L::GoOnWithout},
        {state(P::StartingConnect, kUp), 1, L::GoOnWithout},
        {state(P::DriverRunning, kRun), 1, L::GoOnWithout},
        {state(P::DriverRunning, kRun), 0, L::FailTheJob},
        {state(P::Holding, kUp), 0, L::FailTheJob},
        {state(P::SavingNamespace, kRun, true), 0, L::FailTheJob},
        // Stopping: a worker that goes is expected.
        {state(P::Stopping, kRun), 0, L::Ignore},
        {state(P::Done, kUp), 0, L::Ignore},
    };
    for (const auto& row : table) {
        SCOPED_TRACE(label(row.state, 0) + " left " + std::to_string(row.workers_left));
        EXPECT_EQ(respond_to_worker_loss(row.state, row.workers_left, min_workers), row.expected);
    }
    // --min-workers 2: one lost of three ends the job only when one is left.
    EXPECT_EQ(respond_to_worker_loss(state(P::DriverRunning, kRun), 2, 2), L::GoOnWithout);
    EXPECT_EQ(respond_to_worker_loss(state(P::DriverRunning, kRun), 1, 2), L::FailTheJob);
}

TEST(LeaderRules, ALostDaemonInEachPhase) {
    for (P phase : kAllPhases) {
        const auto s = state(phase, kUp);
        SCOPED_TRACE(to_string(phase));
        const bool stopping = phase == P::Stopping || phase == P::Done;
        // A worker's daemon: that node's loss once the cluster is ready.
        const L workers = respond_to_workers_daemon_loss(s);
        EXPECT_EQ(workers, stopping          ? L::Ignore
                           : ready_by(phase) ? L::GoOnWithout
                                             : L::FailTheStart);
        // The leader's master, namenode and KDC: the cluster cannot go on without them.
        for (Daemon daemon : {Daemon::SparkMaster, Daemon::Namenode, Daemon::Kdc}) {
            EXPECT_EQ(respond_to_own_daemon_loss(s, daemon), stopping          ? L::Ignore
                                                             : ready_by(phase) ? L::FailTheJob
                                                                               : L::FailTheStart);
        }
        // The Connect server: needed to finish starting; a held cluster goes on without it.
        const L connect = respond_to_own_daemon_loss(s, Daemon::ConnectServer);
        if (stopping) {
            EXPECT_EQ(connect, L::Ignore);
        } else if (!ready_by(phase)) {
            EXPECT_EQ(connect, L::FailTheStart);
        } else {
            EXPECT_EQ(connect, phase == P::StartingConnect ? L::FailTheJob : L::GoOnWithout);
        }
    }
}

// The daemons' restarts, on the leader and the workers alike: 1, 2, 4 s, then the exit is final;
// none while stopping or before ready (an exit then is a failed start).
TEST(DaemonRestarts, ThreeWithBackoffThenFinalAndNoneWhenNotAllowed) {
    using std::chrono::seconds;
    EXPECT_EQ(daemon_restart_delay(0, true), std::optional<seconds>(1));
    EXPECT_EQ(daemon_restart_delay(1, true), std::optional<seconds>(2));
    EXPECT_EQ(daemon_restart_delay(2, true), std::optional<seconds>(4));
    EXPECT_EQ(daemon_restart_delay(3, true), std::nullopt);
    EXPECT_EQ(daemon_restart_delay(7, true), std::nullopt);
    for (unsigned so_far = 0; so_far < 5; ++so_far)
        EXPECT_EQ(daemon_restart_delay(so_far, false), std::nullopt) << so_far;
}

TEST(LeaderRules, EveryPhaseHasItsOwnName) {
    std::set<std::string> names;
    for (P phase : kAllPhases) {
        const std::string name = to_string(phase);
        EXPECT_NE(name, "?");
        EXPECT_TRUE(names.insert(name).second) << name;
    }
    EXPECT_TRUE(is_stopping(P::Stopping));
    EXPECT_TRUE(is_stopping(P::Done));
    EXPECT_FALSE(is_stopping(P::SavingNamespace));
}

}  // namespace
}  // namespace spark_slurm
