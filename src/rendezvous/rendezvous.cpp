#include "rendezvous/rendezvous.hpp"

#include <malloc.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "plan/plan_json.hpp"
#include "rendezvous/job_secrets.hpp"

namespace spark_slurm {

using nlohmann::json;

namespace {

// Exits the process when the guarded section outlives its deadline. A hung collective cannot be
// cancelled, so leaving is the only way not to hang with it.
class Watchdog {
  public:
    Watchdog(std::chrono::seconds deadline, std::string what)
        : thread_([this, deadline, what = std::move(what)] {
              std::unique_lock lock(mutex_);
              if (!done_changed_.wait_for(lock, deadline, [this] { return done_; })) {
                  log::write_line(log::origin() + ": error: " + what + " did not finish within " +
                                  std::to_string(deadline.count()) +
                                  " s: another rank died or never started; see the other ranks' "
                                  "output in the job's log");
                  ::_exit(kExitFailure);
              }
          }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_changed_.notify_all();
        thread_.join();
    }

  private:
    std::mutex mutex_;
    std::condition_variable done_changed_;
    bool done_ = false;
    std::thread thread_;
};

void check(int status, const char* what) {
    if (status != MPI_SUCCESS)
        throw LaunchError(std::string("while ") + what + ": MPI error " + std::to_string(status));
}

// Two collectives, not four: a report travels in a fixed-size slot of one gather and the plan in
// the first block of one broadcast, each with its length in front, so no sizes are exchanged
// first. With many ranks per core (and on slow networks) every collective costs a round of
// waiting on all ranks. What does not fit follows point to point (a report) or in a second
// broadcast; both sides know that from the length. Every rank derives the block's size from the
// rank count, sized for a typical plan (about 800 bytes a node): only plans with very long paths
// need the second broadcast.
constexpr std::size_t kReportSlot = 1024;
std::size_t plan_block_size(unsigned ranks) {
    return std::clamp<std::size_t>(4096 + std::size_t{1024} * ranks, 4096, 8 << 20);
}
constexpr int kReportRestTag = 1;

using Length = std::uint64_t;
constexpr std::size_t kHeader = sizeof(Length);

std::string with_length(const std::string& text, std::size_t block) {
    std::string packed(block, '\0');
    const Length length = text.size();
    std::memcpy(packed.data(), &length, kHeader);
    text.copy(packed.data() + kHeader, std::min(text.size(), block - kHeader));
    return packed;
}

Length length_of(const char* packed) {
    Length length = 0;
    std::memcpy(&length, packed, kHeader);
    return length;
}

int as_count(std::size_t size, const char* what) {
    if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw LaunchError(std::string("while ") + what + ": more than 2 GiB");
    return static_cast<int>(size);
}

// Rank 0 receives every rank's text, in rank order.
std::vector<std::string> gather_text(const MpiSession& mpi, const std::string& mine) {
    constexpr std::size_t kInline = kReportSlot - kHeader;
    const std::string slot = with_length(mine, kReportSlot);
    std::string slots(mpi.rank() == 0 ? mpi.size() * kReportSlot : 0, '\0');
    check(MPI_Gather(slot.data(), kReportSlot, MPI_BYTE, slots.data(), kReportSlot, MPI_BYTE, 0,
                     MPI_COMM_WORLD),
          "gathering the node reports");
    if (mpi.rank() != 0) {
        if (mine.size() > kInline) {
            check(
                MPI_Send(mine.data() + kInline, as_count(mine.size() - kInline, "sending a report"),
                         MPI_BYTE, 0, kReportRestTag, MPI_COMM_WORLD),
                "sending the rest of a long node report");
        }
        return {};
    }
    std::vector<std::string> texts(mpi.size());
    for (unsigned rank = 0; rank < mpi.size(); ++rank) {
        const char* packed = slots.data() + std::size_t{rank} * kReportSlot;
        const Length length = length_of(packed);
        std::string& text = texts[rank];
        text.assign(packed + kHeader, std::min<Length>(length, kInline));
        if (length <= kInline) continue;
        if (rank == 0) {
            text = mine;
            continue;
        }
        text.resize(length);
        check(MPI_Recv(text.data() + kInline, as_count(length - kInline, "receiving a report"),
                       MPI_BYTE, static_cast<int>(rank), kReportRestTag, MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE),
              "receiving the rest of a long node report");
    }
    return texts;
}

std::string broadcast_text(const MpiSession& mpi, const std::string& text) {
    const std::size_t block_size = plan_block_size(mpi.size());
    const std::size_t inline_size = block_size - kHeader;
    std::string block =
        mpi.rank() == 0 ? with_length(text, block_size) : std::string(block_size, '\0');
    check(MPI_Bcast(block.data(), as_count(block_size, "broadcasting the plan"), MPI_BYTE, 0,
                    MPI_COMM_WORLD),
          "broadcasting the plan");
    const Length length = length_of(block.data());
    if (length <= inline_size) return block.substr(kHeader, length);
    std::string rest =
        mpi.rank() == 0 ? text.substr(inline_size) : std::string(length - inline_size, '\0');
    check(MPI_Bcast(rest.data(), as_count(rest.size(), "broadcasting the plan"), MPI_BYTE, 0,
                    MPI_COMM_WORLD),
          "broadcasting the rest of the plan");
    return block.substr(kHeader) + rest;
}

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) check(MPI_Init(argc, argv), "starting MPI");
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    rank_ = static_cast<unsigned>(rank);
    size_ = static_cast<unsigned>(size);
}

MpiSession::~MpiSession() {
    if (!finalized_) finalize();
}

void MpiSession::finalize() {
    if (finalized_) return;
    finalized_ = true;
    MPI_Finalize();
    // What MPI allocated is free now; the launcher lives on for the whole job, so give it back.
    ::malloc_trim(0);
}

Plan rendezvous(MpiSession& mpi, const NodeReport& mine,
                const std::function<Plan(std::vector<NodeReport>)>& plan_on_leader,
                std::chrono::seconds deadline, SecretDelivery delivery) {
    const bool dry_run = delivery == SecretDelivery::DryRunPlaceholder;
    Watchdog watchdog(deadline, "the rendezvous of all ranks");
    auto texts = gather_text(mpi, report_to_json(mine).dump());

    std::string payload;
    std::exception_ptr leader_error;
    std::optional<Plan> leaders_plan;  // rank 0's, with the secrets
    if (mpi.rank() == 0) {
        try {
            std::vector<NodeReport> reports;
            for (const auto& text : texts) reports.push_back(report_from_json(json::parse(text)));
            Plan plan = plan_on_leader(std::move(reports));
            if (dry_run) {
                plan.secret = kDryRunSecret;
                if (plan.connect) plan.connect_token = kDryRunSecret;
            } else {
                // The secrets go to the shared filesystem; the broadcast has their fingerprints
                // only.
                write_job_secrets(plan);
            }
            payload = json{{"plan", plan_to_json(plan, SecretHandling::Fingerprint)}}.dump();
            leaders_plan = std::move(plan);
        } catch (const UsageError&) {
            leader_error = std::current_exception();
            payload = json{{"failed", kExitUsage}}.dump();
        } catch (const std::exception&) {
            leader_error = std::current_exception();
            payload = json{{"failed", kExitFailure}}.dump();
        }
    }
    payload = broadcast_text(mpi, payload);
    // Every rank reached the broadcast, so every rank can reach finalize now.
    mpi.finalize();

    if (leader_error) std::rethrow_exception(leader_error);
    json message = json::parse(payload);
    if (message.contains("failed")) throw PeerFailed{message["failed"].get<int>()};
    if (leaders_plan) return std::move(*leaders_plan);
    const json& broadcast = message.at("plan");
    Plan plan = plan_from_json(broadcast);
    if (dry_run) {
        plan.secret = kDryRunSecret;
        if (plan.connect) plan.connect_token = kDryRunSecret;
        return plan;
    }
    read_job_secrets(plan, broadcast.at("secret_fingerprint").get<std::string>(),
                     broadcast.value("connect_token_fingerprint", std::string()));
    return plan;
}

}  // namespace spark_slurm
