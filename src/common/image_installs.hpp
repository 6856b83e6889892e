// What the leader found inside an image that class-data sharing needs.
#pragma once

#include <string>
#include <vector>

namespace spark_slurm {

// The line in an `hdfs` script that says it honours HADOOP_USER_CLASSPATH_FIRST as the archives
// need (scripts/install-spark-hadoop writes it): the image check looks for it inside an image
// (runtime/image_check.cpp), class-data sharing in a host install (cds/cds_installs.cpp).
constexpr const char* kHdfsJarsFirstMarker = "spark-slurm: jars-first class path for CDS";

// Where an image's installs are and whether its `hdfs` puts the jars first (which class-data
// sharing needs), as the leader's check found them inside it (runtime/image_check); every node
// gets them with the plan. Empty for a host install.
struct ImageInstalls {
    std::string spark_home;
    std::string hadoop_home;
    // A checksum of each install's jars (names, sizes, mtimes, directory order) as the containers
    // see them.
    std::string spark_jars;
    std::string hadoop_jars;
    bool hdfs_jars_first = false;
    // The class archives built with the image (/opt/spark-slurm-cds/<spark-master|...>.jsa, by
    // singularity/train-class-archives), paths inside it: only those written for the jars the
    // containers see.
    std::vector<std::string> archives;

    bool empty() const { return spark_home.empty() && hadoop_home.empty(); }
};

}  // namespace spark_slurm
