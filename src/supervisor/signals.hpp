// The launcher's signals arrive through a signalfd in its poll loop, never in async handlers.
#pragma once

#include <csignal>

namespace spark_slurm {

// SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD: blocked, read through the fd.
const sigset_t& handled_signals();

// The signal mask the launcher started with, for children.
const sigset_t& original_signal_mask();

class SignalFd {
  public:
    SignalFd();
    ~SignalFd();
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;
    int fd() const { return fd_; }
    // The next pending signal number, or 0 when none is pending.
    int read_signal();

  private:
    int fd_;
};

}  // namespace spark_slurm
