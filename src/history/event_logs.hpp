// Where a job's Spark event logs are, and how `spark-slurm history` finds them after the job.
//
// Every application's event log goes to <job dir>/spark-events (plan.hpp, kEventLogDirName), on
// the shared filesystem. The job dir may be anywhere (--job-dir), so the leader also records it:
// ~/.spark-slurm/history/JOBID is a 0600 file, in 0700 directories of the user's home (from the
// password database), holding the path of the job's event-log directory. A requeued job writes
// the same record again; its runs' logs share the directory, one per application id.
//
// `spark-slurm history` (cmd/history_command.cpp) reads the records here, and, for several
// jobs, gives Spark's history server one directory of symbolic links to every job's logs (its
// FsHistoryProvider follows them, for plain log files and rolling eventlog_v2_* directories
// alike). Nothing here runs a program; the unit tests drive it on temporary directories.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace spark_slurm {

// <home>/.spark-slurm/history; the home is user_account().home (common/user_account.hpp).
std::string history_records_dir(const std::string& home);

// Writes <records_dir>/<job_id> (0600; the directories 0700), naming `event_log_dir`. Throws
// LaunchError naming the path.
void record_event_log_dir(const std::string& records_dir, std::uint32_t job_id,
                          const std::string& event_log_dir);

// What <records_dir>/<job_id> names; nullopt when there is no such record.
std::optional<std::string> recorded_event_log_dir(const std::string& records_dir,
                                                  std::uint32_t job_id);

struct EventLogSource {
    std::string what;  // for messages: "job 123", "--job-dir /x"
    std::string dir;   // the event-log directory
    bool operator==(const EventLogSource&) const = default;
};

// Which event-log directories `spark-slurm history` serves:
//  - each job id: its record, else <current_dir>/spark-slurm-JOBID/spark-events (the default
//    job dir of a job submitted from here);
//  - --job-dir DIR: DIR/spark-events;
//  - neither: every recorded job whose directory still exists, and every
//    <current_dir>/spark-slurm-*/spark-events, by job id.
// Throws UsageError naming the job and the fix when a directory cannot be found.
std::vector<EventLogSource> find_event_logs(const std::vector<std::uint32_t>& jobs,
                                            const std::optional<std::string>& job_dir,
                                            const std::string& records_dir,
                                            const std::string& current_dir);

// Links every event log of every source (files and rolling eventlog_v2_* directories; hidden
// files are skipped) into `farm` as symbolic links with the same names. Links already there are
// kept, so it can be called again to pick up new applications. Returns one warning per name that
// two sources share (the first one is served).
std::vector<std::string> link_event_logs(const std::vector<EventLogSource>& sources,
                                         const std::string& farm);

// The history server's properties file: the log directory (a local path), its web UI's port,
// a short update interval so that new applications show up within seconds, and the web UIs'
// login (common/ui_login.hpp) with the token in `ui_token_file`.
std::string history_server_properties(const std::string& log_directory, std::uint16_t port,
                                      const std::string& ui_token_file);

}  // namespace spark_slurm
