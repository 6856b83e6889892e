#include "runtime/install_versions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace spark_slurm {

namespace {

struct SupportedLine {
    int major;
    int minor;
    int first_patch;
};
// The minor releases the test matrix covers (the launcher_word_count_*_spark_* tests). Spark
// 3.5.2 is the first 3.5 with AES-GCM and auth engine v2 for --wire-encryption.
constexpr SupportedLine kSparkLines[] = {{3, 5, 2}, {4, 0, 0}, {4, 1, 0}, {4, 2, 0}, {4, 3, 0}};
constexpr SupportedLine kHadoopLines[] = {{3, 3, 0}, {3, 4, 0}};

bool supported(const ReleaseVersion& version, const auto& lines) {
    for (const auto& line : lines) {
        if (version.major == line.major && version.minor == line.minor &&
            version.patch >= line.first_patch)
            return true;
    }
    return false;
}

std::optional<ReleaseVersion> version_in(const std::vector<std::string>& jar_names,
                                         const std::regex& pattern) {
    std::smatch match;
    for (const auto& name : jar_names) {
        if (!std::regex_match(name, match, pattern)) continue;
        if (auto version = parse_release_version(match[1].str())) return version;
    }
    return std::nullopt;
}

}  // namespace

std::optional<ReleaseVersion> parse_release_version(std::string_view text) {
    static const std::regex kVersion(R"((\d+)\.(\d+)(?:\.(\d+))?([-.+~][\w.+~-]*)?)");
    std::match_results<std::string_view::const_iterator> match;
    if (!std::regex_match(text.begin(), text.end(), match, kVersion)) return std::nullopt;
    ReleaseVersion version;
    version.major = std::stoi(match[1].str());
    version.minor = std::stoi(match[2].str());
    version.patch = match[3].matched ? std::stoi(match[3].str()) : 0;
    version.text = std::string(text);
    return version;
}

std::optional<ReleaseVersion> spark_version_in(const std::vector<std::string>& jar_names) {
    static const std::regex kSparkCore(R"(spark-core_[\d.]+-(\d[\w.+~-]*)\.jar)");
    return version_in(jar_names, kSparkCore);
}

std::optional<ReleaseVersion> hadoop_version_in(const std::vector<std::string>& jar_names) {
    // not hadoop-common-3.4.1-tests.jar
    static const std::regex kHadoopCommon(R"(hadoop-common-(\d+\.\d+(?:\.\d+)?)\.jar)");
    return version_in(jar_names, kHadoopCommon);
}

std::string supported_spark_versions() {
    return "Spark 3.5.2 or later 3.5, and 4.0 to 4.3 (tested: 3.5.9, 4.0.5, 4.3.0)";
}

std::string supported_hadoop_versions() {
    return "Hadoop 3.3 and 3.4 for the HDFS daemons (tested: 3.4.1)";
}

namespace {

std::string unsupported_problem(const char* product, const ReleaseVersion& version,
                                const std::string& where, const std::string& supported_text,
                                const char* fix) {
    return fmt::format(
        "{} holds {} {}, which spark-slurm does not run; it runs {}: use an install or image of "
        "one of those{}",
        where, product, version.text, supported_text, fix);
}

}  // namespace

std::string spark_version_problem(const ReleaseVersion& version, const std::string& where) {
    if (supported(version, kSparkLines)) return "";
    return unsupported_problem(
        "Spark", version, where, supported_spark_versions(),
        " (scripts/install-spark-hadoop --spark VERSION, singularity/build-images)");
}

std::string hadoop_version_problem(const ReleaseVersion& version, const std::string& where) {
    if (supported(version, kHadoopLines)) return "";
    return unsupported_problem("Hadoop", version, where, supported_hadoop_versions(),
                               ", or --no-hdfs");
}

InstallVersionCheck check_spark_install(const std::vector<std::string>& jar_names,
                                        const std::string& where,
                                        const std::optional<ReleaseVersion>& fallback) {
    InstallVersionCheck check{spark_version_in(jar_names), "", ""};
    if (!check.version) check.version = fallback;
    if (check.version) {
        check.problem = spark_version_problem(*check.version, where);
    } else {
        check.warning = fmt::format(
            "cannot tell the Spark version of {} (no jars/spark-core_*.jar); spark-slurm runs {}",
            where, supported_spark_versions());
    }
    return check;
}

InstallVersionCheck check_hadoop_install(const std::vector<std::string>& jar_names,
                                         const std::string& where) {
    InstallVersionCheck check{hadoop_version_in(jar_names), "", ""};
    if (check.version) {
        check.problem = hadoop_version_problem(*check.version, where);
    } else {
        check.warning = fmt::format(
            "cannot tell the Hadoop version of {} (no hadoop-common-*.jar under share/); "
            "spark-slurm runs {}",
            where, supported_hadoop_versions());
    }
    return check;
}

bool has_kerby_kdc(const std::vector<std::string>& hadoop_jar_names) {
    return std::any_of(hadoop_jar_names.begin(), hadoop_jar_names.end(), [](const auto& name) {
        return name.starts_with("kerb-simplekdc-") && name.ends_with(".jar");
    });
}

std::string kerby_kdc_problem(const std::vector<std::string>& hadoop_jar_names,
                              const std::string& where) {
    if (has_kerby_kdc(hadoop_jar_names)) return "";
    return fmt::format(
        "{} has no Apache Kerby KDC (kerb-simplekdc-*.jar), which HDFS's Kerberos (--hdfs-auth "
        "kerberos, the default) needs: rerun scripts/install-spark-hadoop (and rebuild the image "
        "from it), add kerb-simplekdc, kerb-server, kerb-admin, kerb-client, kerb-common and "
        "kerb-identity 2.0.3 to its jars, or use --hdfs-auth none (see docs/security.md)",
        where);
}

bool has_spark_connect(const ReleaseVersion& spark) { return spark.major >= 4; }

}  // namespace spark_slurm
