#include "allocation/slurm_calls.hpp"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/errors.hpp"
#include "common/unique_fd.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

// How long the destructor waits for a call in flight before leaving it behind.
constexpr auto kFinishGrace = std::chrono::seconds(2);

}  // namespace

// What the loop and the helper thread share. The thread keeps it alive, so a call left behind
// at teardown writes into memory that still exists.
struct SlurmCalls::Shared {
    struct Queued {
        std::uint64_t id;
        std::function<void()> call;
    };
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Queued> queue;
    std::vector<std::pair<std::uint64_t, std::optional<std::string>>> finished;
    bool busy = false;
    bool stopping = false;
    UniqueFd event_fd;
    std::thread thread;

    void run() {
        std::unique_lock lock(mutex);
        while (true) {
            changed.wait(lock, [this] { return stopping || !queue.empty(); });
            if (stopping) return;
            Queued next = std::move(queue.front());
            queue.pop_front();
            busy = true;
            lock.unlock();
            std::optional<std::string> error;
            try {
                next.call();
            } catch (const std::exception& exception) {
                error = exception.what();
            } catch (...) {
                error = "an unknown error";
            }
            lock.lock();
            busy = false;
            finished.emplace_back(next.id, std::move(error));
            const std::uint64_t one = 1;
            [[maybe_unused]] auto written = ::write(event_fd.get(), &one, sizeof one);
            changed.notify_all();
        }
    }
};

SlurmCalls::SlurmCalls(const SlurmLibrary& slurm)
    : slurm_(slurm), shared_(std::make_shared<Shared>()) {
    shared_->event_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!shared_->event_fd.valid()) {
        throw LaunchError(std::string("while making an eventfd for Slurm calls: ") +
                          std::strerror(errno));
    }
}

SlurmCalls::~SlurmCalls() {
    if (!shared_->thread.joinable()) return;
    std::unique_lock lock(shared_->mutex);
    shared_->queue.clear();
    const bool idle =
        shared_->changed.wait_for(lock, kFinishGrace, [this] { return !shared_->busy; });
    shared_->stopping = true;
    shared_->changed.notify_all();
    lock.unlock();
    if (idle) {
        shared_->thread.join();
        return;
    }
    // The call is stuck in slurmctld: the thread finishes it on its own, holding `Shared`.
    shared_->thread.detach();
    slurm_.keep_at_exit();
}

int SlurmCalls::fd() const { return shared_->event_fd.get(); }

void SlurmCalls::submit(std::string what, std::function<void()> call,
                        std::chrono::milliseconds limit, Done done) {
    const std::uint64_t id = next_id_++;
    waiting_.emplace(id, Waiting{std::move(what), Clock::now() + limit, limit, std::move(done)});
    {
        std::lock_guard lock(shared_->mutex);
        shared_->queue.push_back({id, std::move(call)});
    }
    shared_->changed.notify_all();
    if (!shared_->thread.joinable())
        shared_->thread = std::thread([shared = shared_] { shared->run(); });
}

void SlurmCalls::collect() {
    std::uint64_t count = 0;
    while (::read(shared_->event_fd.get(), &count, sizeof count) > 0) {
    }
    std::vector<std::pair<std::uint64_t, std::optional<std::string>>> finished;
    {
        std::lock_guard lock(shared_->mutex);
        finished.swap(shared_->finished);
    }
    // `done` may submit further calls: take each out of `waiting_` before it runs.
    for (auto& [id, error] : finished) {
        auto found = waiting_.find(id);
        if (found == waiting_.end()) continue;  // overdue, already told
        Done done = std::move(found->second.done);
        waiting_.erase(found);
        done(error);
    }
    const auto now = Clock::now();
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (now < it->second.deadline) {
            ++it;
            continue;
        }
        Waiting overdue = std::move(it->second);
        it = waiting_.erase(it);
        overdue.done(fmt::format("{}: slurmctld did not answer within {:g} s", overdue.what,
                                 std::chrono::duration<double>(overdue.limit).count()));
    }
}

std::optional<Clock::time_point> SlurmCalls::next_deadline() const {
    std::optional<Clock::time_point> earliest;
    for (const auto& [id, waiting] : waiting_) {
        if (!earliest || waiting.deadline < *earliest) earliest = waiting.deadline;
    }
    return earliest;
}

}  // namespace spark_slurm
