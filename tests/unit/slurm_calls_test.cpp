// Calls to slurmctld off the leader's loop (allocation/slurm_calls.hpp), with calls that stand in
// for a stalled controller: a call that blocks does not block the loop, its caller hears "no
// answer within N s" at its deadline, and one left stuck at teardown does not hold the process.
// Real libslurm calls against a stopped slurmctld are exercised by the controller_stall
// integration test.
#include "allocation/slurm_calls.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <future>
#include <stdexcept>
#include <thread>

namespace spark_slurm {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Polls the calls' descriptor like the leader's loop, until `done` or `limit`; returns the count
// of loop turns (a loop that is blocked makes none).
int run_loop(SlurmCalls& calls, const std::function<bool()>& done,
             std::chrono::milliseconds limit) {
    int turns = 0;
    const auto deadline = Clock::now() + limit;
    while (!done() && Clock::now() < deadline) {
        pollfd fd{calls.fd(), POLLIN, 0};
        ::poll(&fd, 1, 10);
        calls.collect();
        ++turns;
    }
    return turns;
}

TEST(SlurmCalls, AnAnswerComesBackToTheLoopInOrder) {
    SlurmLibrary slurm;
    SlurmCalls calls(slurm);
    std::vector<int> order;
    auto value = std::make_shared<int>(0);
    calls.submit(
        "first", [value] { *value = 42; }, 5s,
        [&order, value](const std::optional<std::string>& error) {
            EXPECT_FALSE(error);
            EXPECT_EQ(*value, 42);
            order.push_back(1);
        });
    calls.submit(
        "second", [] { throw std::runtime_error("slurm said no"); }, 5s,
        [&order](const std::optional<std::string>& error) {
            ASSERT_TRUE(error);
            EXPECT_EQ(*error, "slurm said no");
            order.push_back(2);
        });
    EXPECT_EQ(calls.pending(), 2u);
    run_loop(
        calls, [&] { return order.size() == 2; }, 5s);
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_EQ(calls.pending(), 0u);
}

TEST(SlurmCalls, AStalledCallDoesNotBlockTheLoopAndIsToldAtItsDeadline) {
    SlurmLibrary slurm;
    std::promise<void> release;
    auto released = release.get_future().share();
    std::optional<std::string> outcome;
    bool told = false;
    const auto started = Clock::now();
    {
        SlurmCalls calls(slurm);
        calls.submit(
            "reading the job's time limit", [released] { released.wait(); }, 300ms,
            [&](const std::optional<std::string>& error) {
                outcome = error;
                told = true;
            });
        ASSERT_TRUE(calls.next_deadline());
        const int turns = run_loop(
            calls, [&] { return told; }, 5s);
        const auto waited = Clock::now() - started;
        ASSERT_TRUE(told);
        ASSERT_TRUE(outcome);
        EXPECT_EQ(*outcome, "reading the job's time limit: slurmctld did not answer within 0.3 s");
        EXPECT_GE(waited, 300ms);
        EXPECT_LT(waited, 2s);
        EXPECT_GT(turns, 10);  // the loop went on while the call hung
        // A call queued behind the stuck one waits its turn, and is told at its own deadline.
        bool second_told = false;
        calls.submit(
            "setting the comment", [] {}, 200ms,
            [&](const std::optional<std::string>& error) {
                EXPECT_TRUE(error);
                second_told = true;
            });
        run_loop(
            calls, [&] { return second_told; }, 5s);
        EXPECT_TRUE(second_told);
        // Teardown with the call still stuck: bounded, and the call is left behind.
    }
    EXPECT_LT(Clock::now() - started, 6s);
    release.set_value();  // the thread left behind finishes on its own
    std::this_thread::sleep_for(50ms);
}

}  // namespace
}  // namespace spark_slurm
