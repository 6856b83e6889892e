// The names the launcher shares with the web UIs' login filter (src/ui_login, Java): every Spark
// UI gets it through spark.ui.filters, HDFS's through hadoop.http.filter.initializers; both read
// the job's UI token from a 0600 file (plan.hpp: ui_token_file). Its jars are in the launcher's
// install, share/spark-slurm/ui; Spark's and Hadoop's scripts learn where from kUiJarsVariable.
#pragma once

#include <string>

namespace spark_slurm {

inline constexpr const char* kSparkUiFilter = "spark_slurm.ui.UiLoginFilter";
inline constexpr const char* kHadoopUiFilterInitializer =
    "spark_slurm.ui.HadoopUiFilterInitializer";
inline constexpr const char* kUiJarsVariable = "SPARK_SLURM_UI_JARS";
// The login link's query parameter, and the header a program sends the token in.
inline constexpr const char* kUiLoginParameter = "spark-slurm-login";
inline constexpr const char* kUiTokenHeader = "X-Spark-Slurm-Token";
// Where Spark's web UIs (master, workers, applications, a login-node driver's) listen: the
// machine's loopback, so that other hosts cannot read them (issue 13), behind the filter for
// the machine's other users (issue 28). Reached through an ssh tunnel.
inline constexpr const char* kWebUiAddress = "127.0.0.1";

// The login link of the UI at `base` ("http://host:port", no trailing slash): its root page
// with the token as kUiLoginParameter.
std::string ui_login_url(const std::string& base, const std::string& ui_token);

// This machine's install of the jars: share/spark-slurm/ui next to the running launcher.
std::string ui_login_jars_dir();
// The javax one, which Hadoop 3's daemons run.
std::string ui_login_hadoop_jar();

}  // namespace spark_slurm
