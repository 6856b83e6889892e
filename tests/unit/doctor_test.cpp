// `spark-slurm doctor`'s pure part: recorded command outputs → check results, and the lines and
// exit status they make. The commands themselves run in tests/integration/launcher/doctor.sh.
#include <gtest/gtest.h>

#include "doctor/doctor_checks.hpp"
#include "options/options.hpp"

namespace spark_slurm {
namespace {

CapturedRun ran(int status, std::string output) { return {status << 8, std::move(output)}; }

TEST(Doctor, SlurmVersionIsRead) {
    auto result = slurm_version_check(ran(0, "slurm 22.05.8\n"));
    EXPECT_EQ(result.status, CheckStatus::Ok);
    EXPECT_EQ(result.detail, "Slurm 22.05.8");
    auto wiki = slurm_version_check(ran(0, "slurm-wlm 23.11.4\n"));
    EXPECT_EQ(wiki.status, CheckStatus::Ok);
}

TEST(Doctor, MissingScontrolFailsWithAFix) {
    auto result = slurm_version_check({std::nullopt, "scontrol is not on PATH"});
    EXPECT_EQ(result.status, CheckStatus::Fail);
    EXPECT_NE(result.detail.find("install the Slurm client"), std::string::npos);
}

TEST(Doctor, PingNeedsUp) {
    EXPECT_EQ(slurm_ping_check(ran(0, "Slurmctld(primary) at host is UP\n")).status,
              CheckStatus::Ok);
    auto down = slurm_ping_check(ran(1, "Slurmctld(primary) at host is DOWN\n"));
    EXPECT_EQ(down.status, CheckStatus::Fail);
    EXPECT_NE(down.detail.find("exit status 1"), std::string::npos);
}

TEST(Doctor, LibslurmReadsTheJob) {
    JobStatus status;
    status.requeueable = true;
    auto read = libslurm_check(42, status);
    EXPECT_EQ(read.status, CheckStatus::Ok);
    EXPECT_EQ(read.detail, "read job 42 from slurmctld (requeueable: yes)");
    EXPECT_EQ(libslurm_check(42, std::nullopt).status, CheckStatus::Fail);
}

TEST(Doctor, MpiPluginsPmixOkPmi2WarnNeitherFails) {
    const char* slurm22 =
        "MPI plugin types are...\n\tnone\n\tcray_shasta\n\tpmi2\n\tpmix\nspecific pmix plugin "
        "versions available: pmix_v4\n";
    EXPECT_EQ(mpi_plugins_check(ran(0, slurm22)).status, CheckStatus::Ok);
    auto pmi2 = mpi_plugins_check(ran(0, "MPI plugin types are...\n\tnone\n\tpmi2\n"));
    EXPECT_EQ(pmi2.status, CheckStatus::Warn);
    EXPECT_NE(pmi2.detail.find("--mpi=pmi2"), std::string::npos);
    auto neither = mpi_plugins_check(ran(0, "MPI plugin types are...\n\tnone\n\tcray_shasta\n"));
    EXPECT_EQ(neither.status, CheckStatus::Fail);
    EXPECT_NE(neither.detail.find("neither pmix nor pmi2"), std::string::npos);
    EXPECT_EQ(mpi_plugins_check({std::nullopt, ""}).status, CheckStatus::Fail);
}

TEST(Doctor, RequeueSetting) {
    EXPECT_EQ(requeue_check(ran(0, "JobCompType = none\nJobRequeue              = 1\n")).status,
              CheckStatus::Ok);
    auto off = requeue_check(ran(0, "JobRequeue              = 0\n"));
    EXPECT_EQ(off.status, CheckStatus::Warn);
    EXPECT_NE(off.detail.find("--requeue"), std::string::npos);
    EXPECT_EQ(requeue_check(ran(0, "nothing\n")).status, CheckStatus::Warn);
}

TEST(Doctor, RuntimeAndUserNamespaces) {
    auto version = runtime_version_check("apptainer", ran(0, "apptainer version 1.3.4\n"));
    EXPECT_EQ(version.status, CheckStatus::Ok);
    EXPECT_EQ(version.detail, "apptainer version 1.3.4");
    EXPECT_EQ(runtime_version_check("apptainer", ran(127, "")).status, CheckStatus::Fail);
    EXPECT_EQ(user_namespaces_check("15000\n", false).status, CheckStatus::Ok);
    auto none = user_namespaces_check("0\n", false);
    EXPECT_EQ(none.status, CheckStatus::Fail);
    EXPECT_NE(none.detail.find("max_user_namespaces"), std::string::npos);
    EXPECT_EQ(user_namespaces_check("0\n", true).status, CheckStatus::Ok);
    EXPECT_EQ(user_namespaces_check(std::nullopt, false).status, CheckStatus::Warn);
}

TEST(Doctor, HostInstall) {
    auto spark =
        spark_version_check("/opt/spark", "Spark 4.0.5 built for Hadoop 3.4.1\nBuild\n", {});
    EXPECT_EQ(spark.status, CheckStatus::Ok);
    EXPECT_EQ(spark.detail, "Spark 4.0.5 built for Hadoop 3.4.1 (/opt/spark)");
    auto from_jar = spark_version_check("/opt/spark", std::nullopt,
                                        {"scala-library-2.13.16.jar", "spark-core_2.13-4.0.5.jar"});
    EXPECT_EQ(from_jar.status, CheckStatus::Ok);
    EXPECT_EQ(from_jar.detail, "Spark 4.0.5 (/opt/spark)");
    EXPECT_EQ(spark_version_check("/opt/spark", std::nullopt, {}).status, CheckStatus::Warn);
    auto hadoop = hadoop_version_check(
        "/opt/hadoop", {"hadoop-common-3.4.1-tests.jar", "hadoop-common-3.4.1.jar"});
    EXPECT_EQ(hadoop.status, CheckStatus::Ok);
    EXPECT_EQ(hadoop.detail, "Hadoop 3.4.1 (/opt/hadoop)");
    EXPECT_EQ(hadoop_version_check("/opt/hadoop", {"guava-27.jar"}).status, CheckStatus::Warn);
    auto old_spark = spark_version_check("/opt/spark", std::nullopt, {"spark-core_2.12-3.4.4.jar"});
    EXPECT_EQ(old_spark.status, CheckStatus::Fail);
    EXPECT_NE(old_spark.detail.find("Spark 3.4.4"), std::string::npos);
    EXPECT_EQ(spark_version_check("/opt/spark", std::nullopt, {"spark-core_2.12-3.5.9.jar"}).status,
              CheckStatus::Ok);
    EXPECT_EQ(hadoop_version_check("/opt/hadoop", {"hadoop-common-2.10.2.jar"}).status,
              CheckStatus::Fail);
    const std::vector<std::string> with_kerby{"hadoop-common-3.4.1.jar",
                                              "kerb-simplekdc-2.0.3.jar"};
    EXPECT_EQ(
        kdc_check("/opt/hadoop", with_kerby, "/p/libexec/spark-slurm/spark-slurm-kdc", true).status,
        CheckStatus::Ok);
    auto no_kerby = kdc_check("/opt/hadoop", {"kerb-core-2.0.3.jar"}, "/p/kdc", true);
    EXPECT_EQ(no_kerby.status, CheckStatus::Fail);
    EXPECT_NE(no_kerby.detail.find("--hdfs-auth none"), std::string::npos);
    EXPECT_EQ(kdc_check("/opt/hadoop", with_kerby, "/p/kdc", false).status, CheckStatus::Fail);
    auto java17 = java_version_check(
        ran(0, "openjdk version \"17.0.13\" 2024-10-15\nOpenJDK Runtime Environment\n"));
    EXPECT_EQ(java17.status, CheckStatus::Ok);
    EXPECT_EQ(java17.detail, "Java 17.0.13");
    auto java11 = java_version_check(ran(0, "openjdk version \"11.0.2\" 2019-01-15\n"));
    EXPECT_EQ(java11.status, CheckStatus::Fail);
    EXPECT_NE(java11.detail.find("older than 17"), std::string::npos);
}

TEST(Doctor, PortsAndScratch) {
    EXPECT_EQ(ports_check({}).status, CheckStatus::Ok);
    auto taken = ports_check({8080, 9870});
    EXPECT_EQ(taken.status, CheckStatus::Warn);
    EXPECT_NE(taken.detail.find("8080, 9870"), std::string::npos);
    EXPECT_EQ(scratch_check("/tmp", true, 100ull << 30).status, CheckStatus::Ok);
    EXPECT_EQ(scratch_check("/tmp", true, 1ull << 30).status, CheckStatus::Warn);
    auto readonly = scratch_check("/ro", false, 100ull << 30);
    EXPECT_EQ(readonly.status, CheckStatus::Fail);
    EXPECT_NE(readonly.detail.find("--work-dir"), std::string::npos);
}

TEST(Doctor, LinesAndExitCode) {
    CheckResult good{"slurm", CheckStatus::Ok, "Slurm 22.05.8"};
    CheckResult soso{"ports", CheckStatus::Warn, "8080 in use"};
    CheckResult bad{"mpi", CheckStatus::Fail, "no pmix"};
    EXPECT_EQ(format_check(good), "ok    slurm        Slurm 22.05.8");
    EXPECT_EQ(format_check(bad), "FAIL  mpi          no pmix");
    EXPECT_EQ(doctor_exit_code({good, soso}), 0);
    EXPECT_EQ(doctor_exit_code({good, soso, bad}), 1);
}

TEST(Doctor, OptionsAreTheSharedOnes) {
    auto parsed = parse_command_line({"doctor", "--runtime", "none", "--work-dir", "/scratch"}, {});
    EXPECT_EQ(parsed.options.command, Command::Doctor);
    EXPECT_EQ(parsed.options.runtime, RuntimeChoice::None);
    EXPECT_EQ(parsed.options.work_dir, "/scratch");
    EXPECT_THROW(parse_command_line({"doctor", "--workers", "3"}, {}), std::exception);
    EXPECT_THROW(parse_command_line({"doctor", "--", "true"}, {}), std::exception);
    auto help = parse_command_line({"doctor", "--help"}, {});
    EXPECT_NE(help.text.find("spark-slurm doctor [OPTIONS]"), std::string::npos);
}

}  // namespace
}  // namespace spark_slurm
