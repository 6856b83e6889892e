#include "plan/plan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "common/errors.hpp"
#include "common/sizes.hpp"
#include "fixtures.hpp"
#include "plan/plan_json.hpp"

namespace spark_slurm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PlanInputs inputs_for(unsigned nodes, NodeResources resources = {16, 64 * kGiB}) {
    return testing::synthetic_inputs(nodes, resources);
}

std::string rejection(const PlanInputs& inputs) {
    try {
        make_plan(inputs);
    } catch (const UsageError& error) {
        return error.what();
    }
    ADD_FAILURE() << "accepted";
    return "";
}

TEST(Plan, WithWireEncryptionTheWebUisStayOnEachNodesLoopback) {
    // Spark's reverse proxy would carry the login cookie and the pages in clear.
    EXPECT_TRUE(ui_reverse_proxy(false));
    EXPECT_FALSE(ui_reverse_proxy(true));
    EXPECT_EQ(web_ui_address(false, "10.0.0.2"), "10.0.0.2");
    EXPECT_EQ(web_ui_address(true, "10.0.0.2"), "127.0.0.1");
    auto inputs = inputs_for(3);
    inputs.options.wire_encryption = true;
    EXPECT_EQ(make_plan(inputs).master_webui_url, "http://127.0.0.1:8080");
}

TEST(Plan, LeaderOnRankZeroWorkersOnTheRest) {
    auto plan = make_plan(inputs_for(3));
    ASSERT_EQ(plan.nodes.size(), 3u);
    EXPECT_EQ(plan.nodes[0].role, Role::Leader);
    EXPECT_EQ(plan.nodes[1].role, Role::Worker);
    EXPECT_EQ(plan.nodes[2].role, Role::Worker);
    EXPECT_EQ(plan.worker_count, 2u);
    EXPECT_EQ(plan.master_url, "spark://10.0.0.1:7077");
    // The master's UI is the door to every Spark UI of the job (its reverse proxy): on the
    // leader's address, behind the login filter.
    EXPECT_EQ(plan.master_webui_url, "http://10.0.0.1:8080");
    EXPECT_EQ(plan.hdfs_url, "hdfs://10.0.0.1:8020");
    // Kerberos is the default: the web endpoints are HTTPS only.
    EXPECT_TRUE(plan.kerberos);
    EXPECT_EQ(plan.namenode_webui_url, "https://10.0.0.1:9870");
    EXPECT_EQ(plan.control_port, 40000);
    EXPECT_EQ(plan.replication, 2u);
    EXPECT_EQ(plan.log_dir, "/home/alice/spark-slurm-4242/logs");
    EXPECT_EQ(plan.nodes[0].namenode_dir, "/tmp/spark-slurm-4242-0/hdfs/name");
    EXPECT_EQ(plan.nodes[1].datanode_dir, "/tmp/spark-slurm-4242-1/hdfs/data");
    EXPECT_TRUE(plan.nodes[0].datanode_dir.empty());
}

TEST(Plan, HdfsAuthNoneKeepsPlainHttpAndNoRealm) {
    auto inputs = inputs_for(3);
    inputs.options.hdfs_auth = HdfsAuth::None;
    auto plan = make_plan(inputs);
    EXPECT_FALSE(plan.kerberos);
    EXPECT_EQ(plan.namenode_webui_url, "http://10.0.0.1:9870");
    EXPECT_EQ(kerberos_java_option(plan), "");
}

TEST(Plan, NoHdfsMeansNoKerberos) {
    auto inputs = inputs_for(3);
    inputs.options.hdfs = false;
    EXPECT_FALSE(make_plan(inputs).kerberos);
}

TEST(Plan, KerberosNamesAreHostFreeAndInTheJobDir) {
    auto inputs = inputs_for(3);
    inputs.user = "alice";
    auto plan = make_plan(inputs);
    const KerberosNames names = kerberos_names(plan);
    EXPECT_EQ(names.realm, "JOB4242.SPARK-SLURM");
    EXPECT_EQ(names.namenode_principal, "nn/job4242@JOB4242.SPARK-SLURM");
    EXPECT_EQ(names.datanode_principal, "dn/job4242@JOB4242.SPARK-SLURM");
    EXPECT_EQ(names.owner_principal, "alice@JOB4242.SPARK-SLURM");
    EXPECT_EQ(names.dir, "/home/alice/spark-slurm-4242/credentials");
    EXPECT_EQ(names.owner_keytab, "/home/alice/spark-slurm-4242/credentials/owner.keytab");
    EXPECT_EQ(kerberos_java_option(plan),
              "-Djava.security.krb5.conf=/home/alice/spark-slurm-4242/credentials/krb5.conf");
}

TEST(Plan, DescriptionSaysHowHdfsAuthenticates) {
    EXPECT_THAT(describe_plan(make_plan(inputs_for(3))),
                HasSubstr("hdfs auth    kerberos, realm JOB4242.SPARK-SLURM"));
    auto inputs = inputs_for(3);
    inputs.options.hdfs_auth = HdfsAuth::None;
    EXPECT_THAT(describe_plan(make_plan(inputs)), HasSubstr("hdfs auth    none: anyone"));
}

TEST(Plan, DetectedResourcesMinusTheReserve) {
    auto plan = make_plan(inputs_for(3));
    EXPECT_EQ(plan.worker_cores, 16u);
    std::uint64_t reserve = memory_reserve(64 * kGiB, Role::Worker, true);
    // Spark takes memory in whole MiB.
    EXPECT_EQ(plan.worker_memory, (64 * kGiB - reserve) / kMiB * kMiB);
    EXPECT_EQ(plan.nodes[1].worker_memory, plan.worker_memory);
    // 5% of 64G (> 1G) for the OS, 512M worker daemon, 512M datanode.
    EXPECT_EQ(reserve, 64 * kGiB / 20 + 1 * kGiB);
}

TEST(Plan, TheSmallestWorkerDecides) {
    auto inputs = inputs_for(3);
    inputs.nodes[2].resources = {4, 8 * kGiB};
    auto plan = make_plan(inputs);
    EXPECT_EQ(plan.worker_cores, 4u);
    EXPECT_EQ(plan.worker_memory,
              (8 * kGiB - memory_reserve(8 * kGiB, Role::Worker, true)) / kMiB * kMiB);
}

TEST(Plan, TheUserOverridesCoresAndMemory) {
    auto inputs = inputs_for(3);
    inputs.options.cores = 3;
    inputs.options.memory = 5 * kGiB;
    auto plan = make_plan(inputs);
    EXPECT_EQ(plan.worker_cores, 3u);
    EXPECT_EQ(plan.worker_memory, 5 * kGiB);
}

TEST(Plan, FewerWorkersLeaveNodesIdle) {
    auto inputs = inputs_for(4);
    inputs.options.workers = 2;
    auto plan = make_plan(inputs);
    EXPECT_EQ(plan.nodes[1].role, Role::Worker);
    EXPECT_EQ(plan.nodes[2].role, Role::Worker);
    EXPECT_EQ(plan.nodes[3].role, Role::Idle);
}

TEST(Plan, WorkerOnLeader) {
    auto inputs = inputs_for(1);
    inputs.options.worker_on_leader = true;
    auto plan = make_plan(inputs);
    EXPECT_EQ(plan.nodes[0].role, Role::LeaderAndWorker);
    EXPECT_EQ(plan.worker_count, 1u);
    EXPECT_FALSE(plan.nodes[0].namenode_dir.empty());
    EXPECT_FALSE(plan.nodes[0].datanode_dir.empty());
    EXPECT_EQ(plan.worker_memory,
              (64 * kGiB - memory_reserve(64 * kGiB, Role::LeaderAndWorker, true)) / kMiB * kMiB);
}

TEST(Plan, OneNodeNeedsWorkerOnLeader) {
    EXPECT_THAT(rejection(inputs_for(1)), HasSubstr("--worker-on-leader"));
}

TEST(Plan, MoreWorkersThanNodesIsRefused) {
    auto inputs = inputs_for(3);
    inputs.options.workers = 3;
    EXPECT_THAT(rejection(inputs), HasSubstr("--workers 3 asks for more workers"));
}

TEST(Plan, TooLittleMemoryIsRefusedWithTheNode) {
    auto inputs = inputs_for(2, {2, 1 * kGiB});
    EXPECT_THAT(rejection(inputs), HasSubstr("node cn2 has 1G of memory"));
}

TEST(Plan, NoHdfs) {
    auto inputs = inputs_for(2);
    inputs.options.hdfs = false;
    auto plan = make_plan(inputs);
    EXPECT_TRUE(plan.hdfs_url.empty());
    EXPECT_TRUE(plan.nodes[0].namenode_dir.empty());
    EXPECT_TRUE(plan.nodes[1].datanode_dir.empty());
}

TEST(Plan, AStateDirMakesHdfsAndRecoveryDurableByRank) {
    auto inputs = inputs_for(3);
    inputs.options.state_dir = "/shared/state";
    auto plan = make_plan(inputs);
    EXPECT_EQ(plan.nodes[0].namenode_dir, "/shared/state/namenode");
    EXPECT_EQ(plan.nodes[2].datanode_dir, "/shared/state/node-2/datanode");
    EXPECT_EQ(plan.recovery_dir, "/shared/state/spark-recovery");
    EXPECT_EQ(plan.checkpoint_dir, "/shared/state/checkpoints");
}

TEST(Plan, EventLogsGoToTheJobDirUnlessTurnedOff) {
    auto inputs = inputs_for(2);
    auto plan = make_plan(inputs);
    EXPECT_EQ(plan.event_log_dir, "/home/alice/spark-slurm-4242/spark-events");
    auto defaults = render_configs(plan, plan.nodes[0]).spark_defaults;
    EXPECT_THAT(defaults, HasSubstr("spark.eventLog.enabled                   true\n"));
    EXPECT_THAT(defaults, HasSubstr("file:///home/alice/spark-slurm-4242/spark-events\n"));
    EXPECT_THAT(defaults, HasSubstr("spark.eventLog.rolling.enabled           true\n"));
    EXPECT_THAT(defaults, HasSubstr("spark.eventLog.compress                  true\n"));
    EXPECT_THAT(describe_plan(plan), HasSubstr("event logs   /home/alice/spark-slurm-4242/"));

    inputs.options.event_log = false;
    plan = make_plan(inputs);
    EXPECT_TRUE(plan.event_log_dir.empty());
    EXPECT_THAT(render_configs(plan, plan.nodes[0]).spark_defaults,
                Not(HasSubstr("spark.eventLog")));
    EXPECT_THAT(describe_plan(plan), HasSubstr("off (--no-event-log)"));
}

TEST(Plan, DiskBecomesTheReservedRest) {
    auto inputs = inputs_for(2);
    inputs.options.disk = 100 * kGiB;
    auto plan = make_plan(inputs);
    EXPECT_EQ(plan.nodes[1].datanode_reserved, 400 * kGiB);
}

TEST(Plan, ReplicationIsAtMostThree) { EXPECT_EQ(make_plan(inputs_for(10)).replication, 3u); }

TEST(Plan, JsonRoundTripKeepsEverything) {
    auto plan = make_plan(inputs_for(3));
    auto copy = plan_from_json(plan_to_json(plan, SecretHandling::Fingerprint));
    // All but the secrets, which the ranks read from the job dir (rendezvous/job_secrets.hpp).
    copy.secret = plan.secret;
    EXPECT_EQ(plan_to_json(copy, SecretHandling::Fingerprint),
              plan_to_json(plan, SecretHandling::Fingerprint));
    // What the leader's check found in an image travels with it.
    plan.image.spark_home = "/opt/spark";
    plan.image.hadoop_home = "/opt/hadoop";
    plan.image.spark_jars = "4711 2048";
    plan.image.hdfs_jars_first = true;
    plan.image.archives = {"/opt/spark-slurm-cds/spark-master.jsa"};
    copy = plan_from_json(plan_to_json(plan, SecretHandling::Fingerprint));
    EXPECT_EQ(copy.image.spark_home, "/opt/spark");
    EXPECT_EQ(copy.image.hadoop_home, "/opt/hadoop");
    EXPECT_EQ(copy.image.spark_jars, "4711 2048");
    EXPECT_TRUE(copy.image.hdfs_jars_first);
    EXPECT_EQ(copy.image.archives, plan.image.archives);
}

// The field lists in plan_json.cpp are the wire format between ranks and of `plan --json`: a
// renamed or dropped member must show here.
TEST(Plan, JsonFieldNamesAreTheWireFormat) {
    auto plan = make_plan(inputs_for(2));
    plan.image.spark_home = "/opt/spark";
    const auto document = plan_to_json(plan, SecretHandling::Fingerprint);
    auto keys = [](const nlohmann::json& object) {
        std::vector<std::string> names;
        for (const auto& [key, value] : object.items()) names.push_back(key);
        return names;
    };
    EXPECT_EQ(keys(document), (std::vector<std::string>{"checkpoint_dir",
                                                        "connect",
                                                        "connect_url",
                                                        "control_port",
                                                        "event_log_dir",
                                                        "hdfs",
                                                        "hdfs_url",
                                                        "image",
                                                        "interactive",
                                                        "job_dir",
                                                        "job_id",
                                                        "kerberos",
                                                        "leader_address",
                                                        "leader_hostname",
                                                        "log_dir",
                                                        "master_url",
                                                        "master_webui_url",
                                                        "min_workers",
                                                        "namenode_webui_url",
                                                        "nodes",
                                                        "ready_timeout_seconds",
                                                        "recovery_dir",
                                                        "replication",
                                                        "requeueable",
                                                        "restart_count",
                                                        "secret_fingerprint",
                                                        "state_dir",
                                                        "stop_before_end_seconds",
                                                        "user",
                                                        "wire_encryption",
                                                        "worker_cores",
                                                        "worker_count",
                                                        "worker_memory"}));
    EXPECT_EQ(keys(document.at("image")),
              (std::vector<std::string>{"archives", "hadoop_home", "hadoop_jars", "hdfs_jars_first",
                                        "spark_home", "spark_jars"}));
    EXPECT_EQ(
        keys(document.at("nodes").at(0)),
        (std::vector<std::string>{"address", "conf_dir", "datanode_dir", "datanode_reserved",
                                  "detected_cpus", "detected_memory", "hostname", "namenode_dir",
                                  "ports", "rank", "role", "spark_local_dir", "spark_worker_dir",
                                  "tmp_dir", "work_dir", "worker_cores", "worker_memory"}));
    EXPECT_EQ(keys(report_to_json(inputs_for(1).nodes[0])),
              (std::vector<std::string>{"address", "cpus", "driver_python", "executor_python",
                                        "hostname", "memory", "missing_binds", "ports", "problem",
                                        "rank", "scratch_capacity", "work_dir"}));
}

// The JSON is also what the rendezvous broadcasts over the network (issue 27).
TEST(Plan, JsonCarriesFingerprintsNeverTheSecretOrTheToken) {
    auto inputs = inputs_for(3);
    inputs.options.connect = true;
    inputs.connect_token = "0123456789abcdef0123456789abcdef-TOKEN";
    auto plan = make_plan(inputs);
    ASSERT_EQ(plan.connect_token, inputs.connect_token);
    const auto document = plan_to_json(plan, SecretHandling::Fingerprint);
    const std::string text = document.dump();
    EXPECT_EQ(text.find(plan.secret), std::string::npos);
    EXPECT_EQ(text.find(plan.connect_token), std::string::npos);
    EXPECT_EQ(document.at("secret_fingerprint"), secret_fingerprint(plan.secret));
    EXPECT_EQ(document.at("connect_token_fingerprint"), secret_fingerprint(plan.connect_token));
    const Plan received = plan_from_json(document);
    EXPECT_EQ(received.secret, "");
    EXPECT_EQ(received.connect_token, "");
    EXPECT_FALSE(plan_to_json(make_plan(inputs_for(3)), SecretHandling::Fingerprint)
                     .contains("connect_token_fingerprint"));
}

TEST(Plan, FingerprintIsATruncatedSha256) {
    // SHA-256("spark-slurm secret fingerprint v1\n" "secret"), first 16 bytes (python3 hashlib).
    EXPECT_EQ(secret_fingerprint("secret"), "792453a87b991ca3458407c5738c131c");
    EXPECT_EQ(secret_fingerprint("secret").size(), 32u);
    EXPECT_NE(secret_fingerprint("secret"), secret_fingerprint("secreT"));
    EXPECT_NE(secret_fingerprint(""), secret_fingerprint("secret"));
}

TEST(Plan, PrintedPlansCarryAFingerprintNotTheSecret) {
    auto plan = make_plan(inputs_for(3));
    auto printed = plan_to_json(plan, SecretHandling::Fingerprint).dump();
    EXPECT_EQ(printed.find(plan.secret), std::string::npos);
    EXPECT_THAT(printed, HasSubstr(secret_fingerprint(plan.secret)));
    EXPECT_EQ(describe_plan(plan).find(plan.secret), std::string::npos);
}

TEST(Plan, StreamedJsonIsTheDocumentsText) {
    auto plan = make_plan(inputs_for(5));
    plan.job_dir = "/shared/a \"quoted\" \\ dir";
    auto document = plan_to_json(plan, SecretHandling::Fingerprint);
    document["rank"] = 4;
    std::ostringstream streamed;
    write_plan_json(streamed, plan, SecretHandling::Fingerprint, {{"rank", 4}});
    EXPECT_EQ(streamed.str(), document.dump());
}

TEST(Plan, StreamedJsonOfNoNodesIsValid) {
    Plan plan;
    std::ostringstream streamed;
    write_plan_json(streamed, plan, SecretHandling::Fingerprint);
    EXPECT_EQ(streamed.str(), plan_to_json(plan, SecretHandling::Fingerprint).dump());
}

TEST(Plan, ReportRoundTrip) {
    auto report = inputs_for(1).nodes[0];
    report.problem = "broken";
    report.missing_binds = {"/data (--bind)", "/site (APPTAINER_BIND)"};
    report.driver_python = {"--python /v/bin/python", true, "3.11.2", ""};
    report.executor_python = {"PYSPARK_PYTHON=/p", true, "", "not found"};
    EXPECT_EQ(report_from_json(report_to_json(report)), report);
}

TEST(Plan, AReportWithoutTheNodeChecksIsRead) {
    auto json = report_to_json(inputs_for(1).nodes[0]);
    for (const char* field : {"missing_binds", "driver_python", "executor_python"})
        json.erase(field);
    EXPECT_EQ(report_from_json(json), inputs_for(1).nodes[0]);
}

TEST(Plan, ABindSourceMissingOnANodeNamesTheNode) {
    auto inputs = inputs_for(3);
    inputs.nodes[2].missing_binds = {"/scratch/data (--bind)"};
    auto message = rejection(inputs);
    EXPECT_THAT(message,
                HasSubstr("the bind source /scratch/data (--bind) does not exist on cn3;"));
    EXPECT_THAT(message, HasSubstr("create it there"));
    inputs.nodes[0].missing_binds = {"/scratch/data (--bind)", "/other (--bind)"};
    EXPECT_THAT(rejection(inputs), HasSubstr("does not exist on cn1 and cn3 (1 more"));
}

TEST(Plan, AnIdleNodeNeedsNoBinds) {
    auto inputs = inputs_for(3);
    inputs.options.workers = 1;
    inputs.nodes[2].missing_binds = {"/scratch/data (--bind)"};
    EXPECT_EQ(make_plan(inputs).nodes[2].role, Role::Idle);
}

PythonReport python(const std::string& version, const std::string& error = "") {
    return {"--python /shared/venv/bin/python", true, version, error};
}

TEST(Plan, ExecutorsWithTheDriversMinorVersionPass) {
    auto inputs = inputs_for(3);
    for (auto& node : inputs.nodes) node.driver_python = node.executor_python = python("3.11.2");
    inputs.nodes[2].executor_python = python("3.11.9");
    EXPECT_NO_THROW(make_plan(inputs));
}

TEST(Plan, AnExecutorPythonOfAnotherMinorVersionNamesTheNode) {
    auto inputs = inputs_for(3);
    for (auto& node : inputs.nodes) node.driver_python = node.executor_python = python("3.11.2");
    inputs.nodes[2].executor_python = python("3.10.12");
    auto message = rejection(inputs);
    EXPECT_THAT(message, HasSubstr("the Python (--python /shared/venv/bin/python) is 3.10.12 on "
                                   "cn3 but 3.11.2 on cn1, where the driver runs;"));
    EXPECT_THAT(message, HasSubstr("same minor version"));
    inputs.nodes[2].executor_python.what = "PYSPARK_PYTHON=/p";
    inputs.nodes[1].executor_python = inputs.nodes[2].executor_python;
    EXPECT_THAT(rejection(inputs),
                HasSubstr("the executors' Python (PYSPARK_PYTHON=/p) is 3.10.12 on cn2 and cn3, "
                          "but the driver's (--python /shared/venv/bin/python) is 3.11.2 on cn1;"));
}

TEST(Plan, AChosenPythonThatDoesNotRunNamesTheNode) {
    auto inputs = inputs_for(3);
    for (auto& node : inputs.nodes) node.driver_python = node.executor_python = python("3.11.2");
    inputs.nodes[1].executor_python = python("", "sh: 1: exec: /shared/venv/bin/python: not found");
    EXPECT_THAT(rejection(inputs),
                HasSubstr("the executors' Python (--python /shared/venv/bin/python) does not run "
                          "on cn2: sh: 1: exec: /shared/venv/bin/python: not found;"));
    inputs.nodes[1].executor_python = python("3.11.2");
    inputs.nodes[0].driver_python = python("", "not found");
    EXPECT_THAT(rejection(inputs), HasSubstr("the driver's Python"));
}

TEST(Plan, ADefaultPythonThatDoesNotRunIsNoError) {
    auto inputs = inputs_for(3);
    for (auto& node : inputs.nodes) node.driver_python = {"python3", false, "3.11.2", ""};
    inputs.nodes[1].executor_python = {"python3", false, "", "not found"};
    EXPECT_NO_THROW(make_plan(inputs));
}

TEST(Plan, TheLeadersExecutorsCountWhenItRunsAWorker) {
    auto inputs = inputs_for(2);
    inputs.options.worker_on_leader = true;
    inputs.nodes[0].driver_python = python("3.11.2");
    inputs.nodes[0].executor_python = python("3.9.2");
    EXPECT_THAT(rejection(inputs), HasSubstr("is 3.9.2 on cn1 but 3.11.2 on cn1"));
}

TEST(Plan, WithoutHdfsThePlanSaysWhereDataLives) {
    auto inputs = inputs_for(3);
    inputs.options.hdfs = false;
    EXPECT_THAT(describe_plan(make_plan(inputs)),
                HasSubstr("hdfs         off (--no-hdfs): read and write file:// paths"));
}

TEST(Plan, LargePlansStayReadable) {
    auto plan = make_plan(inputs_for(1000));
    auto text = describe_plan(plan);
    EXPECT_THAT(text, HasSubstr("980 more node(s)"));
    EXPECT_THAT(text, HasSubstr("cn1000"));
}

}  // namespace
}  // namespace spark_slurm
