#include "plan/plan_json.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/errors.hpp"
#include "common/hashing.hpp"

namespace spark_slurm {

// Field names on the wire are the member names.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PortSet, control, spark_master, spark_master_webui, namenode_rpc,
                                   namenode_http, spark_worker, spark_worker_webui, datanode_data,
                                   datanode_http, datanode_ipc, connect_gateway, connect_server,
                                   kdc)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PythonReport, what, chosen, version, error)

using nlohmann::json;

namespace {

Role role_from_string(const std::string& text) {
    for (Role role : {Role::Leader, Role::Worker, Role::LeaderAndWorker, Role::Idle}) {
        if (text == to_string(role)) return role;
    }
    throw json::other_error::create(501, "unknown role " + text, nullptr);
}

}  // namespace

std::string secret_fingerprint(const std::string& secret) {
    // The label keeps this hash apart from any other use of SHA-256 over the same secret; 128
    // bits are plenty to tell two random secrets apart, and reveal nothing of a 256-bit one.
    const std::string input = "spark-slurm secret fingerprint v1\n" + secret;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr) != 1 ||
        length < 16) {
        char reason[256] = "unknown reason";
        if (unsigned long code = ERR_get_error(); code != 0)
            ERR_error_string_n(code, reason, sizeof reason);
        ERR_clear_error();
        throw LaunchError(std::string("while fingerprinting a secret: SHA-256 failed: ") + reason);
    }
    return hex_encode(std::span<const unsigned char>(digest, 16));
}

json report_to_json(const NodeReport& report) {
    return {{"rank", report.rank},
            {"hostname", report.hostname},
            {"address", report.address},
            {"cpus", report.resources.cpus},
            {"memory", report.resources.memory},
            {"ports", json(report.ports)},
            {"work_dir", report.work_dir},
            {"scratch_capacity", report.scratch_capacity},
            {"problem", report.problem},
            {"missing_binds", report.missing_binds},
            {"driver_python", json(report.driver_python)},
            {"executor_python", json(report.executor_python)}};
}

NodeReport report_from_json(const json& j) {
    NodeReport report;
    j.at("rank").get_to(report.rank);
    j.at("hostname").get_to(report.hostname);
    j.at("address").get_to(report.address);
    j.at("cpus").get_to(report.resources.cpus);
    j.at("memory").get_to(report.resources.memory);
    j.at("ports").get_to(report.ports);
    j.at("work_dir").get_to(report.work_dir);
    j.at("scratch_capacity").get_to(report.scratch_capacity);
    report.problem = j.value("problem", "");
    report.missing_binds = j.value("missing_binds", std::vector<std::string>{});
    report.driver_python = j.value("driver_python", PythonReport{});
    report.executor_python = j.value("executor_python", PythonReport{});
    return report;
}

namespace {

// Fills `out` in place, so that one document can be reused for every node of a large plan
// (assigning into existing members reuses their storage).
void fill_node_json(json& out, const NodePlan& node) {
    out["rank"] = node.rank;
    out["hostname"] = node.hostname;
    out["address"] = node.address;
    out["role"] = to_string(node.role);
    out["detected_cpus"] = node.detected.cpus;
    out["detected_memory"] = node.detected.memory;
    out["worker_cores"] = node.worker_cores;
    out["worker_memory"] = node.worker_memory;
    out["datanode_reserved"] = node.datanode_reserved;
    out["ports"] = node.ports;
    out["work_dir"] = node.work_dir;
    out["conf_dir"] = node.conf_dir;
    out["tmp_dir"] = node.tmp_dir;
    out["spark_local_dir"] = node.spark_local_dir;
    out["spark_worker_dir"] = node.spark_worker_dir;
    out["namenode_dir"] = node.namenode_dir;
    out["datanode_dir"] = node.datanode_dir;
}

json node_to_json(const NodePlan& node) {
    json out = json::object();
    fill_node_json(out, node);
    return out;
}

// Everything but the nodes.
json plan_header_json(const Plan& plan, SecretHandling) {
    json out = {{"job_id", plan.job_id},
                {"restart_count", plan.restart_count},
                {"requeueable", plan.requeueable},
                {"hdfs", plan.hdfs},
                {"kerberos", plan.kerberos},
                {"wire_encryption", plan.wire_encryption},
                {"user", plan.user},
                {"leader_hostname", plan.leader_hostname},
                {"leader_address", plan.leader_address},
                {"control_port", plan.control_port},
                {"master_url", plan.master_url},
                {"master_webui_url", plan.master_webui_url},
                {"hdfs_url", plan.hdfs_url},
                {"namenode_webui_url", plan.namenode_webui_url},
                {"secret_fingerprint", secret_fingerprint(plan.secret)},
                {"worker_count", plan.worker_count},
                {"worker_cores", plan.worker_cores},
                {"worker_memory", plan.worker_memory},
                {"replication", plan.replication},
                {"job_dir", plan.job_dir},
                {"log_dir", plan.log_dir},
                {"state_dir", plan.state_dir},
                {"recovery_dir", plan.recovery_dir},
                {"checkpoint_dir", plan.checkpoint_dir},
                {"event_log_dir", plan.event_log_dir},
                {"ready_timeout_seconds", plan.ready_timeout_seconds},
                {"interactive", plan.interactive},
                {"connect", plan.connect},
                {"connect_url", plan.connect_url},
                {"stop_before_end_seconds", plan.stop_before_end_seconds},
                {"min_workers", plan.min_workers}};
    if (!plan.image.empty()) {
        out["image"] = {{"spark_home", plan.image.spark_home},
                        {"hadoop_home", plan.image.hadoop_home},
                        {"spark_jars", plan.image.spark_jars},
                        {"hadoop_jars", plan.image.hadoop_jars},
                        {"hdfs_jars_first", plan.image.hdfs_jars_first},
                        {"archives", plan.image.archives}};
    }
    if (plan.connect) out["connect_token_fingerprint"] = secret_fingerprint(plan.connect_token);
    return out;
}

}  // namespace

json plan_to_json(const Plan& plan, SecretHandling secret) {
    json out = plan_header_json(plan, secret);
    json& nodes = out["nodes"] = json::array();
    for (const NodePlan& node : plan.nodes) nodes.push_back(node_to_json(node));
    return out;
}

void write_plan_json(std::ostream& out, const Plan& plan, SecretHandling secret,
                     const json& extra_fields) {
    json header = plan_header_json(plan, secret);
    header.update(extra_fields);
    // A placeholder keeps "nodes" where dump() would put it (keys are sorted).
    header["nodes"] = nullptr;
    // Written in blocks: many small writes to a stream synced with stdio cost more than the JSON.
    constexpr std::size_t kBlock = 1 << 20;
    std::string text = "{";
    bool first_field = true;
    for (const auto& [key, value] : header.items()) {
        if (!first_field) text += ',';
        first_field = false;
        text += json(key).dump();
        text += ':';
        if (key != "nodes") {
            text += value.dump();
            continue;
        }
        text += '[';
        json node_document = json::object();
        for (std::size_t index = 0; index < plan.nodes.size(); ++index) {
            if (index > 0) text += ',';
            fill_node_json(node_document, plan.nodes[index]);
            text += node_document.dump();
            if (text.size() >= kBlock) {
                out.write(text.data(), static_cast<std::streamsize>(text.size()));
                text.clear();
            }
        }
        text += ']';
    }
    text += '}';
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

Plan plan_from_json(const json& j) {
    Plan plan;
    j.at("job_id").get_to(plan.job_id);
    j.at("restart_count").get_to(plan.restart_count);
    j.at("requeueable").get_to(plan.requeueable);
    j.at("hdfs").get_to(plan.hdfs);
    j.at("kerberos").get_to(plan.kerberos);
    j.at("wire_encryption").get_to(plan.wire_encryption);
    j.at("user").get_to(plan.user);
    j.at("leader_hostname").get_to(plan.leader_hostname);
    j.at("leader_address").get_to(plan.leader_address);
    j.at("control_port").get_to(plan.control_port);
    j.at("master_url").get_to(plan.master_url);
    j.at("master_webui_url").get_to(plan.master_webui_url);
    j.at("hdfs_url").get_to(plan.hdfs_url);
    j.at("namenode_webui_url").get_to(plan.namenode_webui_url);
    j.at("worker_count").get_to(plan.worker_count);
    j.at("worker_cores").get_to(plan.worker_cores);
    j.at("worker_memory").get_to(plan.worker_memory);
    j.at("replication").get_to(plan.replication);
    j.at("job_dir").get_to(plan.job_dir);
    j.at("log_dir").get_to(plan.log_dir);
    j.at("state_dir").get_to(plan.state_dir);
    j.at("recovery_dir").get_to(plan.recovery_dir);
    j.at("checkpoint_dir").get_to(plan.checkpoint_dir);
    j.at("event_log_dir").get_to(plan.event_log_dir);
    j.at("ready_timeout_seconds").get_to(plan.ready_timeout_seconds);
    j.at("interactive").get_to(plan.interactive);
    j.at("connect").get_to(plan.connect);
    j.at("connect_url").get_to(plan.connect_url);
    j.at("stop_before_end_seconds").get_to(plan.stop_before_end_seconds);
    plan.min_workers = j.value("min_workers", 1u);
    if (j.contains("image")) {
        const json& image = j.at("image");
        image.at("spark_home").get_to(plan.image.spark_home);
        image.at("hadoop_home").get_to(plan.image.hadoop_home);
        image.at("spark_jars").get_to(plan.image.spark_jars);
        image.at("hadoop_jars").get_to(plan.image.hadoop_jars);
        image.at("hdfs_jars_first").get_to(plan.image.hdfs_jars_first);
        if (image.contains("archives")) image.at("archives").get_to(plan.image.archives);
    }
    for (const json& n : j.at("nodes")) {
        NodePlan node;
        n.at("rank").get_to(node.rank);
        n.at("hostname").get_to(node.hostname);
        n.at("address").get_to(node.address);
        node.role = role_from_string(n.at("role").get<std::string>());
        n.at("detected_cpus").get_to(node.detected.cpus);
        n.at("detected_memory").get_to(node.detected.memory);
        n.at("worker_cores").get_to(node.worker_cores);
        n.at("worker_memory").get_to(node.worker_memory);
        n.at("datanode_reserved").get_to(node.datanode_reserved);
        n.at("ports").get_to(node.ports);
        n.at("work_dir").get_to(node.work_dir);
        n.at("conf_dir").get_to(node.conf_dir);
        n.at("tmp_dir").get_to(node.tmp_dir);
        n.at("spark_local_dir").get_to(node.spark_local_dir);
        n.at("spark_worker_dir").get_to(node.spark_worker_dir);
        n.at("namenode_dir").get_to(node.namenode_dir);
        n.at("datanode_dir").get_to(node.datanode_dir);
        plan.nodes.push_back(std::move(node));
    }
    return plan;
}

}  // namespace spark_slurm
