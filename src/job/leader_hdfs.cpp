// The leader's HDFS start-up and end: with Kerberos, waiting for the job's KDC; formatting a new
// namespace (or starting on the one in the state dir), then the namenode and datanodes; with
// Kerberos, the executors' delegation token once the namenode answers; and, after the work, with
// a state dir, saving the namespace. The helper commands run as child processes that the event
// loop polls (on_helpers_done routes their outcome here).
#include <fmt/format.h>

#include <filesystem>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"
#include "job/leader.hpp"
#include "services/services.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Each dfsadmin step of saving the namespace gets this long.
constexpr auto kSaveStepLimit = 60s;

}  // namespace

void Leader::probe_kdc() {
    std::error_code error;
    if (std::filesystem::exists(kerberos_names(plan_).ready_file, error)) on_kdc_ready();
}

void Leader::start_namespace() {
    if (plan_.hdfs && namenode_needs_format(node_.namenode_dir)) {
        log::info("formatting a new HDFS namespace in {}", node_.namenode_dir);
        helpers_.emplace(
            runtime_, std::vector{namenode_format_spec(plan_, node_)},
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()));
        formatting_ = true;
        if (!plan_.kerberos) enter(Phase::FormattingNamespace);
    } else if (!plan_.kerberos || kdc_ready_) {
        if (plan_.hdfs) start_hdfs();
        enter(Phase::StartingDaemons);
    }
}

void Leader::on_kdc_ready() {
    kdc_ready_ = true;
    log::info("kerberos kdc of realm {} ready in {:.1f} s", kerberos_names(plan_).realm, elapsed());
    events_.write("daemon_up", {{"daemon", file_name(Daemon::Kdc)},
                                {"node", plan_.leader_hostname},
                                {"seconds", elapsed()}});
    if (formatting_) return enter(Phase::FormattingNamespace);
    try {
        start_namespace();
    } catch (const LaunchError& error) {
        fail(error.what());
    }
}

void Leader::start_hdfs() {
    start_local(Daemon::Namenode);
    namenode_started_ = true;
    if (plan_.kerberos) {
        namenode_reports_.emplace(plan_, node_, runtime_);
        readiness_.set_namenode_source([this] { return namenode_reports_->latest(); });
    }
    // A datanode keeps retrying its namenode by itself, so it can start right away.
    start_local(Daemon::Datanode);
    for (unsigned rank : links_.admitted_ranks()) links_.start_daemon(rank, Daemon::Datanode);
}

void Leader::on_namespace_formatted(const HelperSteps::Outcome& outcome) {
    formatting_ = false;
    if (!outcome.ok) {
        return fail(outcome.status
                        ? exit_message(node_.hostname, *outcome.failed_step, *outcome.status)
                        : "formatting the namenode did not finish within --ready-timeout");
    }
    if (plan_.kerberos && !kdc_ready_) return;  // on_kdc_ready starts HDFS
    try {
        start_hdfs();
    } catch (const LaunchError& error) {
        return fail(error.what());
    }
    enter(Phase::StartingDaemons);
}

// Standalone executors cannot log in: they read HDFS with a delegation token.
void Leader::start_token_fetch() {
    helpers_.emplace(runtime_, std::vector{fetch_token_spec(plan_, node_)}, kSaveStepLimit);
    helpers_started_ = Clock::now();
    token_ = Token::Fetching;
}

void Leader::on_token_fetched(const HelperSteps::Outcome& outcome) {
    token_ = Token::NotStarted;
    const std::string token = kerberos_names(plan_).token_file;
    std::error_code error;
    // fetchdt writes it under the umask (0644 seen), and a checksum file next to it (by
    // Hadoop's local filesystem): 0600 the token, in the 0700 credentials dir; no checksum.
    const auto token_path = std::filesystem::path(token);
    std::filesystem::remove(
        token_path.parent_path() / ("." + token_path.filename().string() + ".crc"), error);
    std::string protect_error;
    if (outcome.ok) {
        try {
            restrict_to_owner(token);
        } catch (const PrivateFileError& failed) {
            protect_error = failed.what();
        }
    }
    if (!outcome.ok || !protect_error.empty()) {
        ready_ = false;  // nothing ran: a failed start
        return fail(outcome.ok ? protect_error
                    : outcome.status
                        ? exit_message(node_.hostname, *outcome.failed_step, *outcome.status)
                        : "fetching the HDFS delegation token did not finish in time");
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - helpers_started_).count();
    log::info("fetched the executors' HDFS delegation token in {:.1f} s", seconds);
    events_.write("token_fetched", {{"seconds", seconds}});
    token_ = Token::Fetched;
    if (phase_ == Phase::FetchingToken) continue_when_ready();
}

// A clean end checkpoints the namespace (fsimage) into the state dir, so the next job that uses
// it starts from the image instead of replaying the edit log.
void Leader::save_namespace() {
    enter(Phase::SavingNamespace);
    save_started_ = Clock::now();
    helpers_.emplace(runtime_,
                     std::vector{dfsadmin_spec(plan_, node_, {"-safemode", "enter"}),
                                 dfsadmin_spec(plan_, node_, {"-saveNamespace"})},
                     kSaveStepLimit);
}

void Leader::on_namespace_saved(const HelperSteps::Outcome& outcome) {
    if (outcome.ok) {
        const double seconds = std::chrono::duration<double>(Clock::now() - save_started_).count();
        log::info("saved the HDFS namespace in {:.1f} s", seconds);
        events_.write("namespace_saved", {{"seconds", seconds}});
    } else {
        log::warn(
            "could not save the HDFS namespace (hdfs dfsadmin {}: {}); the edit log still "
            "has it",
            fmt::join(outcome.failed_step->invocation.args, " "),
            outcome.status ? describe_wait_status(*outcome.status) : "did not finish");
    }
    begin_stopping(work_exit_code_, false);
}

}  // namespace spark_slurm
