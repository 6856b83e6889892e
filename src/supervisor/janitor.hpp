// The janitor: a small child process that outlives a launcher killed without warning (SIGKILL,
// the OOM killer) just long enough to finish its teardown: it waits for the daemons' process
// groups to end (they get SIGTERM from their parent-death signal), kills what is left after a
// bound, and removes the node-local work directory. A launcher that ends normally dismisses it.
#pragma once

#include <sys/types.h>

#include <string>

namespace spark_slurm {

// Forks the janitor for `work_dir`. Call once, while the process has no other threads.
void start_janitor(const std::string& work_dir);

// Tells the janitor about a process group to wait for (Process::spawn calls it).
void janitor_watch(pid_t process_group);

// The launcher cleaned up itself: the janitor exits without touching anything.
void dismiss_janitor();

}  // namespace spark_slurm
