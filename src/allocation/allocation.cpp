#include "allocation/allocation.hpp"

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include <memory>
#include <type_traits>

#include "common/errors.hpp"

namespace spark_slurm {

namespace {

struct HostlistDestroy {
    void operator()(hostlist_t list) const { slurm_hostlist_destroy(list); }
};

struct JobInfoFree {
    void operator()(job_info_msg_t* message) const { slurm_free_job_info_msg(message); }
};

std::string slurm_error_text() { return slurm_strerror(slurm_get_errno()); }

}  // namespace

SlurmLibrary::~SlurmLibrary() {
    if (initialized_) slurm_fini();
}

void SlurmLibrary::ensure_initialized() const {
    if (initialized_) return;
    slurm_init(nullptr);
    initialized_ = true;
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
    status.state = job.job_state & JOB_STATE_BASE;
    status.completing = (job.job_state & JOB_COMPLETING) != 0;
    status.restart_count = job.restart_cnt;
    status.state_reason = job.state_reason;
    status.end_time = static_cast<std::int64_t>(job.end_time);
    status.requeueable = job.requeue != 0;
    return status;
}

Termination classify_termination(const std::optional<JobStatus>& status,
                                 unsigned restart_count_at_start) {
    if (!status) return Termination::Unknown;
    if (status->restart_count > restart_count_at_start || status->state == JOB_PENDING) {
        return Termination::RequeuedBySlurm;
    }
    if (status->state == JOB_PREEMPTED) return Termination::Preempted;
    if (status->state_reason == FAIL_TIMEOUT || status->state == JOB_TIMEOUT)
        return Termination::TimeLimit;
    return Termination::Cancelled;
}

const char* describe(Termination termination) {
    switch (termination) {
        case Termination::RequeuedBySlurm:
            return "Slurm is requeueing the job (preemption or node failure)";
        case Termination::Preempted:
            return "the job was preempted";
        case Termination::TimeLimit:
            return "the job reached its time limit";
        case Termination::Cancelled:
            return "the job was cancelled";
        case Termination::Unknown:
            return "the job's state is unknown";
    }
    return "?";
}

bool is_running(const JobStatus& status) {
    return status.state == JOB_RUNNING && !status.completing;
}

bool job_is_active(const SlurmLibrary& slurm, std::uint32_t job_id) {
    auto status = load_job_status(slurm, job_id);
    if (!status) return false;
    return status->completing || status->state == JOB_PENDING || status->state == JOB_RUNNING ||
           status->state == JOB_SUSPENDED;
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

}  // namespace spark_slurm
