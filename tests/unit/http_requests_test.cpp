// The leader's HTTP client without blocking (HttpRequests) against a real server on 127.0.0.1:
// a slow answer leaves the caller's loop turning, a silent server is given up at the request's
// timeout, and an answer over the size cap is refused.
#include "probes/http_requests.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "local_http_server.hpp"

namespace spark_slurm {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using spark_slurm::testing::http_ok;
using spark_slurm::testing::LocalHttpServer;
using ::testing::HasSubstr;

// The caller's loop as the leader runs it: poll (at most `turn` long) with the requests' fds,
// then perform. Stops at the first answer or at `limit`.
struct LoopResult {
    std::optional<HttpAnswer> answer;
    unsigned turns = 0;
    Clock::duration longest_turn{};
    Clock::duration elapsed{};
};

LoopResult run_loop(HttpRequests& requests, std::chrono::milliseconds turn,
                    std::chrono::seconds limit = 10s) {
    LoopResult result;
    const auto started = Clock::now();
    while (Clock::now() - started < limit) {
        const auto turn_started = Clock::now();
        std::vector<pollfd> fds;
        requests.add_poll_fds(fds);
        ::poll(fds.data(), fds.size(), static_cast<int>(requests.poll_timeout(turn).count()));
        auto finished = requests.perform();
        ++result.turns;
        result.longest_turn = std::max(result.longest_turn, Clock::now() - turn_started);
        if (!finished.empty()) {
            result.answer = std::move(finished.front().answer);
            break;
        }
    }
    result.elapsed = Clock::now() - started;
    return result;
}

TEST(HttpRequests, AnswerArrives) {
    LocalHttpServer server([](const std::string& target) {
        return http_ok(target == "/json/" ? "{\"status\":\"ALIVE\"}" : "?");
    });
    HttpRequests requests;
    const auto id = requests.start(server.url() + "/json/");
    EXPECT_EQ(requests.in_flight(), 1u);
    // The completion is the request that was started, and it is handed back once.
    const auto started = Clock::now();
    std::vector<HttpRequests::Completion> finished;
    while (finished.empty() && Clock::now() - started < 5s) {
        std::vector<pollfd> fds;
        requests.add_poll_fds(fds);
        ::poll(fds.data(), fds.size(), static_cast<int>(requests.poll_timeout(100ms).count()));
        finished = requests.perform();
    }
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0].id, id);
    EXPECT_EQ(finished[0].answer.body, "{\"status\":\"ALIVE\"}");
    EXPECT_EQ(requests.in_flight(), 0u);
    EXPECT_TRUE(requests.perform().empty());
}

// The server answers after 2 s; meanwhile the loop turns at its own pace (50 ms), as the leader's
// must to keep its heartbeats going.
TEST(HttpRequests, SlowServerDoesNotBlockTheLoop) {
    LocalHttpServer server([](const std::string&) { return http_ok("late"); }, 2s);
    HttpRequests requests;
    requests.start(server.url() + "/json/", {.timeout = 5s});
    const LoopResult result = run_loop(requests, 50ms);
    ASSERT_TRUE(result.answer);
    EXPECT_EQ(result.answer->body, "late") << result.answer->error;
    EXPECT_GE(result.elapsed, 1900ms);
    EXPECT_GE(result.turns, 20u);  // 2 s of 50 ms turns is 40
    EXPECT_LT(result.longest_turn, 500ms);
}

TEST(HttpRequests, SilentServerIsGivenUpAtTheTimeout) {
    LocalHttpServer server([](const std::string&) { return std::nullopt; });
    HttpRequests requests;
    requests.start(server.url() + "/json/", {.timeout = 700ms});
    const LoopResult result = run_loop(requests, 50ms);
    ASSERT_TRUE(result.answer);
    EXPECT_FALSE(result.answer->body);
    EXPECT_THAT(result.answer->error, HasSubstr("Timeout"));
    EXPECT_GE(result.elapsed, 600ms);
    EXPECT_LT(result.elapsed, 3s);
    EXPECT_GE(result.turns, 5u);
}

TEST(HttpRequests, NothingListeningSaysWhy) {
    HttpRequests requests;
    requests.start("http://127.0.0.1:1/json/");
    const LoopResult result = run_loop(requests, 50ms);
    ASSERT_TRUE(result.answer);
    EXPECT_FALSE(result.answer->body);
    EXPECT_THAT(result.answer->error, HasSubstr("connect"));
}

TEST(HttpRequests, NotOkIsNoBody) {
    LocalHttpServer server([](const std::string&) {
        return std::string("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    });
    const HttpAnswer answer = http_fetch(server.url() + "/json/");
    EXPECT_FALSE(answer.body);
    EXPECT_EQ(answer.error, "HTTP status 503");
}

// Announced (Content-Length) or not (the server just sends and closes), an answer over the cap is
// refused rather than held.
TEST(HttpRequests, OversizedAnswerIsRefused) {
    const std::string big(64 * 1024, 'x');
    for (bool announced : {true, false}) {
        LocalHttpServer server([&](const std::string&) {
            return announced ? http_ok(big) : "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big;
        });
        const HttpAnswer answer = http_fetch(server.url() + "/json/", {.max_body = 1024});
        EXPECT_FALSE(answer.body) << "announced " << announced;
        EXPECT_THAT(answer.error, HasSubstr("1024 bytes")) << "announced " << announced;
        // Under the cap it is read whole.
        EXPECT_EQ(http_fetch(server.url() + "/json/", {.max_body = big.size()}).body, big);
    }
}

TEST(HttpRequests, ManyInFlightAtOnce) {
    LocalHttpServer fast([](const std::string& target) { return http_ok(target); });
    LocalHttpServer silent([](const std::string&) { return std::nullopt; });
    HttpRequests requests;
    requests.start(silent.url() + "/never", {.timeout = 2s});
    requests.start(fast.url() + "/a");
    const LoopResult result = run_loop(requests, 50ms);
    ASSERT_TRUE(result.answer);
    EXPECT_EQ(result.answer->body, "/a");
    EXPECT_LT(result.elapsed, 1s);
    EXPECT_EQ(requests.in_flight(), 1u);
}

}  // namespace
}  // namespace spark_slurm
