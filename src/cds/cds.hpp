// Class-data sharing (JDK 17 AppCDS) for the Spark and HDFS daemons: the
// classes a daemon loads while it starts are kept, parsed and verified, in an archive that later
// JVMs map instead of reading ~120-250 jars again, which takes seconds off each start on a busy
// node. The launcher's HDFS helpers (the namenode format, dfsadmin, fetchdt) map the namenode's
// archive: the same class path, and most of their classes (Hadoop's configuration, security,
// RPC and protocol classes) are in it. Their exit status matters, and a dump at exit could turn
// it into a failure, so they never write one.
//
// Archives live in a per-user cache ($XDG_CACHE_HOME or ~/.cache, then spark-slurm/cds, 0700),
// named "<daemon>-<key>-<bytes>.jsa": the key hashes the Java install, the daemon, and the
// class path with every jar's name, size and mtime, and for the KDC its source (so a new Java,
// Spark, Hadoop or KDC makes a new key and the old archive is stale), and the size lets a
// truncated file be told apart (a JVM mapping a truncated archive crashes; it rejects one with
// wrong contents by its CRC, with -XX:+VerifySharedSpaces, and one dumped for another class
// path, warning and going on).
//
// Who builds them: the daemons themselves. Without an archive for its key, a daemon runs with
// -XX:ArchiveClassesAtExit=<temporary name in the cache>; the JVM writes the archive when it
// exits (also on SIGTERM, at teardown: ~3 s more on the first run; when Slurm ends the job, the
// JVM gets 2 s, and the archive waits for another job: Slurm kills what is left after its
// KillWait, the launcher with it, before it can clean up), and the launcher keeps it
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
// The driver and its executors ("spark-app", one archive for both) are the user's programs: their
// class path can change (--driver-class-path), and their exit status matters, while a JVM dumping
// with a non-empty directory ahead of the jars ends with status 1. So they never dump. A driver
// without an archive records the classes it loads (-XX:DumpLoadedClassList, which cannot fail),
// and after the job the leader's launcher loads them in a JVM of its own (SparkSlurmClassTraining
// .java) that writes the archive. Later drivers and executors map it with the jars first, all
// through the leader's spark-defaults.conf (spark.{driver,executor}.defaultJavaOptions, which a
// job's own extraJavaOptions add to, and .extraClassPath); a JVM whose class path a user changed
// refuses it into a log file, not the user's output, and runs as before.
//
// In a container image the daemons, the KDC and the helpers write and map theirs inside the
// image, with the cache bound in at the same path: the key hashes the image (path, size, mtime)
// and its jars as the containers see them (names in directory order, which a bind over the
// install changes, and which is the order of the class path the JVM expands from "DIR/*"),
// instead of the host's Java and jars; the install paths, those jars and whether the image's
// `hdfs` puts the jars first come from the leader's check of the image (ImageInstalls, with the
// plan).
// An image may carry archives of its own, built as root when the image was
// (singularity/train-class-archives, /opt/spark-slurm-cds): the check lists them only when the
// jars the containers see are those they were written for, and they are mapped before any of
// the cache's; one a JVM refuses is left alone, and a marker in the cache sends that user's later
// jobs to archives of their own. Without one there, the driver and executors get none: a JVM
// recording classes for an archive stats each class path entry ahead of each class's jar, and
// through an unprivileged container's squashfuse mount the training took ~144 s instead of
// ~12 s.
//
// Who calls it: run_command, on each node, as the job's user, around the host runtime (CdsRuntime)
// and once after the node's daemons are gone (finish); on the leader, also before its configs are
// written (spark_app_settings) and after the driver (spark_app_training).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cds/cds_installs.hpp"
#include "cds/cds_options.hpp"
#include "common/image_installs.hpp"
#include "runtime/runtime.hpp"

namespace spark_slurm {

// Why the archive at `path` must not be mapped ("" when it may): not a regular file owned by
// `owner`, not `expected_size` bytes long, or not starting like a dynamic CDS archive.
std::string cds_archive_problem(const std::string& path, std::uintmax_t expected_size, uid_t owner);

// Where the cache is: $XDG_CACHE_HOME/spark-slurm/cds, else $HOME/.cache/spark-slurm/cds; empty
// when neither is set.
std::string cds_cache_dir(const Environment& environment);

// How long a daemon writing its archive gets to exit after SIGTERM, in an image (a namenode
// there needed more than 10 s) and from a host install (~3 s alone; a namenode on the 2-core
// test machine, with the suite's sanitizer build beside it, was killed at the usual 10 s).
inline constexpr std::chrono::seconds kCdsImageDumpGrace{60};
inline constexpr std::chrono::seconds kCdsHostDumpGrace{30};

// The cache as one node's launcher uses it. Not thread-safe; one per launcher process.
class CdsCache {
  public:
    // Nothing (with one log line saying why) when CDS cannot be used: no home, a cache
    // directory that is not private to the user, an image whose SPARK_HOME is not known
    // (`image`: what the leader's check found in it), containers run through sudo. HDFS gets
    // none (one log line) when its `hdfs` cannot put the jars first, or the user set
    // HADOOP_CLASSPATH.
    static std::optional<CdsCache> open(const RuntimeSettings& settings,
                                        const ImageInstalls& image = {});

    // `invocation` with the options of its archive (use or dump) when it is a daemon with one;
    // a helper gets its daemon's archive when there is one, and nothing else.
    Invocation prepare(const Invocation& invocation);

    // The leader's spark-defaults.conf settings for the driver and executors: the jars first and
    // the archive's options when this user has the archive; else the driver records its classes
    // into `log_dir`.
    SparkSettings spark_app_settings(const std::string& log_dir);

    // After the driver: the JVM run that writes the driver's and executors' archive from the
    // classes it recorded, when there is no archive yet and the driver succeeded after starting
    // a SparkContext.
    std::optional<Invocation> spark_app_training(const std::string& training_source,
                                                 bool driver_succeeded);

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
        std::string class_list;       // SparkApp without an archive: what the driver loaded
        bool from_image = false;      // built with the image: mapped, never removed
    };
    CdsCache(std::string dir, CdsInstalls installs)
        : dir_(std::move(dir)), installs_(std::move(installs)) {}
    const std::string& install_home(CdsTarget target) const;
    // The KDC's invocation told where to keep its compiled program (SPARK_SLURM_KDC_CLASSES).
    Invocation with_kdc_classes(const Invocation& invocation) const;
    std::string key_of(CdsTarget target, const std::string& program) const;
    // The archive of `target` built with the image, unless a JVM of an earlier job refused it
    // (then this user's cache takes over).
    std::optional<std::string> image_archive(CdsTarget target, const std::string& key) const;
    std::string image_refused_marker(CdsTarget target, const std::string& key) const;
    // `program`: what else the archive depends on (CdsKeyInputs::program).
    Entry decide(CdsTarget target, const std::string& log_dir, const std::string& program = "");
    void keep(CdsTarget target, const Entry& entry);
    void forget_if_refused(CdsTarget target, const Entry& entry, const std::string& log_file);

    std::string dir_;
    CdsInstalls installs_;
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
