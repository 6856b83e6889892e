#include "cds/cds_installs.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "cds/cds_options.hpp"
#include "common/executables.hpp"
#include "common/files.hpp"
#include "common/job_environment.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

std::string stat_line(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return path.string() + " missing\n";
    return fmt::format("{} {} {}\n", path.string(), st.st_size, st.st_mtim.tv_sec);
}

// The Java install behind JAVA_HOME, or behind the `java` on PATH ("" when there is none).
std::string java_home_of(const RuntimeSettings& settings) {
    std::error_code error;
    fs::path home = settings.java_home;
    if (home.empty()) {
        std::string java = find_on_path("java", settings.inherited);
        if (java.empty()) return "";
        home = fs::canonical(java, error).parent_path().parent_path();
        if (error) return "";
    }
    home = fs::canonical(home, error);
    return error ? "" : home.string();
}

// An image's identity: its path, size and mtime (a SIF is replaced, not changed in place).
std::string image_identity(const std::string& image) {
    std::error_code error;
    const fs::path path = fs::canonical(image, error);
    return "image " + stat_line(error ? fs::path(image) : path);
}

std::string java_identity(const fs::path& home) {
    return home.string() + "\n" + read_text(home / "release").value_or("") +
           stat_line(home / "lib/modules") + stat_line(home / "lib/server/libjvm.so");
}

// Why the HDFS daemons of `hadoop_home` cannot get archives ("" when they can).
std::string hdfs_cds_problem(const std::string& hadoop_home, const Environment& inherited) {
    if (hadoop_home.empty()) return "no HADOOP_HOME";
    if (!environment_value(inherited, "HADOOP_CLASSPATH").empty())
        return "HADOOP_CLASSPATH is set; archives need the Hadoop jars first";
    const auto hdfs = read_text(fs::path(hadoop_home) / "bin/hdfs").value_or("");
    if (hdfs.find(kHdfsJarsFirstMarker) == std::string::npos)
        return "its bin/hdfs puts conf directories before the jars, as Hadoop's own scripts "
               "do (the one of scripts/install-spark-hadoop does not)";
    return "";
}

CdsInstallsLookup image_installs(const RuntimeSettings& settings, const ImageInstalls& image) {
    // Archives written by root into the user's cache would be refused as another user's.
    if (settings.sudo) return {{}, "--sudo runs the containers as root"};
    if (image.spark_home.empty()) return {{}, "where the image's Spark is was not found"};
    CdsInstalls installs{image.spark_home,
                         image.hadoop_home,
                         image_identity(settings.spark_image) + image.spark_jars,
                         image_identity(settings.hadoop_image) + image.hadoop_jars,
                         "",
                         true,
                         "",
                         image.archives};
    if (image.hadoop_home.empty())
        installs.hdfs_problem = "no HADOOP_HOME in the image";
    else if (!image.hdfs_jars_first)
        installs.hdfs_problem =
            "the image's bin/hdfs puts conf directories before the jars, as Hadoop's own "
            "scripts do (the one of images made by singularity/make-offline-archive does not)";
    return {std::move(installs), ""};
}

CdsInstallsLookup host_installs(const RuntimeSettings& settings) {
    if (!environment_value(settings.inherited, "SPARK_DAEMON_CLASSPATH").empty())
        return {{}, "SPARK_DAEMON_CLASSPATH is set; archives need the Spark jars first"};
    const std::string java_home = java_home_of(settings);
    if (java_home.empty()) return {{}, "cannot tell which Java install runs the daemons"};
    const std::string java = java_identity(java_home);
    return {CdsInstalls{settings.spark_home,
                        settings.hadoop_home,
                        java,
                        java,
                        (fs::path(java_home) / "bin/java").string(),
                        false,
                        hdfs_cds_problem(settings.hadoop_home, settings.inherited),
                        {}},
            ""};
}

}  // namespace

CdsInstallsLookup find_cds_installs(const RuntimeSettings& settings, const ImageInstalls& image) {
    return settings.kind == RuntimeChoice::None ? host_installs(settings)
                                                : image_installs(settings, image);
}

std::string host_jar_listing(const std::string& dir) {
    std::vector<std::string> lines;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.path().extension() == ".jar") lines.push_back(stat_line(entry.path()));
    }
    std::sort(lines.begin(), lines.end());
    std::string listing;
    for (const auto& line : lines) listing += line;
    return listing;
}

}  // namespace spark_slurm
