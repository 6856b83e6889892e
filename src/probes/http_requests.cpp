// libcurl's multi interface behind HttpRequests: libcurl tells which sockets it waits on (its
// socket callback) and when it next needs to be called (its timer callback); perform() then lets
// it act on each socket and on its timer, and collects the transfers that finished.
#include "probes/http_requests.hpp"

#include <curl/curl.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/errors.hpp"

namespace spark_slurm {

namespace {

using Clock = std::chrono::steady_clock;

// libcurl is loaded on first use instead of being linked. Only the leader probes, and only after
// the MPI rendezvous has finalized; linked, libcurl and its TLS, Kerberos and LDAP dependencies
// (5.5 MiB of mapped pages) sat in every rank's memory from exec on, and were the largest part of
// the launcher's peak RSS (reached during MPI_Init). See benchmarks/README.md.
class LibCurl {
  public:
    static const LibCurl& instance() {
        static const LibCurl library;
        return library;
    }
    LibCurl(const LibCurl&) = delete;
    LibCurl& operator=(const LibCurl&) = delete;
    ~LibCurl() {
        global_cleanup();
        // Not dlclose()d: libcurl's TLS libraries register atexit handlers of their own.
    }

    decltype(&curl_global_init) global_init = nullptr;
    decltype(&curl_global_cleanup) global_cleanup = nullptr;
    decltype(&curl_easy_init) easy_init = nullptr;
    decltype(&curl_easy_setopt) easy_setopt = nullptr;
    decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
    decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
    decltype(&curl_easy_strerror) easy_strerror = nullptr;
    decltype(&curl_multi_init) multi_init = nullptr;
    decltype(&curl_multi_cleanup) multi_cleanup = nullptr;
    decltype(&curl_multi_setopt) multi_setopt = nullptr;
    decltype(&curl_multi_add_handle) multi_add_handle = nullptr;
    decltype(&curl_multi_remove_handle) multi_remove_handle = nullptr;
    decltype(&curl_multi_socket_action) multi_socket_action = nullptr;
    decltype(&curl_multi_info_read) multi_info_read = nullptr;
    decltype(&curl_multi_strerror) multi_strerror = nullptr;
    decltype(&curl_slist_append) slist_append = nullptr;
    decltype(&curl_slist_free_all) slist_free_all = nullptr;

  private:
    static constexpr const char* kSoname = "libcurl.so.4";

    LibCurl() {
        handle_ = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
        if (!handle_) fail(dlerror());
        bind(global_init, "curl_global_init");
        bind(global_cleanup, "curl_global_cleanup");
        bind(easy_init, "curl_easy_init");
        bind(easy_setopt, "curl_easy_setopt");
        bind(easy_getinfo, "curl_easy_getinfo");
        bind(easy_cleanup, "curl_easy_cleanup");
        bind(easy_strerror, "curl_easy_strerror");
        bind(multi_init, "curl_multi_init");
        bind(multi_cleanup, "curl_multi_cleanup");
        bind(multi_setopt, "curl_multi_setopt");
        bind(multi_add_handle, "curl_multi_add_handle");
        bind(multi_remove_handle, "curl_multi_remove_handle");
        bind(multi_socket_action, "curl_multi_socket_action");
        bind(multi_info_read, "curl_multi_info_read");
        bind(multi_strerror, "curl_multi_strerror");
        bind(slist_append, "curl_slist_append");
        bind(slist_free_all, "curl_slist_free_all");
        if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) fail("curl_global_init failed");
    }

    template <typename Function>
    void bind(Function& function, const char* name) {
        function = reinterpret_cast<Function>(dlsym(handle_, name));
        if (!function) fail(dlerror());
    }

    [[noreturn]] static void fail(const char* why) {
        throw LaunchError(fmt::format(
            "spark-slurm: cannot load {} ({}); the launcher probes the daemons' HTTP endpoints "
            "with it: install libcurl (Debian/Ubuntu: libcurl4, RHEL: libcurl)",
            kSoname, why ? why : "unknown error"));
    }

    void* handle_ = nullptr;
};

struct MultiCleanup {
    void operator()(CURLM* multi) const { LibCurl::instance().multi_cleanup(multi); }
};
struct EasyCleanup {
    void operator()(CURL* easy) const { LibCurl::instance().easy_cleanup(easy); }
};
struct SlistCleanup {
    void operator()(curl_slist* list) const { LibCurl::instance().slist_free_all(list); }
};

// One GET: its easy handle, attached to the multi handle for as long as the transfer lives, and
// the answer read so far.
struct Transfer {
    Transfer(HttpRequests::Id id, std::size_t max_body) : id(id), max_body(max_body) {}
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;
    ~Transfer() {
        if (attached_to) LibCurl::instance().multi_remove_handle(attached_to, easy.get());
    }

    HttpRequests::Id id;
    std::size_t max_body;
    std::unique_ptr<CURL, EasyCleanup> easy;
    std::unique_ptr<curl_slist, SlistCleanup> headers;  // outlives the transfer: libcurl reads it
    CURLM* attached_to = nullptr;
    std::string body;
    bool oversized = false;
    char error_detail[CURL_ERROR_SIZE] = {};
};

// Past the cap the transfer is refused (libcurl ends it with a write error): a daemon, or
// whatever holds its port, cannot make the leader hold an answer of any size.
std::size_t append_bounded(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    if (transfer.body.size() + bytes > transfer.max_body) {
        transfer.oversized = true;
        return 0;
    }
    transfer.body.append(data, bytes);
    return bytes;
}

}  // namespace

void load_http_client() { LibCurl::instance(); }

struct HttpRequests::State {
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    // In this order, while the maps are still there: detaching a transfer, and the multi handle's
    // end (its cached connections close), call back into on_socket and on_timer.
    ~State() {
        transfers.clear();
        multi.reset();
    }

    std::unique_ptr<CURLM, MultiCleanup> multi;
    std::map<Id, std::unique_ptr<Transfer>> transfers;
    std::map<curl_socket_t, short> sockets;  // what libcurl waits for on each
    std::optional<Clock::time_point> timer;  // when libcurl next wants to be called
    Id next_id = 1;

    static int on_socket(CURL*, curl_socket_t socket, int what, void* user, void*) {
        auto& state = *static_cast<State*>(user);
        if (what == CURL_POLL_REMOVE) {
            state.sockets.erase(socket);
            return 0;
        }
        short events = 0;
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= POLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= POLLOUT;
        state.sockets[socket] = events;
        return 0;
    }

    static int on_timer(CURLM*, long timeout_ms, void* user) {
        auto& state = *static_cast<State*>(user);
        if (timeout_ms < 0) {
            state.timer.reset();
        } else {
            state.timer = Clock::now() + std::chrono::milliseconds(timeout_ms);
        }
        return 0;
    }

    void act(curl_socket_t socket) {
        const LibCurl& curl = LibCurl::instance();
        int running = 0;
        // A mask of 0: libcurl checks the socket itself, so callers need not pass poll's result.
        CURLMcode code = curl.multi_socket_action(multi.get(), socket, 0, &running);
        if (code != CURLM_OK) {
            throw LaunchError(fmt::format("libcurl failed to drive the HTTP probes: {}",
                                          curl.multi_strerror(code)));
        }
    }

    HttpAnswer answer_of(Transfer& transfer, CURLcode result) const {
        const LibCurl& curl = LibCurl::instance();
        HttpAnswer answer;
        if (transfer.oversized || result == CURLE_FILESIZE_EXCEEDED) {
            answer.error = fmt::format("the answer was longer than {} bytes", transfer.max_body);
        } else if (result != CURLE_OK) {
            answer.error = curl.easy_strerror(result);
            if (transfer.error_detail[0])
                answer.error += fmt::format(" ({})", transfer.error_detail);
        } else {
            long status = 0;
            curl.easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &status);
            if (status == 200) {
                answer.body = std::move(transfer.body);
            } else {
                answer.error = fmt::format("HTTP status {}", status);
            }
        }
        return answer;
    }
};

HttpRequests::HttpRequests() : state_(std::make_unique<State>()) {}
HttpRequests::~HttpRequests() = default;

HttpRequests::Id HttpRequests::start(const std::string& url, const HttpLimits& limits,
                                     const std::vector<std::string>& headers) {
    const LibCurl& curl = LibCurl::instance();
    if (!state_->multi) {
        state_->multi.reset(curl.multi_init());
        if (!state_->multi) throw LaunchError("libcurl could not make a multi handle");
        curl.multi_setopt(state_->multi.get(), CURLMOPT_SOCKETFUNCTION, &State::on_socket);
        curl.multi_setopt(state_->multi.get(), CURLMOPT_SOCKETDATA, state_.get());
        curl.multi_setopt(state_->multi.get(), CURLMOPT_TIMERFUNCTION, &State::on_timer);
        curl.multi_setopt(state_->multi.get(), CURLMOPT_TIMERDATA, state_.get());
    }
    const Id id = state_->next_id++;
    auto transfer = std::make_unique<Transfer>(id, limits.max_body);
    transfer->easy.reset(curl.easy_init());
    if (!transfer->easy) throw LaunchError("libcurl could not make an easy handle");
    CURL* easy = transfer->easy.get();
    const long total_ms = static_cast<long>(limits.timeout.count());
    curl.easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_bounded);
    curl.easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl.easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
    curl.easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_detail);
    // An announced length over the cap is refused before the body is read.
    curl.easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_body));
    curl.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, std::min(1000L, total_ms));
    curl.easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_ms);
    curl.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(easy, CURLOPT_NOPROXY, "*");
    for (const auto& header : headers) {
        // On success the list's head (a new one for the first header) owns the whole list.
        curl_slist* list = transfer->headers.release();
        curl_slist* longer = curl.slist_append(list, header.c_str());
        transfer->headers.reset(longer ? longer : list);
        if (!longer) throw LaunchError("libcurl could not add a header to a request to " + url);
    }
    if (transfer->headers) curl.easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
    CURLMcode code = curl.multi_add_handle(state_->multi.get(), easy);
    if (code != CURLM_OK) {
        throw LaunchError(
            fmt::format("libcurl refused a request to {}: {}", url, curl.multi_strerror(code)));
    }
    transfer->attached_to = state_->multi.get();
    state_->transfers.emplace(id, std::move(transfer));
    return id;
}

std::size_t HttpRequests::in_flight() const { return state_->transfers.size(); }

void HttpRequests::add_poll_fds(std::vector<pollfd>& fds) const {
    for (auto [socket, events] : state_->sockets) fds.push_back({socket, events, 0});
}

std::chrono::milliseconds HttpRequests::poll_timeout(std::chrono::milliseconds longest) const {
    if (!state_->timer) return longest;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*state_->timer - Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), longest);
}

std::vector<HttpRequests::Completion> HttpRequests::perform() {
    std::vector<Completion> finished;
    if (!state_->multi) return finished;
    if (state_->timer && Clock::now() >= *state_->timer) {
        state_->timer.reset();
        state_->act(CURL_SOCKET_TIMEOUT);
    }
    // A copy: acting on one socket may add or remove others.
    std::vector<curl_socket_t> sockets;
    for (const auto& entry : state_->sockets) sockets.push_back(entry.first);
    for (curl_socket_t socket : sockets) state_->act(socket);

    const LibCurl& curl = LibCurl::instance();
    int left = 0;
    while (CURLMsg* message = curl.multi_info_read(state_->multi.get(), &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        Transfer* transfer = nullptr;
        curl.easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
        // Read before the transfer goes: `message` belongs to libcurl until the next call.
        const CURLcode result = message->data.result;
        auto it = state_->transfers.find(transfer->id);
        finished.push_back({transfer->id, state_->answer_of(*transfer, result)});
        state_->transfers.erase(it);
    }
    return finished;
}

HttpAnswer http_fetch(const std::string& url, const HttpLimits& limits,
                      const std::vector<std::string>& headers) {
    HttpRequests requests;
    requests.start(url, limits, headers);
    for (;;) {
        std::vector<pollfd> fds;
        requests.add_poll_fds(fds);
        ::poll(fds.data(), fds.size(),
               static_cast<int>(requests.poll_timeout(std::chrono::seconds(1)).count()));
        for (auto& completion : requests.perform()) return std::move(completion.answer);
    }
}

}  // namespace spark_slurm
