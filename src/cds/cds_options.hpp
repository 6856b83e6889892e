// Class-data sharing, the pure part: which program has an archive, what archives are named and
// keyed by, and the JVM options and settings that map or write one. No I/O: cds/cds.hpp has
// the cache and the reasons behind it all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/image_installs.hpp"  // kHdfsJarsFirstMarker
#include "runtime/runtime.hpp"

namespace spark_slurm {

// The KDC (--hdfs-auth kerberos) runs on Hadoop's class path like the HDFS daemons; the launcher
// also gives it a directory in the cache to keep its compiled program in (see spark-slurm-kdc).
// SparkApp: the driver's spark-submit JVMs and the executors.
enum class CdsTarget { SparkMaster, SparkWorker, Namenode, Datanode, Kdc, SparkApp };
constexpr CdsTarget kCdsTargets[] = {CdsTarget::SparkMaster, CdsTarget::SparkWorker,
                                     CdsTarget::Namenode,    CdsTarget::Datanode,
                                     CdsTarget::Kdc,         CdsTarget::SparkApp};

// Paths of archives and logs go into -XX and -Xlog options, whose syntax reserves ':', ',', '=',
// '"' and ' ': a path with one of them cannot be given to a JVM.
bool usable_in_jvm_option(const std::string& path);

// The HDFS daemons and the KDC: their class path is the Hadoop install's, from its `hdfs` script.
bool cds_on_hadoop_class_path(CdsTarget target);

// "spark-master", "hdfs-namenode", ...: archive names; "spark master", ...: messages.
const char* cds_file_stem(CdsTarget target);
const char* cds_display_name(CdsTarget target);

// What an invocation starts that has an archive: a daemon, or a helper that maps its daemon's
// archive and never writes one (the namenode format; dfsadmin and fetchdt, which take their JVM
// options from HADOOP_CLIENT_OPTS).
enum class CdsHelper { None, Format, Client };
struct CdsUse {
    CdsTarget target = CdsTarget::SparkMaster;
    CdsHelper helper = CdsHelper::None;
    bool operator==(const CdsUse&) const = default;
};
std::optional<CdsUse> cds_use(const Invocation& invocation);

// What the key of an archive hashes.
struct CdsKeyInputs {
    CdsTarget target = CdsTarget::SparkMaster;
    std::string java;        // the Java install: its path, `release` file, libjvm and modules
    std::string class_path;  // as the JVM is given it (wildcards unexpanded)
    std::string jars;        // every jar of the class path: name, size, mtime
    // The KDC: its source, from which spark-slurm-kdc compiles the jar it puts first on the
    // class path (a new source, a new jar path: the old archive would be refused).
    std::string program;
};
// 16 hex digits (FNV-1a, 64 bits): a name, not a security measure (the cache is 0700).
std::string cds_key(const CdsKeyInputs& inputs);

std::string cds_archive_name(CdsTarget target, const std::string& key, std::uintmax_t size);
struct CdsArchiveName {
    CdsTarget target;
    std::string key;
    std::uintmax_t size = 0;
};
std::optional<CdsArchiveName> parse_cds_archive_name(const std::string& name);

// JVM options: map `archive`, or write one to `archive` at exit; the JVM's CDS messages go to
// `log_file` as well, for finish() to read.
enum class CdsMode { Use, Dump };
std::vector<std::string> cds_jvm_options(CdsMode mode, const std::string& archive,
                                         const std::string& log_file);

// spark-defaults.conf settings for the driver and executors. Use: the jars first (the class path
// of `archive`) and the options that map it; the driver's CDS messages go to `driver_log`, each
// executor's to cds.log in its directory. Dump: the driver records the classes it loads into
// `class_list`, the executors nothing.
using SparkSettings = std::vector<std::pair<std::string, std::string>>;
SparkSettings cds_spark_app_settings(CdsMode mode, const std::string& spark_home,
                                     const std::string& archive, const std::string& driver_log,
                                     const std::string& class_list);

// The JVM that writes the driver's and executors' archive: it loads every class of `class_list`
// (SparkSlurmClassTraining.java, run from `training_source`) with the jars of `spark_home` and
// dumps them into `archive` at exit, saying so in `log_file`.
std::vector<std::string> cds_training_command(
    const std::string& java, const std::string& spark_home, const std::string& training_source,
    const std::string& class_list, const std::string& archive, const std::string& log_file);

// The class path an archive of `target` is written for: the install's jars, as a wildcard.
std::string cds_class_path(CdsTarget target, const std::string& install_home);

// Adds `jvm_options` (after what is there already) and the jars-first class path to a daemon's
// environment: SPARK_MASTER_OPTS / SPARK_WORKER_OPTS and SPARK_DAEMON_CLASSPATH, or
// HDFS_NAMENODE_OPTS / HDFS_DATANODE_OPTS / SPARK_SLURM_KDC_OPTS, HADOOP_CLASSPATH and
// HADOOP_USER_CLASSPATH_FIRST.
void apply_cds(Invocation& invocation, const CdsUse& use,
               const std::vector<std::string>& jvm_options, const std::string& install_home);

}  // namespace spark_slurm
