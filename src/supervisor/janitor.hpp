// The janitor: a small child process that outlives a launcher killed without warning (SIGKILL,
// the OOM killer) just long enough to finish its teardown: it waits for the daemons' process
// groups to end (they get SIGTERM from their parent-death signal), kills what is left after a
// bound, and removes the node-local work directory. A launcher that ends normally dismisses it.
//
// It gets each group's leader as a pidfd (passed over a Unix socket) and signals or waits for a
// group only while that leader is unreaped; a group whose leader is reaped is dropped from its
// list, since its id may be reused, so the list stays as short as the groups alive.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/unique_fd.hpp"

namespace spark_slurm {

// Forks the janitor for `work_dir`. Call once, while the process has no other threads.
void start_janitor(const std::string& work_dir);

// Tells the janitor about a process group to wait for, led by the process of `leader_pidfd`
// (Process::spawn calls it).
void janitor_watch(const UniqueFd& leader_pidfd, pid_t process_group);

// The launcher cleaned up itself: the janitor exits without touching anything.
void dismiss_janitor();

}  // namespace spark_slurm
