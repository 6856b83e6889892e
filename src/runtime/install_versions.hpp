// Which Spark and Hadoop an install or an image holds, and whether spark-slurm runs them. The
// versions are read from the names of the jars (spark-core_2.13-4.0.5.jar,
// hadoop-common-3.4.1.jar): the one fact Apache's tarballs, the pyspark package, the official
// Docker images and our own images all share. Pure: the caller lists the jars.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spark_slurm {

struct ReleaseVersion {
    int major = 0;
    int minor = 0;
    int patch = 0;
    std::string text;  // as found: "3.5.9", "4.1.0-preview2"
    bool operator==(const ReleaseVersion&) const = default;
};

// "3.5.9", "4.0.0-preview2" -> the version; nullopt when it does not start with N.N.
std::optional<ReleaseVersion> parse_release_version(std::string_view text);

// From the names of the jars in SPARK_HOME/jars (spark-core_SCALA-VERSION.jar).
std::optional<ReleaseVersion> spark_version_in(const std::vector<std::string>& jar_names);
// From the names of the jars under HADOOP_HOME/share (hadoop-common-VERSION.jar).
std::optional<ReleaseVersion> hadoop_version_in(const std::vector<std::string>& jar_names);

// What spark-slurm runs, for messages: "Spark 3.5.2 or later 3.5, and 4.0 to 4.3 (tested: ...)".
std::string supported_spark_versions();
std::string supported_hadoop_versions();

// "" when the version is supported; else the problem, naming `where` (e.g. "the image
// /x/spark.sif" or "SPARK_HOME /opt/spark") and what is supported. A version that cannot be
// read is not refused here: the caller warns.
std::string spark_version_problem(const ReleaseVersion& version, const std::string& where);
std::string hadoop_version_problem(const ReleaseVersion& version, const std::string& where);

// Spark Connect (the server `up` starts by default) ships with Spark 4.0 and later.
bool has_spark_connect(const ReleaseVersion& spark);

}  // namespace spark_slurm
