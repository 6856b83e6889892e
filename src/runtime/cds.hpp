// Class-data sharing (JDK 17 AppCDS) for the Spark and HDFS daemons of a host install: the
// classes a daemon loads while it starts are kept, parsed and verified, in an archive that later
// JVMs map instead of reading ~120-250 jars again, which takes seconds off each start on a busy
// node. The launcher's HDFS helpers (the namenode format, dfsadmin, fetchdt) map the namenode's
// archive: the same class path, and most of their classes (Hadoop's configuration, security,
// RPC and protocol classes) are in it. Their exit status matters, and a dump at exit could turn
// it into a failure, so they never write one.
//
// Archives live in a per-user cache ($XDG_CACHE_HOME or ~/.cache, then spark-slurm/cds, 0700),
// named "<daemon>-<key>-<bytes>.jsa": the key hashes the Java install, the daemon, and the
// class path with every jar's name, size and mtime (so a new Java, Spark or Hadoop makes a new
// key and the old archive is stale), and the size lets a truncated file be told apart (a JVM
// mapping a truncated archive crashes; it rejects one with wrong contents by its CRC, with
// -XX:+VerifySharedSpaces, and one dumped for another class path, warning and going on).
//
// Who builds them: the daemons themselves. Without an archive for its key, a daemon runs with
// -XX:ArchiveClassesAtExit=<temporary name in the cache>; the JVM writes the archive when it
// exits (also on SIGTERM, at teardown: ~3 s more on the first run), and the launcher keeps it
// (renames it into place) only when the JVM's own log says it was written. Concurrent jobs each
// write their own temporary file; the rename is atomic, so the last one wins.
//
// The class path: an archive's may hold no non-empty directory before the last jar a class was
// archived from (the dump fails the JVM otherwise). Spark's daemons get the jars first through
// SPARK_DAEMON_CLASSPATH (the conf dir follows: resources are still found there, no Spark jar
// has a log4j2.properties). Hadoop's own `hdfs` script puts $HADOOP_CONF_DIR first and keeps it
// there (it drops a HADOOP_CLASSPATH entry already on the path), so HDFS daemons get archives
// only from the `hdfs` of scripts/install-spark-hadoop, which says (kHdfsJarsFirstMarker) that
// it puts HADOOP_CLASSPATH first when HADOOP_USER_CLASSPATH_FIRST is set.
//
// Who calls it: run_command, on each node, as the job's user, around the host runtime (CdsRuntime)
// and once after the node's daemons are gone (finish).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"

namespace spark_slurm {

// The KDC (--hdfs-auth kerberos) runs on Hadoop's class path like the HDFS daemons; the launcher
// also gives it a directory in the cache to keep its compiled program in (see spark-slurm-kdc).
enum class CdsTarget { SparkMaster, SparkWorker, Namenode, Datanode, Kdc };
constexpr CdsTarget kCdsTargets[] = {CdsTarget::SparkMaster, CdsTarget::SparkWorker,
                                     CdsTarget::Namenode, CdsTarget::Datanode, CdsTarget::Kdc};

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

// The line in an `hdfs` script that says it honours HADOOP_USER_CLASSPATH_FIRST as the archives
// need (scripts/install-spark-hadoop writes it).
constexpr const char* kHdfsJarsFirstMarker = "spark-slurm: jars-first class path for CDS";

// What the key of an archive hashes.
struct CdsKeyInputs {
    CdsTarget target = CdsTarget::SparkMaster;
    std::string java;        // the Java install: its path, `release` file, libjvm and modules
    std::string class_path;  // as the JVM is given it (wildcards unexpanded)
    std::string jars;        // every jar of the class path: name, size, mtime
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

// The class path an archive of `target` is written for: the install's jars, as a wildcard.
std::string cds_class_path(CdsTarget target, const std::string& install_home);

// Adds `jvm_options` (after what is there already) and the jars-first class path to a daemon's
// environment: SPARK_MASTER_OPTS / SPARK_WORKER_OPTS and SPARK_DAEMON_CLASSPATH, or
// HDFS_NAMENODE_OPTS / HDFS_DATANODE_OPTS / SPARK_SLURM_KDC_OPTS, HADOOP_CLASSPATH and
// HADOOP_USER_CLASSPATH_FIRST.
void apply_cds(Invocation& invocation, const CdsUse& use,
               const std::vector<std::string>& jvm_options, const std::string& install_home);

// Why the archive at `path` must not be mapped ("" when it may): not a regular file owned by
// `owner`, not `expected_size` bytes long, or not starting like a dynamic CDS archive.
std::string cds_archive_problem(const std::string& path, std::uintmax_t expected_size, uid_t owner);

// Where the cache is: $XDG_CACHE_HOME/spark-slurm/cds, else $HOME/.cache/spark-slurm/cds; empty
// when neither is set.
std::string cds_cache_dir(const Environment& environment);

// The cache as one node's launcher uses it. Not thread-safe; one per launcher process.
class CdsCache {
  public:
    // Nothing (with one log line saying why) when CDS cannot be used: not a host install, no
    // home, a cache directory that is not private to the user. HDFS gets none (one log line)
    // when its `hdfs` cannot put the jars first, or the user set HADOOP_CLASSPATH.
    static std::optional<CdsCache> open(const RuntimeSettings& settings);

    // `invocation` with the options of its archive (use or dump) when it is a daemon with one;
    // a helper gets its daemon's archive when there is one, and nothing else.
    Invocation prepare(const Invocation& invocation);

    // Once the node's daemons are gone: keeps the archives they wrote, removes those their JVM
    // rejected, and clears temporary files of launchers that died.
    void finish();

  private:
    struct Entry {
        CdsMode mode = CdsMode::Use;
        std::string archive;  // the archive mapped, or the temporary file written
        std::string key;
        std::string log_file;
        std::string helper_log_file;  // a helper's, when one mapped the archive too
    };
    CdsCache(std::string dir, std::string java_identity, std::string spark_home,
             std::string hadoop_home, std::string hdfs_problem)
        : dir_(std::move(dir)),
          java_(std::move(java_identity)),
          spark_home_(std::move(spark_home)),
          hadoop_home_(std::move(hadoop_home)),
          hdfs_problem_(std::move(hdfs_problem)) {}
    const std::string& install_home(CdsTarget target) const;
    // The KDC's invocation told where to keep its compiled program (SPARK_SLURM_KDC_CLASSES).
    Invocation with_kdc_classes(const Invocation& invocation) const;
    Entry& entry_for(CdsTarget target, const std::string& log_dir);
    Entry decide(CdsTarget target, const std::string& log_dir);
    void keep(CdsTarget target, const Entry& entry);
    void forget_if_refused(CdsTarget target, const Entry& entry, const std::string& log_file);

    std::string dir_;
    std::string java_;
    std::string spark_home_;
    std::string hadoop_home_;
    std::string hdfs_problem_;  // why HDFS gets no archives ("" when it does)
    bool hdfs_problem_told_ = false;
    bool client_helpers_told_ = false;
    std::map<CdsTarget, Entry> entries_;
};

// The host runtime with each daemon's archive options added.
class CdsRuntime : public Runtime {
  public:
    CdsRuntime(const Runtime& inner, CdsCache& cache) : inner_(inner), cache_(cache) {}
    const char* name() const override { return inner_.name(); }
    Execution prepare(const Invocation& invocation) const override {
        return inner_.prepare(cache_.prepare(invocation));
    }

  private:
    const Runtime& inner_;
    CdsCache& cache_;
};

}  // namespace spark_slurm
