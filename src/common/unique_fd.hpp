// The one owner of a file descriptor: closes it when it goes, moves but never copies, so that a
// class holding a socket, a pipe or an open file needs no destructor or move operations of its
// own. Every descriptor the launcher keeps beyond one function lives in one of these.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace spark_slurm {

class UniqueFd {
  public:
    UniqueFd() = default;
    // Takes `fd` (-1: none).
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }
    // Gives the descriptor up without closing it; this one holds none after.
    int release() noexcept { return std::exchange(fd_, -1); }
    // Closes the descriptor held, if any, and takes `fd`.
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    // Closes now and reports the close's own error (NFS reports a failed write there): 0 or
    // errno; 0 when none was held.
    int close() noexcept {
        if (fd_ < 0) return 0;
        return ::close(release()) == 0 ? 0 : errno;
    }

  private:
    int fd_ = -1;
};

}  // namespace spark_slurm
