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

// The record's fields, listed once for both directions: `visit(name, member)` for each.
template <typename Record, typename Visit>
void record_fields(Record& record, Visit&& visit) {
    visit("format", record.format);
    visit("job_id", record.job_id);
    visit("step_id", record.step_id);
    visit("user", record.user);
    visit("command", record.command);
    visit("nodes", record.nodes);
    visit("leader_hostname", record.leader_hostname);
    visit("leader_address", record.leader_address);
    visit("master_url", record.master_url);
    visit("master_webui_url", record.master_webui_url);
    visit("hdfs_url", record.hdfs_url);
    visit("namenode_webui_url", record.namenode_webui_url);
    visit("connect_url", record.connect_url);
    visit("connect_port", record.connect_port);
    visit("workers", record.workers);
    visit("worker_cores", record.worker_cores);
    visit("worker_memory_mib", record.worker_memory_mib);
    visit("runtime", record.runtime);
    visit("image", record.image);
    visit("spark_home", record.spark_home);
    visit("hadoop_home", record.hadoop_home);
    visit("job_dir", record.job_dir);
    visit("state_dir", record.state_dir);
    visit("ready_at", record.ready_at);
    visit("end_time", record.end_time);
}

}  // namespace

std::string record_to_json(const ClusterRecord& record) {
    json document = json::object();
    record_fields(record, [&](const char* name, const auto& value) { document[name] = value; });
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
    record_fields(record, [&](const char* name, auto& value) {
        value = field<std::decay_t<decltype(value)>>(document, name, origin);
    });
    return record;
}

}  // namespace spark_slurm
