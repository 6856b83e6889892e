// What the Spark and Hadoop installs the daemons will run are, checked on the leader before
// anything starts: for an image, whether it follows the contract (singularity/README.md: java on
// PATH, and SPARK_HOME/HADOOP_HOME with their launch scripts), and for both an image and a host
// install, the names of the jars that carry their versions (runtime/install_versions.hpp reads
// them). In an image the check runs a fixed script through the runtime's own command line — the
// same binds, environment, --spark-home/--hadoop-home and sudo as the daemons get — so what it
// approves is what the daemons will see. Unlike the rest of runtime/, this runs processes and
// reads directories.
#pragma once

#include <string>
#include <vector>

#include "runtime/runtime.hpp"

namespace spark_slurm {

struct InstallInspection {
    // What the image lacks, naming the image and the fix; "" when it is fine or there is none.
    std::string problem;
    std::vector<std::string> spark_jars;   // names of the jars in SPARK_HOME/jars
    std::vector<std::string> hadoop_jars;  // names of the jars under HADOOP_HOME/share (of an
                                           // image: hadoop-common and kerb-simplekdc only)
    std::string spark_where;               // "the image X" or "SPARK_HOME X", for messages
    std::string hadoop_where;
    ImageInstalls image;  // an image's; empty for a host install
};

// Hadoop's jars are looked at only with `hdfs`.
InstallInspection inspect_installs(const RuntimeSettings& settings, bool hdfs);

// The problem of inspect_installs alone.
std::string image_problem(const RuntimeSettings& settings, bool hdfs);

// The names of the *.jar files under `dir`, a few levels deep (a host install).
std::vector<std::string> jar_names(const std::string& dir);

}  // namespace spark_slurm
