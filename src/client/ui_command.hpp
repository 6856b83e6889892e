// `spark-slurm ui`: the login links of a running cluster's web UIs (issue 28), for its owner. Every
// UI of the job (Spark's master, workers and applications, HDFS's namenode and datanodes) wants
// the job's UI token (src/ui_login); the link carries it once, the page exchanges it for a cookie
// and drops it from the address. Prints the ssh tunnels first, as `status` does.
#pragma once

#include <string>

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

int ui_command(const Options& options);

}  // namespace spark_slurm
