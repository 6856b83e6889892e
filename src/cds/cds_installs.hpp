// What a node's daemons run from, as class archives see it: a host install (the Java, the jars
// on disk) or an image (what the leader's check found inside it). CdsCache keys its archives by
// these, so that a new Java, Spark, Hadoop or image makes the old archives stale.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/image_installs.hpp"
#include "runtime/runtime.hpp"

namespace spark_slurm {

struct CdsInstalls {
    std::string spark_home;  // the host's, or where it is in the image
    std::string hadoop_home;
    // What the keys hash besides the class path: the host's Java install, or the image (which
    // holds its Java and jars) with its jars as the containers see them.
    std::string spark_identity;
    std::string hadoop_identity;
    std::string java;  // the training's: the host Java's (an image gets no training)
    bool in_image = false;
    std::string hdfs_problem;                 // why HDFS gets no archives ("" when it does)
    std::vector<std::string> image_archives;  // ImageInstalls::archives
};

// The installs, or why class-data sharing is off for this job (`off_reason`, a log line's
// words): containers run through sudo, an image whose Spark was not found, a host Java that
// cannot be told, SPARK_DAEMON_CLASSPATH set.
struct CdsInstallsLookup {
    std::optional<CdsInstalls> installs;
    std::string off_reason;
};
CdsInstallsLookup find_cds_installs(const RuntimeSettings& settings, const ImageInstalls& image);

// "name size mtime" of every jar in `dir`, sorted: what a host install's keys hash of its jars.
std::string host_jar_listing(const std::string& dir);

}  // namespace spark_slurm
