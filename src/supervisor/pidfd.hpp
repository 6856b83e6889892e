// Process descriptors (pidfd, Linux 5.3): a handle on one process that, unlike its pid, can never
// come to mean another process. A pid is free for reuse once its process is reaped, and so is a
// process-group id once its leader is reaped and the group is empty; signalling a remembered id
// after that can kill an unrelated process. Everything that signals a process or a group here
// checks the leader's pidfd first.
#pragma once

#include <sys/types.h>

#include "common/unique_fd.hpp"

namespace spark_slurm {

// pidfd_open(pid): an invalid UniqueFd (errno kept) when the kernel lacks it or `pid` is gone.
// Only race-free for a child that the caller has not reaped yet.
UniqueFd open_pidfd(pid_t pid);

// True while the process of `pidfd` is not reaped: running, stopped, or a zombie. A zombie still
// holds its pid, and as a group leader its group id, so neither can have been reused yet.
bool process_unreaped(const UniqueFd& pidfd);

// Whether a live (not zombie) process of group `group` is left. Only meaningful while the group's
// leader is known unreaped (process_unreaped(), or the caller's own bookkeeping as the leader's
// only reaper): after that the id may be another's. kill(-group, 0) cannot tell, as it succeeds
// while the zombie leader alone is left, so the members are looked up in /proc.
bool group_has_members(pid_t group);

}  // namespace spark_slurm
