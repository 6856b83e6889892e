// Child processes the launcher owns: each daemon and the driver runs in its own process group,
// so that stopping it reaches everything it started (spark-class's JVM, the container runtime's
// children, Spark's executors). Owning a Process means owning that whole group: the destructor
// kills what is left. The launcher is a child subreaper, so orphaned descendants are reaped here.
//
// A group is only ever signalled by its id while its leader is unreaped (a zombie still holds
// the id): a Process holds its leader's pidfd from spawn on, and reap_children() records a
// leader's exit status without reaping it; the leader is reaped once nothing of its group is left
// (gone()) or its Process is destroyed. So a group id is never reused under a live Process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace spark_slurm {

struct SpawnRequest {
    std::vector<std::string> argv;
    std::map<std::string, std::string> environment;  // complete
    std::string working_dir;                         // empty: inherit
    std::string output_file;       // stdout+stderr appended here; empty: inherit the launcher's
    bool own_terminal_io = false;  // keep stdin too (the driver); daemons get /dev/null
    int output_fd = -1;            // when set: stdout+stderr go to this descriptor instead
};

class Process {
  public:
    // Throws LaunchError when the program cannot be started.
    static Process spawn(const SpawnRequest& request, std::string label);

    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    const std::string& label() const { return label_; }
    pid_t pid() const { return pid_; }

    // The wait status once the direct child has exited (reaped by reap_children()).
    std::optional<int> exit_status() const;
    bool exited() const { return exit_status().has_value(); }

    void signal_group(int signal) const;

    // SIGTERM to the group, then SIGKILL to whatever is left of it after `grace`. Returns once
    // no process of the group remains (or `grace` twice over has passed).
    void stop(std::chrono::milliseconds grace);

    // The same without waiting, for event loops: request_stop() sends SIGTERM (SIGKILL for a zero
    // grace) once; gone() reaps, sends SIGKILL when the grace is over, and is true once nothing of
    // the group is left (or the give-up bound has passed).
    void request_stop(std::chrono::milliseconds grace);
    bool stop_requested() const { return kill_at_.has_value(); }
    bool gone();

  private:
    Process(pid_t pid, UniqueFd pidfd, std::string label)
        : pid_(pid), pidfd_(std::move(pidfd)), label_(std::move(label)) {}
    void forget();
    bool leader_unreaped() const;
    bool group_alive() const;
    void reap_leader();
    pid_t pid_ = -1;
    UniqueFd pidfd_;  // the leader's; invalid only on kernels without pidfd_open
    std::string label_;
    std::optional<std::chrono::steady_clock::time_point> kill_at_;
    std::chrono::steady_clock::time_point give_up_at_{};
    bool killed_ = false;
};

// Stops several processes in parallel: SIGTERM to all, one shared grace period, SIGKILL to the
// rest. Teardown time is then the slowest daemon's, not the sum.
void stop_all(const std::vector<Process*>& processes, std::chrono::milliseconds grace);

// Returns once every one of them is gone() (each after its own request_stop(), whose grace and
// SIGKILL gone() carries out).
void wait_until_gone(const std::vector<Process*>& processes);

// Runs a short command to completion with its output captured (at most `limit` bytes are kept),
// for checks: nothing is written to disk. Gives up, killing it, at `timeout`, or as soon as
// `give_up` (asked every 50 ms or so) says so.
struct CapturedRun {
    std::optional<int> status;  // nullopt: did not finish in time, or given up
    std::string output;
};
CapturedRun run_captured(const SpawnRequest& request, const std::string& label,
                         std::chrono::milliseconds timeout, std::size_t limit = 64 * 1024,
                         const std::function<bool()>& give_up = {});

// Marks this process a child subreaper and blocks the signals the launcher handles (so that
// signalfd sees them). Children get the original mask back.
void become_supervisor();

// Reaps every exited child except the leaders of live Processes, whose exit statuses it records
// and whose zombies it keeps (see above). Where /proc lists no children (no CONFIG_PROC_CHILDREN)
// it falls back to waitpid(-1), and a reaped leader's group is then no longer signalled.
void reap_children();

// "exit status 3", "killed by signal 9".
std::string describe_wait_status(int status);

// The exit code a shell would report for this status (128 + signal for a signal).
int exit_code_of(int status);

// The last `lines` lines of a text or a file ("" when unreadable), each indented, for error
// messages.
std::string last_lines(const std::string& text, std::size_t lines);
std::string tail_of_file(const std::string& path, std::size_t lines);

}  // namespace spark_slurm
