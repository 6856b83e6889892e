#include "supervisor/signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>

#include "common/errors.hpp"

namespace spark_slurm {

namespace {
struct Masks {
    sigset_t handled;
    sigset_t original;
    Masks() {
        sigemptyset(&handled);
        for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD})
            sigaddset(&handled, signal);
        sigprocmask(SIG_BLOCK, nullptr, &original);
    }
};
Masks& masks() {
    static Masks value;
    return value;
}
}  // namespace

const sigset_t& handled_signals() { return masks().handled; }
const sigset_t& original_signal_mask() { return masks().original; }

SignalFd::SignalFd() : fd_(::signalfd(-1, &handled_signals(), SFD_CLOEXEC | SFD_NONBLOCK)) {
    if (!fd_.valid()) {
        throw LaunchError(std::string("while setting up signal handling: signalfd: ") +
                          std::strerror(errno));
    }
}

int SignalFd::read_signal() {
    signalfd_siginfo info{};
    ssize_t n = ::read(fd_.get(), &info, sizeof info);
    if (n != sizeof info) return 0;
    return static_cast<int>(info.ssi_signo);
}

bool is_termination(int signal) {
    return signal == SIGTERM || signal == SIGINT || signal == SIGHUP;
}

}  // namespace spark_slurm
