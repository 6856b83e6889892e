// The launcher's signals arrive through a signalfd in its poll loop, never in async handlers.
#pragma once

#include <csignal>

#include "common/unique_fd.hpp"

namespace spark_slurm {

// SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD: blocked, read through the fd.
const sigset_t& handled_signals();

// The signal mask the launcher started with, for children.
const sigset_t& original_signal_mask();

// SIGTERM (scancel, the time limit, a preemption), SIGINT (Ctrl-C on srun) and SIGHUP (the
// terminal went away): the signals that end a launcher, where SIGUSR1/2 ask a held cluster to
// stop cleanly and SIGCHLD only says a child changed.
bool is_termination(int signal);

class SignalFd {
  public:
    SignalFd();
    int fd() const { return fd_.get(); }
    // The next pending signal number, or 0 when none is pending.
    int read_signal();

  private:
    UniqueFd fd_;
};

}  // namespace spark_slurm
