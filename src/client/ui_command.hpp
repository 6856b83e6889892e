// `spark-slurm ui`: the login links of a running cluster's web UIs (issue 28), for its owner. Every
// UI of the job (Spark's master, workers and applications, HDFS's namenode and datanodes) wants
// the job's UI token (src/ui_login); the link carries it once, the page exchanges it for a cookie
// and drops it from the address. Prints the ssh tunnels first, as `status` does. With --browser
// it also opens the master's UI in a browser here, through a private login page.
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_record.hpp"
#include "options/options.hpp"

namespace spark_slurm {

// The text `ui` prints (pure, for the unit tests): the tunnels from `login_host`, then one login
// link per UI the record names, then how a script sends the token.
std::string format_ui_text(const ClusterRecord& record, const std::string& ui_token,
                           const std::string& login_host);

// "http://localhost:8080/?spark-slurm-login=TOKEN" for the UI at `webui_url` reached through its
// tunnel (the same port on the laptop's localhost); "" when the URL names no port.
std::string ui_login_link(const std::string& webui_url, const std::string& ui_token);

// The login page `ui --browser` hands the browser: it carries the token to `login_link` without
// putting it on a command line, keeping it out of the address bar's history (location.replace).
std::string ui_login_page(const std::string& login_link);

// The browser command from $BROWSER's first entry (":"-separated, the convention): its words,
// with "%s" replaced by `url` or `url` appended; xdg-open `url` when BROWSER is unset or empty.
std::vector<std::string> browser_argv(const std::string& browser_variable, const std::string& url);

// `environment`: the process's, for BROWSER and PATH (--browser).
int ui_command(const Options& options, const Environment& environment);

}  // namespace spark_slurm
