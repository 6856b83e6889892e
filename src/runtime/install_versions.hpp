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
// /x/spark.sif" or "SPARK_HOME /opt/spark") and what is supported.
std::string spark_version_problem(const ReleaseVersion& version, const std::string& where);
std::string hadoop_version_problem(const ReleaseVersion& version, const std::string& where);

// One install judged from its jars, for the leader and `doctor` alike. A version that cannot be
// read is not refused: it gives a warning, since a repackaged install may rename its jars.
struct InstallVersionCheck {
    std::optional<ReleaseVersion> version;
    std::string problem;  // the version is not supported: refuse
    std::string warning;  // the version cannot be read
};
// `fallback`: a version read another way (Spark's RELEASE file), used when no jar names one.
InstallVersionCheck check_spark_install(const std::vector<std::string>& jar_names,
                                        const std::string& where,
                                        const std::optional<ReleaseVersion>& fallback = {});
InstallVersionCheck check_hadoop_install(const std::vector<std::string>& jar_names,
                                         const std::string& where);

// Whether the Hadoop jars hold Apache Kerby's KDC (kerb-simplekdc-*.jar), which the job's KDC
// of --hdfs-auth kerberos runs on.
bool has_kerby_kdc(const std::vector<std::string>& hadoop_jar_names);
// "" when they do; else the problem, naming `where` and the fix.
std::string kerby_kdc_problem(const std::vector<std::string>& hadoop_jar_names,
                              const std::string& where);

// Spark Connect (the server `up` starts by default) ships with Spark 4.0 and later.
bool has_spark_connect(const ReleaseVersion& spark);

}  // namespace spark_slurm
