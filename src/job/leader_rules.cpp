#include "job/leader_rules.hpp"

#include <csignal>

#include "common/enum_names.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

constexpr EnumName<LeaderPhase> kPhaseNames[] = {
    {LeaderPhase::StartingKdc, "starting_kdc"},
    {LeaderPhase::FormattingNamespace, "formatting_namespace"},
    {LeaderPhase::StartingDaemons, "starting_daemons"},
    {LeaderPhase::WaitingForWorkers, "waiting_for_workers"},
    {LeaderPhase::FetchingToken, "fetching_token"},
    {LeaderPhase::StartingConnect, "starting_connect"},
    {LeaderPhase::DriverRunning, "driver_running"},
    {LeaderPhase::Holding, "holding"},
    {LeaderPhase::SavingNamespace, "saving_namespace"},
    {LeaderPhase::Stopping, "stopping"},
    {LeaderPhase::Done, "done"},
};

}  // namespace

const char* to_string(LeaderPhase phase) { return enum_name(kPhaseNames, phase); }

bool is_stopping(LeaderPhase phase) {
    return phase == LeaderPhase::Stopping || phase == LeaderPhase::Done;
}

SignalResponse respond_to_signal(const LeaderState& state, int signal) {
    const bool stopping = is_stopping(state.phase);
    // `spark-slurm down` sends SIGUSR2 to the step; SIGUSR1 is what sites use for the walltime
    // warning. A held cluster stops cleanly on either; a `run` job ignores them (its driver
    // decides when it ends).
    if (signal == SIGUSR1 || signal == SIGUSR2) {
        if (!state.interactive || state.terminated || stopping) return SignalResponse::Ignore;
        // Asked again while the namespace is saved: cutting the save short would lose what the
        // cluster wrote.
        if (state.work_finished) return SignalResponse::AlreadySaving;
        if (state.phase == LeaderPhase::Holding) return SignalResponse::FinishHolding;
        return SignalResponse::StopBeforeReady;
    }
    if (!is_termination(signal) || state.terminated || state.phase == LeaderPhase::Done)
        return SignalResponse::Ignore;
    if (state.work_finished)
        return stopping ? SignalResponse::NoteTermination : SignalResponse::StopWithWorkResult;
    return stopping ? SignalResponse::RequeueWhileStopping : SignalResponse::RequeueAndStop;
}

LossResponse respond_to_worker_loss(const LeaderState& state, unsigned workers_left,
                                    unsigned min_workers) {
    if (is_stopping(state.phase)) return LossResponse::Ignore;
    if (!state.ready) return LossResponse::FailTheStart;
    // With fewer than --min-workers a driver would wait for executors that never come.
    return workers_left >= min_workers ? LossResponse::GoOnWithout : LossResponse::FailTheJob;
}

LossResponse respond_to_workers_daemon_loss(const LeaderState& state) {
    if (is_stopping(state.phase)) return LossResponse::Ignore;
    return state.ready ? LossResponse::GoOnWithout : LossResponse::FailTheStart;
}

LossResponse respond_to_own_daemon_loss(const LeaderState& state, Daemon daemon) {
    if (is_stopping(state.phase)) return LossResponse::Ignore;
    if (!state.ready) return LossResponse::FailTheStart;
    // Without its master, namenode or KDC the cluster cannot go on, nor finish starting
    // without the Connect server it was asked for.
    const bool cluster_wide =
        daemon == Daemon::SparkMaster || daemon == Daemon::Namenode || daemon == Daemon::Kdc;
    if (cluster_wide || state.phase == LeaderPhase::StartingConnect)
        return LossResponse::FailTheJob;
    return LossResponse::GoOnWithout;
}

}  // namespace spark_slurm
