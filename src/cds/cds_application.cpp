// The driver's and executors' class archive (CdsTarget::SparkApp): its settings for the
// leader's spark-defaults.conf, and the training that writes it after a job whose driver
// succeeded, from the classes the driver loaded. Part of CdsCache (cds.hpp).
#include <filesystem>
#include <sstream>

#include "cds/cds.hpp"
#include "common/files.hpp"
#include "common/log.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

// A line of -XX:DumpLoadedClassList names a class ("org/apache/spark/SparkContext"), then, for
// some, " id: ..." and more. A driver that got as far as a SparkContext loaded what its
// executors' and later drivers' start needs.
bool class_list_has_spark_context(const fs::path& class_list) {
    std::istringstream list(read_text(class_list).value_or(""));
    std::string line;
    while (std::getline(list, line)) {
        if (line.substr(0, line.find(' ')) == "org/apache/spark/SparkContext") return true;
    }
    return false;
}

}  // namespace

SparkSettings CdsCache::spark_app_settings(const std::string& log_dir) {
    if (installs_.in_image &&
        !image_archive(CdsTarget::SparkApp, key_of(CdsTarget::SparkApp, ""))) {
        // A JVM that records classes for an archive stats every class path entry ahead of each
        // class's jar; through the squashfuse mount of an unprivileged container that made the
        // training ~144 s (12 s on the host), after every user's first job.
        log::info(
            "CDS: none for the driver and executors in an image without theirs built in "
            "(singularity/train-class-archives builds it; writing one in a job would take "
            "minutes there)");
        return {};
    }
    if (!usable_in_jvm_option(log_dir) || !usable_in_jvm_option(dir_)) return {};
    auto found = entries_.find(CdsTarget::SparkApp);
    if (found == entries_.end())
        found = entries_.emplace(CdsTarget::SparkApp, decide(CdsTarget::SparkApp, log_dir)).first;
    const Entry& entry = found->second;
    return cds_spark_app_settings(entry.mode, installs_.spark_home, entry.archive, entry.log_file,
                                  entry.class_list);
}

std::optional<Invocation> CdsCache::spark_app_training(const std::string& training_source,
                                                       bool driver_succeeded) {
    auto found = entries_.find(CdsTarget::SparkApp);
    if (found == entries_.end() || found->second.mode != CdsMode::Dump) return std::nullopt;
    const Entry& entry = found->second;
    std::error_code error;
    if (fs::file_size(entry.class_list, error) == 0 || error) return std::nullopt;
    // An archive is kept for every later job: not one of a driver that stopped half-way.
    if (!driver_succeeded) {
        log::info(
            "CDS: the driver did not succeed; the {}'s class archive waits for a job whose "
            "driver does",
            cds_display_name(CdsTarget::SparkApp));
        return std::nullopt;
    }
    if (!class_list_has_spark_context(entry.class_list)) {
        log::info(
            "CDS: the driver started no SparkContext; the {}'s class archive waits for a "
            "job whose driver does",
            cds_display_name(CdsTarget::SparkApp));
        return std::nullopt;
    }
    if (!fs::exists(training_source, error)) {
        log::warn("CDS: {} is missing (reinstall spark-slurm); the driver gets no class archive",
                  training_source);
        return std::nullopt;
    }
    log::info("CDS: writing the class archive of the {} from the classes the driver loaded",
              cds_display_name(CdsTarget::SparkApp));
    Invocation training;
    training.install = Install::Spark;
    training.command = cds_training_command(installs_.java, installs_.spark_home, training_source,
                                            entry.class_list, entry.archive, entry.log_file);
    return training;
}

}  // namespace spark_slurm
