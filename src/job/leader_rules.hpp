// What the leader does with what it hears, in the phase it hears it: the decisions of its event
// loop apart from the loop. Pure (no I/O, no clock), so that one table of "event X in phase Y"
// unit tests pins every transition (tests/unit/leader_rules_test.cpp); the Leader carries the
// answers out (leader_news.cpp).
#pragma once

#include "services/services.hpp"

namespace spark_slurm {

enum class LeaderPhase {
    StartingKdc,          // --hdfs-auth kerberos: until the KDC made every keytab (a new
                          // namespace is formatted meanwhile)
    FormattingNamespace,  // the master boots meanwhile
    StartingDaemons,      // until the master and namenode answer
    WaitingForWorkers,    // until every worker registered and every datanode is live
    FetchingToken,        // --hdfs-auth kerberos: ready, still fetching the executors' token
    StartingConnect,      // until the Spark Connect server and its gateway answer
    DriverRunning,
    Holding,          // `up`: until `spark-slurm down`, the walltime warning or --stop-before-end
    SavingNamespace,  // after the driver, with a state dir
    Stopping,
    Done,
};

// "starting_kdc", ...: the events file's and messages' name of a phase.
const char* to_string(LeaderPhase phase);

// Tearing the cluster down, or done: no news changes the outcome any more.
bool is_stopping(LeaderPhase phase);

// What the leader knows of itself when news comes.
struct LeaderState {
    LeaderPhase phase = LeaderPhase::StartingDaemons;
    bool interactive = false;  // `up` (a held cluster), not `run`
    bool ready = false;        // the cluster was ready (every worker and datanode counted)
    // The work is over: `run`'s driver exited, or `up`'s cluster was asked to stop. Its result
    // stands from then on.
    bool work_finished = false;
    bool terminated = false;  // a termination signal was handled already
};

enum class SignalResponse {
    Ignore,           // nothing to do: a repeat, or a signal that means nothing here
    AlreadySaving,    // SIGUSR1/2 while HDFS is saved: the stop is under way, the save goes on
    FinishHolding,    // SIGUSR1/2 on a held cluster: save (with a state dir), stop, exit 0
    StopBeforeReady,  // SIGUSR1/2 before the held cluster served: nothing to save; exit 0
    // A termination after the work finished: its result stands, no requeue. Stop now, or go on
    // stopping.
    StopWithWorkResult,
    NoteTermination,
    // A termination during the start or the work: the requeue policy decides (a preemption that
    // cancels is requeued); the job ends with 128 + the signal. Stop now, or go on stopping
    // (Slurm signals every step at once: a worker may have gone first).
    RequeueAndStop,
    RequeueWhileStopping,
};

// SIGUSR1 (the walltime warning, sbatch --signal=USR1@N), SIGUSR2 (`spark-slurm down`), or a
// termination (SIGTERM, SIGINT, SIGHUP). Every termination response but Ignore marks the state
// terminated.
SignalResponse respond_to_signal(const LeaderState& state, int signal);

enum class LossResponse {
    Ignore,        // stopping already: the news changes nothing
    FailTheStart,  // before ready: the start failed (a worker's, after a settling moment)
    FailTheJob,    // after ready: the cluster cannot go on without it
    GoOnWithout,   // after ready: the cluster goes on, said in the log
};

// A worker's launcher is gone (its connection closed, or silent past the patience).
// `workers_left` counts the live ones after it.
LossResponse respond_to_worker_loss(const LeaderState& state, unsigned workers_left,
                                    unsigned min_workers);

// A worker's daemon (its Spark worker or datanode) stopped for good, its restarts spent, or
// could not be started: that node's loss.
LossResponse respond_to_workers_daemon_loss(const LeaderState& state);

// One of the leader's own daemons (master, namenode, KDC, Connect server) stopped for good.
LossResponse respond_to_own_daemon_loss(const LeaderState& state, Daemon daemon);

}  // namespace spark_slurm
