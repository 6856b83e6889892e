// `spark-slurm down`: the signal, then a poll with a deadline — the record directory every
// half second (a stat), the job in Slurm every few seconds (a request to slurmctld).
#include "client/down_command.hpp"

#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "allocation/allocation.hpp"
#include "client/cluster_lookup.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRecordPoll = std::chrono::milliseconds(500);
constexpr auto kJobPoll = std::chrono::seconds(3);

bool exists(const std::string& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

}  // namespace

int down_command(const Options& options) {
    SlurmLibrary slurm;
    RunningCluster cluster = find_cluster(slurm, options.job_id);
    const ClusterRecord& record = cluster.record;
    std::string job = std::to_string(record.job_id);
    std::string dir = record_directory(record.job_id);
    if (record.command == "run") {
        // A `run` cluster belongs to its driver: it ends when the driver does.
        throw UsageError("spark-slurm down: job " + job +
                         " runs a driver (spark-slurm run); its cluster stops when the driver "
                         "ends. To stop it now: scancel " +
                         job);
    }
    signal_job_step(slurm, record.job_id, record.step_id, SIGUSR2);
    std::cout << "Asked the launcher of job " << job << " (step " << job << "." << record.step_id
              << ") to stop the cluster; waiting up to " << options.down_timeout_seconds << " s"
              << std::endl;

    auto start = Clock::now();
    auto deadline = start + std::chrono::seconds(options.down_timeout_seconds);
    auto next_job_poll = start + kJobPoll;
    for (;;) {
        if (!exists(dir)) {
            std::cout << "The cluster of job " << job
                      << " has stopped (its daemons are down and its record removed); the job "
                         "ends as soon as its launcher exits."
                      << std::endl;
            return 0;
        }
        auto now = Clock::now();
        if (now >= next_job_poll) {
            next_job_poll = now + kJobPoll;
            auto facts = load_job(slurm, record.job_id);
            if (!facts || !facts->running) {
                remove_record_directory(record.job_id);
                std::cout << "Job " << job << " has ended"
                          << (facts ? std::string(" (") + job_state_name(facts->state) + ")"
                                    : std::string())
                          << "; the cluster is gone." << std::endl;
                return 0;
            }
        }
        if (now >= deadline) {
            throw LaunchError(
                "the cluster of job " + job + " has not stopped within " +
                std::to_string(options.down_timeout_seconds) +
                " s; its launcher may still be stopping the daemons (their logs are in " +
                record.job_dir +
                "): wait and check with 'spark-slurm list', or end the job with "
                "'scancel " +
                job + "'");
        }
        std::this_thread::sleep_for(kRecordPoll);
    }
}

}  // namespace spark_slurm
