#include "allocation/allocation.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <type_traits>

#include "common/enum_names.hpp"
#include "common/errors.hpp"
#include "common/user_account.hpp"

namespace spark_slurm {

namespace {

constexpr std::pair<std::uint32_t, JobState> kSlurmStates[] = {
    {JOB_PENDING, JobState::Pending},     {JOB_RUNNING, JobState::Running},
    {JOB_SUSPENDED, JobState::Suspended}, {JOB_COMPLETE, JobState::Completed},
    {JOB_CANCELLED, JobState::Cancelled}, {JOB_FAILED, JobState::Failed},
    {JOB_TIMEOUT, JobState::Timeout},     {JOB_NODE_FAIL, JobState::NodeFail},
    {JOB_PREEMPTED, JobState::Preempted}, {JOB_BOOT_FAIL, JobState::BootFail},
    {JOB_DEADLINE, JobState::Deadline},   {JOB_OOM, JobState::OutOfMemory},
};

constexpr EnumName<JobState> kJobStateNames[] = {
    {JobState::Pending, "PENDING"},     {JobState::Running, "RUNNING"},
    {JobState::Suspended, "SUSPENDED"}, {JobState::Completed, "COMPLETED"},
    {JobState::Cancelled, "CANCELLED"}, {JobState::Failed, "FAILED"},
    {JobState::Timeout, "TIMEOUT"},     {JobState::NodeFail, "NODE_FAIL"},
    {JobState::Preempted, "PREEMPTED"}, {JobState::BootFail, "BOOT_FAIL"},
    {JobState::Deadline, "DEADLINE"},   {JobState::OutOfMemory, "OUT_OF_MEMORY"},
    {JobState::Other, "UNKNOWN"},
};

// libslurm's job_state word: its base state, typed.
JobState base_state(std::uint32_t job_state) {
    for (const auto& [slurm_state, state] : kSlurmStates) {
        if ((job_state & JOB_STATE_BASE) == slurm_state) return state;
    }
    return JobState::Other;
}

struct HostlistDestroy {
    void operator()(hostlist_t list) const { slurm_hostlist_destroy(list); }
};

struct JobInfoFree {
    void operator()(job_info_msg_t* message) const { slurm_free_job_info_msg(message); }
};

std::string slurm_error_text() { return slurm_strerror(slurm_get_errno()); }

}  // namespace

SlurmLibrary::~SlurmLibrary() {
    if (initialized_ && !keep_at_exit_) slurm_fini();
}

void SlurmLibrary::ensure_initialized() const {
    if (initialized_) return;
    slurm_init(nullptr);
    initialized_ = true;
}

namespace {

constexpr auto kSlurmSetupDeadline = std::chrono::seconds(15);

std::string cannot_reach(const std::string& why) {
    return "cannot reach Slurm from here: " + why +
           "; run spark-slurm on a login node of the cluster (where 'scontrol ping' answers)";
}

// libslurm's last complaint, without the program name it prefixes.
std::string last_complaint(const std::string& output) {
    std::istringstream lines(output);
    std::string line, last;
    while (std::getline(lines, line)) {
        if (!line.empty()) last = line;
    }
    if (auto colon = last.find(": "); colon != std::string::npos) last = last.substr(colon + 2);
    return last;
}

}  // namespace

void SlurmLibrary::ensure_initialized_or_explain() const {
    if (initialized_) return;
    if (const char* conf = std::getenv("SLURM_CONF"); conf && *conf) {
        struct stat info {};
        if (::stat(conf, &info) != 0) {
            throw LaunchError(
                cannot_reach(std::string("SLURM_CONF names ") + conf + ", which does not exist"));
        }
    }
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw LaunchError("while trying Slurm's configuration: cannot create a pipe");
    }
    pid_t child = ::fork();
    if (child < 0) {
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        throw LaunchError("while trying Slurm's configuration: cannot fork");
    }
    if (child == 0) {
        ::dup2(pipe_fds[1], STDERR_FILENO);
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        slurm_init(nullptr);
        ::_exit(0);  // libslurm exits 1 itself when it has no usable configuration
    }
    ::close(pipe_fds[1]);
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + kSlurmSetupDeadline;
    bool timed_out = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd entry{pipe_fds[0], POLLIN, 0};
        int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;
        char buffer[4096];
        ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;  // the child has exited (or closed its output)
        if (output.size() < 64 * 1024) output.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(pipe_fds[0]);
    if (timed_out) ::kill(child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        throw LaunchError(cannot_reach("libslurm could not load its configuration within " +
                                       std::to_string(kSlurmSetupDeadline.count()) + " s (" +
                                       last_complaint(output) + ")"));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string why = last_complaint(output);
        throw LaunchError(cannot_reach("libslurm cannot load its configuration" +
                                       (why.empty() ? std::string() : " (" + why + ")")));
    }
    ensure_initialized();
}

std::vector<std::string> expand_hostlist(const std::string& expression) {
    std::unique_ptr<std::remove_pointer_t<hostlist_t>, HostlistDestroy> list(
        slurm_hostlist_create(expression.c_str()));
    if (!list) throw LaunchError("while expanding the Slurm node list '" + expression + "'");
    std::vector<std::string> hosts;
    while (char* host = slurm_hostlist_shift(list.get())) {
        hosts.emplace_back(host);
        free(host);
    }
    return hosts;
}

bool inside_allocation(const SlurmFacts& slurm) {
    return !slurm.job_id_text.empty() && !slurm.nodelist.empty();
}

Allocation read_allocation(const SlurmFacts& slurm) {
    if (!inside_allocation(slurm)) {
        throw UsageError(
            "spark-slurm run: not inside a Slurm allocation (SLURM_JOB_ID is not set); start it "
            "from a batch script or salloc with 'srun --ntasks-per-node=1 --mpi=pmix spark-slurm "
            "run -- COMMAND', or preview with 'spark-slurm plan --nodes N'");
    }
    if (!slurm.job_id)
        throw LaunchError("SLURM_JOB_ID '" + slurm.job_id_text + "' is not a job id");
    Allocation allocation;
    allocation.job_id = *slurm.job_id;
    allocation.nodes = expand_hostlist(slurm.nodelist);
    allocation.this_node = slurm.node_name;
    allocation.restart_count = slurm.restart_count;
    allocation.submit_dir = slurm.submit_dir;
    return allocation;
}

bool job_is_requeueable(const SlurmLibrary& slurm, std::uint32_t job_id) {
    auto status = load_job_status(slurm, job_id);
    return status && status->requeueable;
}

std::optional<JobStatus> load_job_status(const SlurmLibrary& slurm, std::uint32_t job_id) {
    slurm.ensure_initialized();
    job_info_msg_t* raw = nullptr;
    if (slurm_load_job(&raw, job_id, SHOW_DETAIL) != SLURM_SUCCESS || !raw) return {};
    std::unique_ptr<job_info_msg_t, JobInfoFree> message(raw);
    if (message->record_count == 0) return {};
    const slurm_job_info_t& job = message->job_array[0];
    JobStatus status;
    status.state = base_state(job.job_state);
    status.completing = (job.job_state & JOB_COMPLETING) != 0;
    status.restart_count = job.restart_cnt;
    status.time_limit_reached = job.state_reason == FAIL_TIMEOUT;
    status.end_time = static_cast<std::int64_t>(job.end_time);
    status.requeueable = job.requeue != 0;
    return status;
}

Termination classify_termination(const std::optional<JobStatus>& status,
                                 unsigned restart_count_at_start) {
    if (!status) return Termination::Unknown;
    if (status->restart_count > restart_count_at_start || status->state == JobState::Pending) {
        return Termination::RequeuedBySlurm;
    }
    if (status->state == JobState::Preempted) return Termination::Preempted;
    if (status->time_limit_reached || status->state == JobState::Timeout)
        return Termination::TimeLimit;
    return Termination::Cancelled;
}

constexpr EnumName<Termination> kTerminationDescriptions[] = {
    {Termination::RequeuedBySlurm, "Slurm is requeueing the job (preemption or node failure)"},
    {Termination::Preempted, "the job was preempted"},
    {Termination::TimeLimit, "the job reached its time limit"},
    {Termination::Cancelled, "the job was cancelled"},
    {Termination::Unknown, "the job's state is unknown"},
};

const char* describe(Termination termination) {
    return enum_name(kTerminationDescriptions, termination);
}

bool is_running(const JobStatus& status) {
    return status.state == JobState::Running && !status.completing;
}

JobActivity job_activity(const SlurmLibrary& slurm, std::uint32_t job_id) {
    auto status = load_job_status(slurm, job_id);
    if (!status) {
        // Read before anything else calls into libslurm: its errno is the failed load's.
        return slurm_get_errno() == ESLURM_INVALID_JOB_ID ? JobActivity::Ended
                                                          : JobActivity::Unknown;
    }
    return status->completing || is_unfinished(status->state) ? JobActivity::Active
                                                              : JobActivity::Ended;
}

void set_job_comment(const SlurmLibrary& slurm, std::uint32_t job_id, const std::string& comment) {
    slurm.ensure_initialized();
    job_desc_msg_t update;
    slurm_init_job_desc_msg(&update);
    update.job_id = job_id;
    std::string text = comment;  // libslurm takes a char*, and does not keep it
    update.comment = text.data();
    if (slurm_update_job(&update) != SLURM_SUCCESS) {
        throw LaunchError("while setting the comment of job " + std::to_string(job_id) + ": " +
                          slurm_error_text());
    }
}

void requeue_job(const SlurmLibrary& slurm, std::uint32_t job_id) {
    slurm.ensure_initialized();
    if (slurm_requeue(job_id, 0) != SLURM_SUCCESS) {
        throw LaunchError("while requeueing job " + std::to_string(job_id) + ": " +
                          slurm_error_text());
    }
}

std::optional<JobFacts> load_job(const SlurmLibrary& slurm, std::uint32_t job_id) {
    slurm.ensure_initialized_or_explain();
    job_info_msg_t* raw = nullptr;
    if (slurm_load_job(&raw, job_id, SHOW_DETAIL) != SLURM_SUCCESS || !raw) {
        int error = slurm_get_errno();
        if (error == ESLURM_INVALID_JOB_ID) return std::nullopt;
        throw LaunchError(cannot_reach(std::string("looking up job ") + std::to_string(job_id) +
                                       " failed (" + slurm_strerror(error) + ")"));
    }
    std::unique_ptr<job_info_msg_t, JobInfoFree> message(raw);
    if (message->record_count == 0) return std::nullopt;
    const slurm_job_info_t& job = message->job_array[0];
    JobFacts facts;
    facts.job_id = job.job_id;
    facts.user_id = job.user_id;
    // user_name_of (getpwuid_r): this may run on SlurmCalls' thread, beside the loop's lookups.
    facts.user_name =
        job.user_name && *job.user_name ? std::string(job.user_name) : user_name_of(job.user_id);
    facts.state = base_state(job.job_state);
    facts.running = facts.state == JobState::Running && (job.job_state & JOB_COMPLETING) == 0;
    facts.ended = !is_unfinished(facts.state);
    facts.start_time = static_cast<std::int64_t>(job.start_time);
    facts.end_time = static_cast<std::int64_t>(job.end_time);
    if (job.nodes) facts.node_list = job.nodes;
    return facts;
}

const char* job_state_name(JobState state) { return enum_name(kJobStateNames, state); }

bool is_unfinished(JobState state) {
    return state == JobState::Pending || state == JobState::Running || state == JobState::Suspended;
}

void signal_job_step(const SlurmLibrary& slurm, std::uint32_t job_id, std::uint32_t step_id,
                     int signal) {
    slurm.ensure_initialized_or_explain();
    if (slurm_signal_job_step(job_id, step_id, static_cast<std::uint32_t>(signal)) !=
        SLURM_SUCCESS) {
        throw LaunchError("while signalling step " + std::to_string(job_id) + "." +
                          std::to_string(step_id) + ": " + slurm_error_text());
    }
}

}  // namespace spark_slurm
