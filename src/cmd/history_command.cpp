#include "cmd/history_command.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/private_files.hpp"
#include "common/random.hpp"
#include "common/ui_login.hpp"
#include "common/user_account.hpp"
#include "history/event_logs.hpp"
#include "job/node_setup.hpp"
#include "network/network.hpp"
#include "plan/plan.hpp"
#include "probes/probes.hpp"
#include "runtime/runtime.hpp"
#include "supervisor/process.hpp"
#include "supervisor/signals.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A JVM on a busy login node may take a while; the server answers long before this.
constexpr auto kStartTimeout = std::chrono::seconds(180);
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr auto kFarmRefresh = std::chrono::seconds(5);

std::uint16_t choose_port(const Options& options) {
    if (options.port) {
        if (try_bind_tcp(*options.port, BindScope::Loopback, ReuseAddress::No) == 0) {
            throw UsageError(fmt::format(
                "spark-slurm history: --port {} is in use on this machine; pick another, or "
                "leave --port out for a free one",
                *options.port));
        }
        return *options.port;
    }
    std::uint16_t port = try_bind_tcp(0, BindScope::Loopback, ReuseAddress::No);
    if (port == 0) throw LaunchError("while looking for a free port on 127.0.0.1: bind failed");
    return port;
}

// The name users ssh to: the canonical name of this host (hostname -f), else its short name.
std::string ssh_host_name() {
    const std::string name = this_hostname();
    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    addrinfo* raw = nullptr;
    std::string canonical = name;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &raw) == 0) {
        if (raw && raw->ai_canonname && *raw->ai_canonname) canonical = raw->ai_canonname;
        ::freeaddrinfo(raw);
    }
    return canonical;
}

// A new 0700 directory under $TMPDIR (else /tmp) for everything the server needs.
std::string make_private_temp_dir(const Environment& variables) {
    auto tmpdir = variables.find("TMPDIR");
    std::string base =
        tmpdir != variables.end() && !tmpdir->second.empty() ? tmpdir->second : "/tmp";
    std::string pattern = base + "/spark-slurm-history.XXXXXX";
    if (!::mkdtemp(pattern.data())) {
        throw LaunchError("while creating a private directory in " + base + ": " +
                          std::strerror(errno) + "; set TMPDIR to a writable directory");
    }
    return pattern;
}

// The host install unless there is none and an image is given (then the image's Spark).
RuntimeSettings history_runtime(const Options& options, const Environment& variables) {
    Options chosen = options;
    chosen.hdfs = false;
    if (chosen.runtime == RuntimeChoice::Auto) {
        const bool image = options.image || options.spark_image;
        auto spark_home = variables.find("SPARK_HOME");
        const bool host_spark =
            options.spark_home || (spark_home != variables.end() && !spark_home->second.empty());
        if (!image || host_spark) {
            chosen.runtime = RuntimeChoice::None;
            chosen.image.reset();
            chosen.spark_image.reset();
        }
    }
    try {
        return resolve_runtime(chosen, variables);
    } catch (const UsageError& error) {
        // resolve_runtime speaks for `run`; the same problem, said for this command.
        std::string message = error.what();
        const std::string run = "spark-slurm run: ";
        if (message.rfind(run, 0) == 0)
            message = "spark-slurm history: " + message.substr(run.size());
        throw UsageError(message);
    }
}

void print_warnings(const std::vector<std::string>& warnings, std::set<std::string>& printed) {
    for (const auto& warning : warnings)
        if (printed.insert(warning).second) log::warn("{}", warning);
}

class HistoryServer {
  public:
    HistoryServer(const Options& options, const RuntimeSettings& settings,
                  const Environment& variables, std::vector<EventLogSource> sources)
        : sources_(std::move(sources)),
          dir_(make_private_temp_dir(variables)),
          work_dir_(dir_),
          port_(choose_port(options)),
          ui_token_(random_hex(32)) {
        for (const char* sub : {"conf", "tmp"}) fs::create_directory(fs::path(dir_) / sub);
        if (sources_.size() == 1) {
            log_directory_ = sources_.front().dir;
        } else {
            log_directory_ = dir_ + "/event-logs";
            fs::create_directory(log_directory_);
            refresh_links();
        }
        const std::string conf = dir_ + "/conf/history-server.conf";
        // A login token of this server's own, for its owner alone (common/ui_login.hpp). In a
        // temporary directory that goes with the server: nothing to fsync.
        const std::string token_file = dir_ + "/ui-token";
        write_private_file(token_file, ui_token_, 0600, Durability::Scratch);
        write_private_file(conf, history_server_properties(log_directory_, port_, token_file), 0600,
                           Durability::Scratch);
        write_private_file(dir_ + "/conf/spark-env.sh", ui_login_spark_env(), 0600,
                           Durability::Scratch);

        Invocation invocation;
        invocation.install = Install::Spark;
        invocation.tool = "spark-class";
        invocation.args = {"org.apache.spark.deploy.history.HistoryServer", "--properties-file",
                           conf};
        const std::string tmp = dir_ + "/tmp";
        invocation.environment = {
            // Spark's web UIs bind the address in SPARK_LOCAL_IP: loopback only.
            {"SPARK_LOCAL_IP", "127.0.0.1"},
            {"SPARK_CONF_DIR", dir_ + "/conf"},
            {"SPARK_NO_DAEMONIZE", "1"},
            {"SPARK_DAEMON_JAVA_OPTS", "-XX:-UsePerfData -Djava.io.tmpdir=" + tmp},
            {"SPARK_LAUNCHER_OPTS", "-XX:-UsePerfData"},
            {"TMPDIR", tmp},
            {kUiJarsVariable, ui_login_jars_dir()},
        };
        invocation.binds = {dir_, ui_login_jars_dir()};
        for (const auto& source : sources_) invocation.binds.push_back(source.dir);
        invocation.working_dir = dir_;

        Execution execution = make_runtime(settings)->prepare(invocation);
        SpawnRequest request;
        request.argv = execution.argv;
        request.environment = execution.environment;
        request.working_dir = execution.working_dir;
        request.output_file = log_file();
        process_.emplace(Process::spawn(request, "spark history server"));
    }

    std::uint16_t port() const { return port_; }
    std::string url() const { return fmt::format("http://127.0.0.1:{}/", port_); }
    std::string login_link() const {
        return ui_login_url(fmt::format("http://localhost:{}", port_), ui_token_);
    }
    std::string log_file() const { return dir_ + "/history-server.log"; }
    bool several() const { return sources_.size() > 1; }

    // Throws LaunchError, with the end of the server's log, once it has exited.
    void check_alive() {
        reap_children();
        if (!process_->exited()) return;
        throw LaunchError(fmt::format(
            "the Spark history server stopped ({}); the end of its log:\n{}",
            describe_wait_status(*process_->exit_status()), tail_of_file(log_file(), 20)));
    }

    bool answers() const {
        return http_get(url() + "api/v1/applications", std::chrono::seconds(3), ui_token_)
            .has_value();
    }

    void refresh_links() {
        if (several()) print_warnings(link_event_logs(sources_, log_directory_), warned_);
    }

    void stop() { process_->stop(kStopGrace); }

  private:
    std::vector<EventLogSource> sources_;
    std::string dir_;
    WorkDirectory work_dir_;  // removes dir_ last, after the server has stopped
    std::uint16_t port_;
    std::string ui_token_;
    std::string log_directory_;
    std::set<std::string> warned_;
    std::optional<Process> process_;
};

// Waits up to `timeout` for a signal on `signals`; returns it, or 0.
int wait_for_signal(SignalFd& signals, std::chrono::milliseconds timeout) {
    pollfd entry{signals.fd(), POLLIN, 0};
    ::poll(&entry, 1, static_cast<int>(timeout.count()));
    return signals.read_signal();
}

bool stops(int signal) { return signal == SIGINT || signal == SIGTERM || signal == SIGHUP; }

std::string describe_sources(const std::vector<EventLogSource>& sources) {
    std::string text;
    for (const auto& source : sources) text += fmt::format("\n  {}: {}", source.what, source.dir);
    return text;
}

}  // namespace

std::string ssh_tunnel_line(const std::string& host, std::uint16_t port) {
    return fmt::format("ssh -N -L {}:localhost:{} {}", port, port, host);
}

int history_command(const Options& options, const JobEnvironment& environment) {
    const Environment& variables = environment.variables;
    std::error_code error;
    const std::string current_dir = fs::current_path(error).string();
    auto sources = find_event_logs(options.history_jobs, options.job_dir,
                                   history_records_dir(user_account().home), current_dir);
    const RuntimeSettings settings = history_runtime(options, variables);
    load_http_client();
    become_supervisor();
    SignalFd signals;

    HistoryServer server(options, settings, variables, sources);
    log::info("starting Spark's history server over the event logs of{}",
              describe_sources(sources));
    const auto deadline = Clock::now() + kStartTimeout;
    while (!server.answers()) {
        server.check_alive();
        if (Clock::now() > deadline) {
            throw LaunchError(fmt::format(
                "the Spark history server did not answer on {} within {} s; the end of its "
                "log:\n{}",
                server.url(), kStartTimeout.count(), tail_of_file(server.log_file(), 20)));
        }
        if (stops(wait_for_signal(signals, std::chrono::milliseconds(250)))) {
            server.stop();
            return 0;
        }
    }
    std::cout << fmt::format(
                     "Spark history server: {}\n"
                     "From your own machine: {}\n"
                     "  then open {} there (it logs your browser in; the server answers\n"
                     "  nobody else). Ctrl-C stops the server.\n",
                     server.url(), ssh_tunnel_line(ssh_host_name(), server.port()),
                     server.login_link())
              << std::flush;

    auto next_refresh = Clock::now() + kFarmRefresh;
    while (true) {
        int signal = wait_for_signal(signals, std::chrono::milliseconds(1000));
        if (stops(signal)) break;
        server.check_alive();
        if (Clock::now() >= next_refresh) {
            server.refresh_links();
            next_refresh = Clock::now() + kFarmRefresh;
        }
    }
    log::info("stopping the history server");
    server.stop();
    return 0;
}

}  // namespace spark_slurm
