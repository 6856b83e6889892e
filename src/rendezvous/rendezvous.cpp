#include "rendezvous/rendezvous.hpp"

#include <mpi.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "plan/plan_json.hpp"

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

// Rank 0 receives every rank's text, in rank order.
std::vector<std::string> gather_text(const MpiSession& mpi, const std::string& mine) {
    int length = static_cast<int>(mine.size());
    std::vector<int> lengths(mpi.rank() == 0 ? mpi.size() : 0);
    check(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD),
          "gathering report sizes");
    std::vector<int> offsets(lengths.size());
    int total = 0;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
        offsets[i] = total;
        total += lengths[i];
    }
    std::string buffer(static_cast<std::size_t>(total), '\0');
    check(MPI_Gatherv(mine.data(), length, MPI_CHAR, buffer.data(), lengths.data(), offsets.data(),
                      MPI_CHAR, 0, MPI_COMM_WORLD),
          "gathering reports");
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < lengths.size(); ++i) {
        texts.push_back(buffer.substr(static_cast<std::size_t>(offsets[i]),
                                      static_cast<std::size_t>(lengths[i])));
    }
    return texts;
}

std::string broadcast_text(const MpiSession& mpi, std::string text) {
    unsigned long long length = text.size();
    check(MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD),
          "broadcasting the plan size");
    if (mpi.rank() != 0) text.assign(length, '\0');
    check(MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD),
          "broadcasting the plan");
    return text;
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
}

Plan rendezvous(MpiSession& mpi, const NodeReport& mine,
                const std::function<Plan(std::vector<NodeReport>)>& plan_on_leader,
                std::chrono::seconds deadline) {
    Watchdog watchdog(deadline, "the rendezvous of all ranks");
    auto texts = gather_text(mpi, report_to_json(mine).dump());

    std::string payload;
    std::exception_ptr leader_error;
    if (mpi.rank() == 0) {
        try {
            std::vector<NodeReport> reports;
            for (const auto& text : texts) reports.push_back(report_from_json(json::parse(text)));
            payload = json{{"plan", plan_to_json(plan_on_leader(std::move(reports)),
                                                 SecretHandling::Include)}}
                          .dump();
        } catch (const UsageError&) {
            leader_error = std::current_exception();
            payload = json{{"failed", kExitUsage}}.dump();
        } catch (const std::exception&) {
            leader_error = std::current_exception();
            payload = json{{"failed", kExitFailure}}.dump();
        }
    }
    payload = broadcast_text(mpi, std::move(payload));
    // Every rank reached the broadcast, so every rank can reach finalize now.
    mpi.finalize();

    if (leader_error) std::rethrow_exception(leader_error);
    json message = json::parse(payload);
    if (message.contains("failed")) throw PeerFailed{message["failed"].get<int>()};
    return plan_from_json(message.at("plan"));
}

}  // namespace spark_slurm
