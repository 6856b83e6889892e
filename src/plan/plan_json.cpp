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

// Each struct's JSON fields, listed once for both directions: `visit(name, member)` for each
// (`visit(name, member, kOptional)` for one an older writer may lack). Lists rather than
// NLOHMANN_DEFINE_TYPE_*: some fields are a nested member's (detected_cpus), and only some may be
// missing. What is not a plain member (the role, the secrets' fingerprints) is beside the lists.
enum class Presence { Required, Optional };
constexpr auto kOptional = Presence::Optional;

template <typename Report, typename Visit>
void report_fields(Report& report, Visit&& visit) {
    visit("rank", report.rank);
    visit("hostname", report.hostname);
    visit("address", report.address);
    visit("cpus", report.resources.cpus);
    visit("memory", report.resources.memory);
    visit("ports", report.ports);
    visit("work_dir", report.work_dir);
    visit("scratch_capacity", report.scratch_capacity);
    visit("problem", report.problem, kOptional);
    visit("missing_binds", report.missing_binds, kOptional);
    visit("driver_python", report.driver_python, kOptional);
    visit("executor_python", report.executor_python, kOptional);
}

template <typename Node, typename Visit>
void node_fields(Node& node, Visit&& visit) {
    visit("rank", node.rank);
    visit("hostname", node.hostname);
    visit("address", node.address);
    visit("detected_cpus", node.detected.cpus);
    visit("detected_memory", node.detected.memory);
    visit("worker_cores", node.worker_cores);
    visit("worker_memory", node.worker_memory);
    visit("datanode_reserved", node.datanode_reserved);
    visit("ports", node.ports);
    visit("work_dir", node.work_dir);
    visit("conf_dir", node.conf_dir);
    visit("tmp_dir", node.tmp_dir);
    visit("spark_local_dir", node.spark_local_dir);
    visit("spark_worker_dir", node.spark_worker_dir);
    visit("namenode_dir", node.namenode_dir);
    visit("datanode_dir", node.datanode_dir);
}

// Everything of the plan but its nodes, its image and the secrets.
template <typename PlanT, typename Visit>
void plan_header_fields(PlanT& plan, Visit&& visit) {
    visit("job_id", plan.job_id);
    visit("restart_count", plan.restart_count);
    visit("requeueable", plan.requeueable);
    visit("hdfs", plan.hdfs);
    visit("kerberos", plan.kerberos);
    visit("wire_encryption", plan.wire_encryption);
    visit("user", plan.user);
    visit("leader_hostname", plan.leader_hostname);
    visit("leader_address", plan.leader_address);
    visit("control_port", plan.control_port);
    visit("master_url", plan.master_url);
    visit("master_webui_url", plan.master_webui_url);
    visit("hdfs_url", plan.hdfs_url);
    visit("namenode_webui_url", plan.namenode_webui_url);
    visit("worker_count", plan.worker_count);
    visit("worker_cores", plan.worker_cores);
    visit("worker_memory", plan.worker_memory);
    visit("replication", plan.replication);
    visit("job_dir", plan.job_dir);
    visit("log_dir", plan.log_dir);
    visit("state_dir", plan.state_dir);
    visit("recovery_dir", plan.recovery_dir);
    visit("checkpoint_dir", plan.checkpoint_dir);
    visit("event_log_dir", plan.event_log_dir);
    visit("ready_timeout_seconds", plan.ready_timeout_seconds);
    visit("interactive", plan.interactive);
    visit("connect", plan.connect);
    visit("connect_url", plan.connect_url);
    visit("stop_before_end_seconds", plan.stop_before_end_seconds);
    visit("min_workers", plan.min_workers, kOptional);  // absent from older launchers' plans
}

template <typename Image, typename Visit>
void image_fields(Image& image, Visit&& visit) {
    visit("spark_home", image.spark_home);
    visit("hadoop_home", image.hadoop_home);
    visit("spark_jars", image.spark_jars);
    visit("hadoop_jars", image.hadoop_jars);
    visit("hdfs_jars_first", image.hdfs_jars_first);
    visit("archives", image.archives, kOptional);
}

// The visitors: into a JSON object (assigning into existing members reuses their storage), and
// out of one (a required field missing is nlohmann's out_of_range, naming it).
struct WriteField {
    json& out;
    template <typename T>
    void operator()(const char* name, const T& value, Presence = Presence::Required) const {
        out[name] = value;
    }
};

struct ReadField {
    const json& in;
    template <typename T>
    void operator()(const char* name, T& value, Presence presence = Presence::Required) const {
        if (presence == Presence::Optional && !in.contains(name)) return;
        in.at(name).get_to(value);
    }
};

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
    json out = json::object();
    report_fields(report, WriteField{out});
    return out;
}

NodeReport report_from_json(const json& j) {
    NodeReport report;
    report_fields(report, ReadField{j});
    return report;
}

namespace {

// Fills `out` in place, so that one document can be reused for every node of a large plan
// (assigning into existing members reuses their storage).
void fill_node_json(json& out, const NodePlan& node) {
    node_fields(node, WriteField{out});
    out["role"] = to_string(node.role);
}

json node_to_json(const NodePlan& node) {
    json out = json::object();
    fill_node_json(out, node);
    return out;
}

// Everything but the nodes.
json plan_header_json(const Plan& plan, SecretHandling) {
    json out = json::object();
    plan_header_fields(plan, WriteField{out});
    out["secret_fingerprint"] = secret_fingerprint(plan.secret);
    if (!plan.image.empty()) image_fields(plan.image, WriteField{out["image"]});
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
    plan_header_fields(plan, ReadField{j});
    if (j.contains("image")) image_fields(plan.image, ReadField{j.at("image")});
    for (const json& n : j.at("nodes")) {
        NodePlan node;
        node_fields(node, ReadField{n});
        node.role = role_from_string(n.at("role").get<std::string>());
        plan.nodes.push_back(std::move(node));
    }
    return plan;
}

}  // namespace spark_slurm
