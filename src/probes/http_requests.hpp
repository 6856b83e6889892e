// A small HTTP client that never blocks its caller: GETs through libcurl's multi interface, driven
// from the caller's own poll loop. The caller adds the requests' descriptors to its poll, sleeps no
// longer than poll_timeout() says, and calls perform() every turn; perform() does only the work
// that is ready and hands back the requests that finished. Each request is bounded in time
// (connecting included) and in the size of its answer, so a daemon that is slow, silent or
// talkative costs the leader's loop nothing but a descriptor. libcurl is loaded with dlopen on
// first use (see http_requests.cpp for why).
#pragma once

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spark_slurm {

struct HttpLimits {
    std::chrono::milliseconds timeout{3000};  // the whole request, connecting included
    std::size_t max_body = 4u << 20;          // a longer answer is refused, not read on
};

struct HttpAnswer {
    std::optional<std::string> body;  // a 200 answer's body
    std::string error;                // otherwise why: libcurl's reason, the status, the size
};

// Loads libcurl now (it is otherwise loaded by the first request); throws LaunchError, naming the
// package to install, when it cannot be loaded.
void load_http_client();

class HttpRequests {
  public:
    using Id = std::uint64_t;
    struct Completion {
        Id id;
        HttpAnswer answer;
    };

    HttpRequests();  // loads nothing yet: libcurl comes with the first start()
    ~HttpRequests();
    HttpRequests(const HttpRequests&) = delete;
    HttpRequests& operator=(const HttpRequests&) = delete;

    // Starts a GET with `headers` ("Name: value" each); its answer comes out of a later
    // perform(). Throws LaunchError when libcurl cannot be loaded or refuses the request.
    Id start(const std::string& url, const HttpLimits& limits = {},
             const std::vector<std::string>& headers = {});
    // Requests started and not yet handed back by perform().
    std::size_t in_flight() const;

    // The descriptors libcurl waits on, with the events it waits for.
    void add_poll_fds(std::vector<pollfd>& fds) const;
    // `longest`, or less when libcurl's own timer (a timeout, a retry) is due sooner.
    std::chrono::milliseconds poll_timeout(std::chrono::milliseconds longest) const;
    // Reads and writes what is ready, never waiting; returns the requests that finished.
    std::vector<Completion> perform();

  private:
    struct State;
    std::unique_ptr<State> state_;
};

// The blocking form, for callers outside an event loop (status, history): the same client, its
// own poll loop, bounded by limits.timeout.
HttpAnswer http_fetch(const std::string& url, const HttpLimits& limits = {},
                      const std::vector<std::string>& headers = {});

}  // namespace spark_slurm
