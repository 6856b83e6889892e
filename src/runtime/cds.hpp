// Class-data sharing (JDK 17 AppCDS) for the Spark daemons of a host install: the classes a
// daemon loads while it starts are kept, parsed and verified, in an archive that later JVMs map
// instead of reading ~250 jars again, which takes seconds off each start on a busy node.
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
// Why Spark only: an archive's class path may hold no non-empty directory before the last jar
// a class was archived from. Spark's daemons get the jars first through SPARK_DAEMON_CLASSPATH
// (the conf dir follows: resources are still found there, no Spark jar has a log4j2.properties);
// Hadoop's `hdfs` script puts $HADOOP_CONF_DIR, etc/hadoop and share/hadoop/hdfs (the web apps)
// first and offers no way to put jars before them, and the dump then fails the JVM.
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

enum class CdsTarget { SparkMaster, SparkWorker };

// "spark-master", "spark-worker": archive names; "spark master", ...: messages.
const char* cds_file_stem(CdsTarget target);
const char* cds_display_name(CdsTarget target);

// The daemon an invocation starts, when it is one with an archive.
std::optional<CdsTarget> cds_target(const Invocation& invocation);

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

// Adds `jvm_options` and the jars-first class path to a Spark daemon's environment
// (SPARK_MASTER_OPTS / SPARK_WORKER_OPTS, SPARK_DAEMON_CLASSPATH), after what is there already.
void apply_cds(Invocation& invocation, CdsTarget target,
               const std::vector<std::string>& jvm_options, const std::string& spark_home);

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
    // home, a cache directory that is not private to the user.
    static std::optional<CdsCache> open(const RuntimeSettings& settings);

    // `invocation` with the options of its archive (use or dump) when it is a daemon with one.
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
    };
    CdsCache(std::string dir, std::string java_identity, std::string spark_home)
        : dir_(std::move(dir)),
          java_(std::move(java_identity)),
          spark_home_(std::move(spark_home)) {}
    Entry decide(CdsTarget target, const std::string& log_dir);
    void keep(CdsTarget target, const Entry& entry);

    std::string dir_;
    std::string java_;
    std::string spark_home_;
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
