// The daemons of one node, supervised: started through the runtime, each in its own process
// group; once the cluster is running, a daemon that exits is restarted in place, a bounded number
// of times with a growing delay (HDFS and Spark recovery, with --state-dir, let it pick up its
// state). Also the short helper commands the leader runs (format, dfsadmin), started here and
// watched from the caller's event loop, so that nothing blocks the control channel.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"
#include "services/services.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

inline constexpr std::chrono::seconds kDaemonStopGrace{10};
// When the job is ending (scancel, the time limit, preemption), Slurm kills what is left after
// its KillWait: a daemon writing a class archive at exit gets this long, enough for its own
// shutdown hooks, and the archive waits for another job.
inline constexpr std::chrono::seconds kEndingArchiveGrace{2};
inline constexpr std::size_t kLogTailLines = 15;

// What happened to a daemon since the last look.
struct DaemonEvent {
    enum class Kind { Stopped, RestartScheduled, Restarted } kind;
    DaemonSpec spec;
    int status = 0;        // the wait status, for Stopped and RestartScheduled
    unsigned attempt = 0;  // for RestartScheduled and Restarted
    std::chrono::seconds delay{0};
};

// A daemon that exited is started again after 1, 2 and 4 s, then given up (a fourth exit is
// final): the wait before the next attempt, or nullopt when there is none — after
// kMaxDaemonRestarts, or when restarts are off (stopping, or not ready yet where an exit is a
// failed start). Pure, for the unit table.
inline constexpr unsigned kMaxDaemonRestarts = 3;
std::optional<std::chrono::seconds> daemon_restart_delay(unsigned restarts_so_far,
                                                         bool restart_allowed);

class NodeDaemons {
  public:
    explicit NodeDaemons(const Runtime& runtime) : runtime_(runtime) {}

    // Starts it unless a daemon of that kind was started already. Throws LaunchError.
    void start(const DaemonSpec& spec);
    bool started(Daemon daemon) const;

    // Exits since the last call, restarts scheduled or done. With `restart` false an exit is final.
    std::vector<DaemonEvent> poll(bool restart);

    // Stopping without blocking: SIGTERM to every daemon now, SIGKILL after kDaemonStopGrace
    // (or the longer grace its runtime asked for: Execution::stop_grace);
    // stopped() is true once nothing of them is left.
    // `job_ending`: Slurm is ending the job (kEndingArchiveGrace).
    void request_stop(bool job_ending = false);
    bool stopped();
    // Both, waiting (for a worker, whose leader waits for its confirmation anyway).
    void stop_all_daemons(bool job_ending = false);

  private:
    struct Running {
        DaemonSpec spec;
        std::optional<Process> process;
        unsigned restarts = 0;
        std::optional<std::chrono::steady_clock::time_point> restart_at;
        bool done = false;  // exited for good: reported, not restarted
        std::chrono::seconds stop_grace = kDaemonStopGrace;
        bool writes_at_exit = false;
        std::chrono::seconds grace(bool job_ending) const {
            return job_ending && writes_at_exit ? kEndingArchiveGrace : stop_grace;
        }
    };
    // Starts (again) the daemon of `running.spec`. Throws LaunchError.
    void spawn(Running& running);

    const Runtime& runtime_;
    std::vector<Running> daemons_;
};

// Short-lived commands of the install (the namenode format; dfsadmin steps), run one after
// another, each with a time limit, and watched from the caller's event loop: nothing blocks.
class HelperSteps {
  public:
    struct Outcome {
        bool ok = false;
        const DaemonSpec* failed_step = nullptr;  // when not ok
        std::optional<int> status;                // its wait status; nullopt: out of time
    };
    HelperSteps(const Runtime& runtime, std::vector<DaemonSpec> steps,
                std::chrono::milliseconds limit_per_step);

    // Starts the next step once the one before succeeded; the outcome once every step
    // succeeded or one failed or ran out of time (then it is being stopped).
    std::optional<Outcome> poll();
    // Stops what runs; gone() once nothing of it is left.
    void request_stop();
    bool gone();

  private:
    std::optional<Outcome> start_next();
    const Runtime& runtime_;
    std::vector<DaemonSpec> steps_;
    std::chrono::milliseconds limit_;
    std::size_t next_ = 0;
    std::optional<Process> running_;
    std::chrono::steady_clock::time_point deadline_{};
    bool finished_ = false;
};

// "the hdfs namenode on node1 stopped (exit status 1); last lines of LOG:\n..."
std::string exit_message(const std::string& host, const DaemonSpec& spec, int status);

// This node's log line for a restart that is scheduled or done (the leader and workers alike).
void log_restart(const std::string& host, const DaemonEvent& event);

}  // namespace spark_slurm
