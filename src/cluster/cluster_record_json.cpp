// The connection record as JSON, strict when read: a field missing or of the wrong type, or
// another format, is an error naming the file. Unknown fields are ignored.
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "cluster/cluster_record.hpp"
#include "common/errors.hpp"

namespace spark_slurm {

namespace {

using nlohmann::json;

constexpr int kFormat = 1;

// The value of `name` in `document`, of the JSON type T needs; LaunchError naming `origin` else.
template <typename T>
T field(const json& document, const char* name, const std::string& origin) {
    auto bad = [&](const std::string& why) {
        return LaunchError("the cluster record " + origin + " is malformed: field '" + name + "' " +
                           why + "; remove it, or stop and restart the cluster");
    };
    auto it = document.find(name);
    if (it == document.end()) throw bad("is missing");
    const json& value = *it;
    if constexpr (std::is_same_v<T, std::string>) {
        if (!value.is_string()) throw bad("is not a string");
        return value.get<std::string>();
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        if (!value.is_array()) throw bad("is not an array of strings");
        std::vector<std::string> items;
        for (const auto& item : value) {
            if (!item.is_string()) throw bad("is not an array of strings");
            items.push_back(item.get<std::string>());
        }
        return items;
    } else if constexpr (std::is_unsigned_v<T>) {
        if (!value.is_number_unsigned() ||
            value.get<std::uint64_t>() > std::numeric_limits<T>::max()) {
            throw bad("is not a whole number from 0 to " +
                      std::to_string(std::numeric_limits<T>::max()));
        }
        return static_cast<T>(value.get<std::uint64_t>());
    } else {
        static_assert(std::is_same_v<T, std::int64_t> || std::is_same_v<T, int>);
        if (!value.is_number_integer()) throw bad("is not a whole number");
        auto number = value.get<std::int64_t>();
        if (number < std::numeric_limits<T>::min() || number > std::numeric_limits<T>::max()) {
            throw bad("is out of range");
        }
        return static_cast<T>(number);
    }
}

}  // namespace

std::string record_to_json(const ClusterRecord& record) {
    json document = {
        {"format", record.format},
        {"job_id", record.job_id},
        {"step_id", record.step_id},
        {"user", record.user},
        {"command", record.command},
        {"nodes", record.nodes},
        {"leader_hostname", record.leader_hostname},
        {"leader_address", record.leader_address},
        {"master_url", record.master_url},
        {"master_webui_url", record.master_webui_url},
        {"hdfs_url", record.hdfs_url},
        {"namenode_webui_url", record.namenode_webui_url},
        {"connect_url", record.connect_url},
        {"connect_port", record.connect_port},
        {"workers", record.workers},
        {"worker_cores", record.worker_cores},
        {"worker_memory_mib", record.worker_memory_mib},
        {"runtime", record.runtime},
        {"image", record.image},
        {"spark_home", record.spark_home},
        {"hadoop_home", record.hadoop_home},
        {"job_dir", record.job_dir},
        {"state_dir", record.state_dir},
        {"ready_at", record.ready_at},
        {"end_time", record.end_time},
    };
    return document.dump(2) + "\n";
}

ClusterRecord record_from_json(const std::string& text, const std::string& origin) {
    json document = json::parse(text, nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
        throw LaunchError("the cluster record " + origin +
                          " is not a JSON object; remove it, or stop and restart the cluster");
    }
    ClusterRecord record;
    record.format = field<int>(document, "format", origin);
    if (record.format != kFormat) {
        throw LaunchError("the cluster record " + origin + " has format " +
                          std::to_string(record.format) + ", this spark-slurm reads format " +
                          std::to_string(kFormat) +
                          ": use the spark-slurm that started the cluster");
    }
    record.job_id = field<std::uint32_t>(document, "job_id", origin);
    record.step_id = field<std::uint32_t>(document, "step_id", origin);
    record.user = field<std::string>(document, "user", origin);
    record.command = field<std::string>(document, "command", origin);
    record.nodes = field<std::vector<std::string>>(document, "nodes", origin);
    record.leader_hostname = field<std::string>(document, "leader_hostname", origin);
    record.leader_address = field<std::string>(document, "leader_address", origin);
    record.master_url = field<std::string>(document, "master_url", origin);
    record.master_webui_url = field<std::string>(document, "master_webui_url", origin);
    record.hdfs_url = field<std::string>(document, "hdfs_url", origin);
    record.namenode_webui_url = field<std::string>(document, "namenode_webui_url", origin);
    record.connect_url = field<std::string>(document, "connect_url", origin);
    record.connect_port = field<std::uint16_t>(document, "connect_port", origin);
    record.workers = field<unsigned>(document, "workers", origin);
    record.worker_cores = field<unsigned>(document, "worker_cores", origin);
    record.worker_memory_mib = field<std::uint64_t>(document, "worker_memory_mib", origin);
    record.runtime = field<std::string>(document, "runtime", origin);
    record.image = field<std::string>(document, "image", origin);
    record.spark_home = field<std::string>(document, "spark_home", origin);
    record.hadoop_home = field<std::string>(document, "hadoop_home", origin);
    record.job_dir = field<std::string>(document, "job_dir", origin);
    record.state_dir = field<std::string>(document, "state_dir", origin);
    record.ready_at = field<std::int64_t>(document, "ready_at", origin);
    record.end_time = field<std::int64_t>(document, "end_time", origin);
    return record;
}

}  // namespace spark_slurm
