#include "cds/cds_options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "common/enum_names.hpp"
#include "common/hashing.hpp"

namespace spark_slurm {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMasterClass = "org.apache.spark.deploy.master.Master";
constexpr const char* kWorkerClass = "org.apache.spark.deploy.worker.Worker";
constexpr const char* kKdcProgram = "spark-slurm-kdc";
// Bumped when the options or the naming change, so that older archives become stale.
constexpr const char* kFormat = "spark-slurm-cds-1";

// Each target's names: in archive file names, in messages, and the variable of the daemon's JVM
// options ("" for applications: spark-defaults.conf, cds_spark_app_settings()).
struct TargetNames {
    CdsTarget value;
    const char* file_stem;
    const char* display_name;
    const char* options_variable;
};
constexpr TargetNames kTargetNames[] = {
    {CdsTarget::SparkMaster, "spark-master", "spark master", "SPARK_MASTER_OPTS"},
    {CdsTarget::SparkWorker, "spark-worker", "spark worker", "SPARK_WORKER_OPTS"},
    {CdsTarget::Namenode, "hdfs-namenode", "hdfs namenode", "HDFS_NAMENODE_OPTS"},
    {CdsTarget::Datanode, "hdfs-datanode", "hdfs datanode", "HDFS_DATANODE_OPTS"},
    {CdsTarget::Kdc, "kdc", "kerberos kdc", "SPARK_SLURM_KDC_OPTS"},
    {CdsTarget::SparkApp, "spark-app", "spark application", ""},
};

const char* options_variable(CdsTarget target) {
    return name_in_column(kTargetNames, target, &TargetNames::options_variable, "");
}

}  // namespace

// The HDFS daemons and the KDC: their class path is the Hadoop install's, from its `hdfs` script.
bool cds_on_hadoop_class_path(CdsTarget target) {
    return target == CdsTarget::Namenode || target == CdsTarget::Datanode ||
           target == CdsTarget::Kdc;
}

const char* cds_file_stem(CdsTarget target) {
    return name_in_column(kTargetNames, target, &TargetNames::file_stem, "unknown");
}

const char* cds_display_name(CdsTarget target) {
    return name_in_column(kTargetNames, target, &TargetNames::display_name, "unknown");
}

std::optional<CdsUse> cds_use(const Invocation& invocation) {
    if (invocation.install == Install::Hadoop && !invocation.command.empty() &&
        fs::path(invocation.command.front()).filename() == kKdcProgram)
        return CdsUse{CdsTarget::Kdc};
    if (!invocation.command.empty() || invocation.args.empty()) return std::nullopt;
    const std::string& first = invocation.args.front();
    if (invocation.install == Install::Spark && invocation.tool == "spark-class") {
        if (first == kMasterClass) return CdsUse{CdsTarget::SparkMaster};
        if (first == kWorkerClass) return CdsUse{CdsTarget::SparkWorker};
    }
    if (invocation.install == Install::Hadoop && invocation.tool == "hdfs") {
        if (first == "datanode" && invocation.args.size() == 1) return CdsUse{CdsTarget::Datanode};
        if (first == "namenode" && invocation.args.size() == 1) return CdsUse{CdsTarget::Namenode};
        if (first == "namenode" && invocation.args.at(1) == "-format")
            return CdsUse{CdsTarget::Namenode, CdsHelper::Format};
        if (first == "dfsadmin" || first == "fetchdt")
            return CdsUse{CdsTarget::Namenode, CdsHelper::Client};
    }
    return std::nullopt;
}

std::string cds_key(const CdsKeyInputs& inputs) {
    Fnv1a64 hash;
    auto add = [&hash](const std::string& text) {
        hash.add(text);
        hash.add_byte(0xff);  // a separator no text contains, so that fields cannot shift
    };
    add(kFormat);
    add(cds_file_stem(inputs.target));
    add(inputs.java);
    add(inputs.class_path);
    add(inputs.jars);
    // Only when there is one: the keys of the other archives stay what they were.
    if (!inputs.program.empty()) add(inputs.program);
    return hash.hex();
}

std::string cds_archive_name(CdsTarget target, const std::string& key, std::uintmax_t size) {
    return fmt::format("{}-{}-{}.jsa", cds_file_stem(target), key, size);
}

std::optional<CdsArchiveName> parse_cds_archive_name(const std::string& name) {
    for (CdsTarget target : kCdsTargets) {
        const std::string stem = std::string(cds_file_stem(target)) + "-";
        if (name.rfind(stem, 0) != 0 || name.size() < stem.size() + 16 + 2 + 4 ||
            !name.ends_with(".jsa"))
            continue;
        std::string key = name.substr(stem.size(), 16);
        if (!std::all_of(key.begin(), key.end(),
                         [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }) ||
            name[stem.size() + 16] != '-')
            return std::nullopt;
        std::string size = name.substr(stem.size() + 17, name.size() - stem.size() - 17 - 4);
        if (size.empty() || size.size() > 15 || !std::all_of(size.begin(), size.end(), [](char c) {
                return std::isdigit(static_cast<unsigned char>(c));
            }))
            return std::nullopt;
        return CdsArchiveName{target, key, std::stoull(size)};
    }
    return std::nullopt;
}

std::vector<std::string> cds_jvm_options(CdsMode mode, const std::string& archive,
                                         const std::string& log_file) {
    if (mode == CdsMode::Use) {
        // auto: a refused archive costs a warning, never the start; Verify: a changed byte is
        // caught by the CRCs (~50 ms for 40 MiB) instead of crashing the JVM. The warning goes to
        // `log_file` only: the driver's stdout is the user's.
        return {"-XX:SharedArchiveFile=" + archive,
                "-Xshare:auto",
                "-XX:+VerifySharedSpaces",
                "-Xlog:cds=off",
                "-Xlog:cds+dynamic=off",
                "-Xlog:cds=warning,cds+dynamic=warning:file=" + log_file};
    }
    // The dump's hundreds of "skipping class" warnings stay out of the daemon's log; the line
    // that says the archive was written goes to `log_file`.
    return {"-XX:ArchiveClassesAtExit=" + archive, "-XX:+VerifySharedSpaces", "-Xlog:cds*=error",
            "-Xlog:cds+dynamic=info:file=" + log_file};
}

SparkSettings cds_spark_app_settings(CdsMode mode, const std::string& spark_home,
                                     const std::string& archive, const std::string& driver_log,
                                     const std::string& class_list) {
    auto joined = [](const std::vector<std::string>& options) {
        return fmt::format("{}", fmt::join(options, " "));
    };
    // "default": a job's own spark.{driver,executor}.extraJavaOptions come after, not instead.
    if (mode == CdsMode::Dump)
        return {{"spark.driver.defaultJavaOptions", "-XX:DumpLoadedClassList=" + class_list}};
    const std::string jars = cds_class_path(CdsTarget::SparkApp, spark_home);
    return {
        {"spark.driver.extraClassPath", jars},
        {"spark.driver.defaultJavaOptions", joined(cds_jvm_options(mode, archive, driver_log))},
        {"spark.executor.extraClassPath", jars},
        // Relative: each executor's own directory, removed with the worker's work dir.
        {"spark.executor.defaultJavaOptions", joined(cds_jvm_options(mode, archive, "cds.log"))}};
}

std::vector<std::string> cds_training_command(
    const std::string& java, const std::string& spark_home, const std::string& training_source,
    const std::string& class_list, const std::string& archive, const std::string& log_file) {
    std::vector<std::string> command{java};
    for (auto& option : cds_jvm_options(CdsMode::Dump, archive, log_file))
        command.push_back(std::move(option));
    // Java's source launcher: the training class itself is not on the class path, so the class
    // path the archive records is the jars alone, as the driver's and executors' start.
    command.insert(command.end(),
                   {"-XX:-UsePerfData", "-cp", cds_class_path(CdsTarget::SparkApp, spark_home),
                    training_source, class_list});
    return command;
}

std::string cds_class_path(CdsTarget target, const std::string& install_home) {
    return install_home + (cds_on_hadoop_class_path(target) ? "/share/hadoop/lib/*" : "/jars/*");
}

void apply_cds(Invocation& invocation, const CdsUse& use,
               const std::vector<std::string>& jvm_options, const std::string& install_home) {
    const CdsTarget target = use.target;
    std::string& options =
        invocation.environment[use.helper == CdsHelper::Client ? "HADOOP_CLIENT_OPTS"
                                                               : options_variable(target)];
    if (!jvm_options.empty())
        options += fmt::format("{}{}", options.empty() ? "" : " ", fmt::join(jvm_options, " "));
    // Jars before the conf dirs that the scripts put first: the JVM cannot archive from a class
    // path with a non-empty directory ahead of the jars (and refuses the archive otherwise).
    if (cds_on_hadoop_class_path(target)) {
        // What the daemon had on HADOOP_CLASSPATH (the UI login filter) after the jars: a JVM
        // maps an archive whose class path is a prefix of its own.
        std::string& class_path = invocation.environment["HADOOP_CLASSPATH"];
        class_path =
            cds_class_path(target, install_home) + (class_path.empty() ? "" : ":" + class_path);
        invocation.environment["HADOOP_USER_CLASSPATH_FIRST"] = "true";
    } else {
        invocation.environment["SPARK_DAEMON_CLASSPATH"] = cds_class_path(target, install_home);
    }
}

bool usable_in_jvm_option(const std::string& path) {
    return path.find_first_of(":,=\" ") == std::string::npos;
}

}  // namespace spark_slurm
