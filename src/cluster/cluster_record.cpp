// Interim implementation (the full one, with its checks and tests, is on the way).
#include "cluster/cluster_record.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/errors.hpp"

namespace spark_slurm {

namespace fs = std::filesystem;
using nlohmann::json;

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ClusterRecord, format, job_id, step_id, user, command, nodes,
                                   leader_hostname, leader_address, master_url, master_webui_url,
                                   hdfs_url, namenode_webui_url, connect_url, connect_port, workers,
                                   worker_cores, worker_memory_mib, runtime, image, spark_home,
                                   hadoop_home, job_dir, state_dir, ready_at, end_time)

std::string clusters_directory() {
    const passwd* entry = ::getpwuid(::getuid());
    if (!entry || !entry->pw_dir) throw LaunchError("cannot find your home directory");
    return (fs::path(entry->pw_dir) / ".spark-slurm" / "clusters").string();
}

std::string record_directory(std::uint32_t job_id) {
    return (fs::path(clusters_directory()) / std::to_string(job_id)).string();
}

std::string record_to_json(const ClusterRecord& record) { return json(record).dump(2) + "\n"; }

ClusterRecord record_from_json(const std::string& text, const std::string& origin) {
    try {
        return json::parse(text).get<ClusterRecord>();
    } catch (const json::exception& error) {
        throw LaunchError(origin + ": not a cluster record: " + error.what());
    }
}

void make_private_directory(const std::string& path) {
    std::error_code error;
    fs::create_directories(path, error);
    if (::chmod(path.c_str(), 0700) != 0)
        throw LaunchError("cannot create the private directory " + path);
}

std::string prepare_record_directory(std::uint32_t job_id) {
    const fs::path home_part = fs::path(clusters_directory()).parent_path();
    make_private_directory(home_part.string());
    make_private_directory(clusters_directory());
    std::string dir = record_directory(job_id);
    std::error_code error;
    fs::remove_all(dir, error);
    make_private_directory(dir);
    return dir;
}

void write_private_file(const std::string& path, const std::string& content) {
    std::string temporary = path + ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw LaunchError("cannot write " + path);
    bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    ::close(fd);
    if (!ok || ::rename(temporary.c_str(), path.c_str()) != 0)
        throw LaunchError("cannot write " + path);
}

void publish_record(const ClusterRecord& record) {
    write_private_file((fs::path(record_directory(record.job_id)) / "cluster.json").string(),
                       record_to_json(record));
}

std::optional<ClusterRecord> read_record(std::uint32_t job_id) {
    std::string path = (fs::path(record_directory(job_id)) / "cluster.json").string();
    std::ifstream file(path);
    if (!file) return {};
    std::stringstream text;
    text << file.rdbuf();
    return record_from_json(text.str(), path);
}

std::vector<ClusterRecord> read_all_records() { return {}; }

void remove_record_directory(std::uint32_t job_id) noexcept {
    try {
        std::error_code error;
        fs::remove_all(record_directory(job_id), error);
    } catch (...) {
    }
}

}  // namespace spark_slurm
