// `spark-slurm ui`: see ui_command.hpp.
#include "client/ui_command.hpp"

#include <fmt/format.h>
#include <spawn.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>

#include "allocation/allocation.hpp"
#include "client/cluster_lookup.hpp"
#include "client/status_command.hpp"
#include "cluster/ssh_tunnels.hpp"
#include "common/errors.hpp"
#include "common/executables.hpp"
#include "common/markup.hpp"
#include "common/private_files.hpp"
#include "common/ui_login.hpp"
#include "network/network.hpp"

extern char** environ;

namespace spark_slurm {

namespace {

// Starts the browser and leaves it running (it is the user's from now on); the exec's failure
// comes back from posix_spawn.
std::string open_in_browser(const std::string& url, const Environment& environment) {
    std::vector<std::string> words = browser_argv(environment_value(environment, "BROWSER"), url);
    const std::string program = find_on_path(words.front(), environment);
    if (program.empty()) {
        throw LaunchError(fmt::format(
            "--browser: '{}' is not on PATH{}; set BROWSER to your browser (e.g. "
            "BROWSER=firefox), or open the link above yourself",
            words.front(),
            environment_value(environment, "BROWSER").empty() ? " and BROWSER is not set" : ""));
    }
    std::vector<char*> argv;
    for (auto& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (int error = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ)) {
        throw LaunchError(
            fmt::format("--browser: cannot start {}: {}", program, std::strerror(error)));
    }
    return program;
}

}  // namespace

std::string ui_login_page(const std::string& login_link) {
    const std::string target = markup_escaped(login_link);
    return fmt::format(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        "<meta http-equiv=\"refresh\" content=\"0;url={0}\">\n"
        "<title>spark-slurm: logging in</title></head>\n"
        "<body><a href=\"{0}\">Log in to the job's web UIs</a>\n"
        "<script>location.replace(document.querySelector(\"a\").href)</script>\n"
        "</body></html>\n",
        target);
}

std::vector<std::string> browser_argv(const std::string& browser_variable, const std::string& url) {
    std::string first = browser_variable.substr(0, browser_variable.find(':'));
    std::vector<std::string> words;
    std::istringstream split(first);
    bool placed = false;
    for (std::string word; split >> word;) {
        if (word == "%s") {
            word = url;
            placed = true;
        }
        words.push_back(word);
    }
    if (words.empty()) words.push_back("xdg-open");
    if (!placed) words.push_back(url);
    return words;
}

std::string ui_login_link(const std::string& webui_url, const std::string& ui_token) {
    const std::string port = port_of(webui_url);
    if (port.empty()) return "";
    const std::string scheme = webui_url.starts_with("https://") ? "https" : "http";
    return ui_login_url(fmt::format("{}://localhost:{}", scheme, port), ui_token);
}

std::string format_ui_text(const ClusterRecord& record, const std::string& ui_token,
                           const std::string& login_host) {
    std::string text = fmt::format(
        "The web UIs of job {} answer you alone: open a link below once per browser (it logs\n"
        "the browser in with a cookie and drops the token from the address).\n\n",
        record.job_id);
    const auto tunnels = tunnel_lines(record, login_host);
    if (!tunnels.empty()) {
        text += "From your machine, the tunnels first:\n";
        for (const auto& line : tunnels) text += "  " + line + "\n";
        text += "\n";
    }
    text += "Then open:\n";
    auto link = [&](const char* what, const std::string& url) {
        if (const std::string login = ui_login_link(url, ui_token); !login.empty())
            text += fmt::format("  {:<18}{}\n", what, login);
    };
    link("Spark master UI", record.master_webui_url);
    if (!record.hdfs_url.empty()) link("HDFS namenode UI", record.namenode_webui_url);
    text +=
        on_loopback(record.master_webui_url)
            ? "\nThe master's page links to the workers' and applications' UIs (with\n"
              "--wire-encryption on each on its node's loopback, through a tunnel of its own),\n"
              "which want the same login."
            : "\nThe master's page is the door to every worker's and application's UI (its\n"
              "/proxy/ pages): one tunnel, one login.";
    text += fmt::format(" Programs send the token as a header instead: \"{}: TOKEN\".\n",
                        kUiTokenHeader);
    return text;
}

int ui_command(const Options& options, const Environment& environment) {
    SlurmLibrary slurm;
    RunningCluster cluster = find_cluster(slurm, options.job_id);
    const std::string record_dir = record_directory(cluster.record.job_id);
    auto token = read_ui_token(record_dir);
    if (!token) {
        throw LaunchError(fmt::format(
            "job {} has no web UI token in {}/ui-token: it was started by a spark-slurm without "
            "the UI login; restart the cluster with this one",
            cluster.record.job_id, record_dir));
    }
    std::cout << format_ui_text(cluster.record, *token, canonical_hostname()) << std::flush;
    if (options.browser) {
        // A page in the owner's 0700 record, gone with it: the browser's command line shows
        // its path, not the token.
        const std::string page = record_dir + "/ui-login.html";
        // The master's own address: the browser is where that is reachable (the login node,
        // a node of the job), not at a tunnel's end.
        write_private_file(page,
                           ui_login_page(ui_login_url(cluster.record.master_webui_url, *token)));
        const std::string browser = open_in_browser("file://" + page, environment);
        std::cout << "\nOpening the Spark master's UI with " << browser << "\n" << std::flush;
    }
    return 0;
}

}  // namespace spark_slurm
