// Class-data sharing archives: the key, the names, the JVM options per daemon, the checks of an
// archive found in the cache, and one node's cache going from "write one" to "use it".
#include "cds/cds.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace spark_slurm {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

CdsKeyInputs inputs() {
    return {CdsTarget::SparkMaster, "/usr/lib/jvm/17\nJAVA_VERSION=\"17.0.15\"\n",
            "/opt/spark/jars/*", "/opt/spark/jars/spark-core_2.13-4.0.5.jar 123 456\n", ""};
}

Invocation master_invocation(const std::string& tmp) {
    Invocation invocation;
    invocation.install = Install::Spark;
    invocation.tool = "spark-class";
    invocation.args = {"org.apache.spark.deploy.master.Master", "--host", "10.0.0.1"};
    invocation.environment = {{"TMPDIR", tmp}};
    return invocation;
}

TEST(Cds, KeyIsSixteenHexDigitsAndChangesWithEveryInput) {
    const std::string key = cds_key(inputs());
    EXPECT_EQ(key.size(), 16u);
    EXPECT_EQ(key, cds_key(inputs()));
    auto other = inputs();
    other.target = CdsTarget::SparkWorker;
    EXPECT_NE(cds_key(other), key);
    other = inputs();
    other.java += "JAVA_VERSION=\"17.0.16\"\n";
    EXPECT_NE(cds_key(other), key);
    other = inputs();
    other.jars = "/opt/spark/jars/spark-core_2.13-4.0.6.jar 123 456\n";
    EXPECT_NE(cds_key(other), key);
    other = inputs();
    other.class_path = "/opt/spark2/jars/*";
    EXPECT_NE(cds_key(other), key);
    other = inputs();
    other.program = "class SparkSlurmKdc { /* another */ }";
    EXPECT_NE(cds_key(other), key);
    // Fields cannot shift into one another.
    other = inputs();
    other.class_path = inputs().java + inputs().class_path;
    other.java = "";
    EXPECT_NE(cds_key(other), key);
}

TEST(Cds, ArchiveNamesCarryDaemonKeyAndSize) {
    const std::string name = cds_archive_name(CdsTarget::SparkWorker, "0123456789abcdef", 42);
    EXPECT_EQ(name, "spark-worker-0123456789abcdef-42.jsa");
    auto parsed = parse_cds_archive_name(name);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->target, CdsTarget::SparkWorker);
    EXPECT_EQ(parsed->key, "0123456789abcdef");
    EXPECT_EQ(parsed->size, 42u);
    for (CdsTarget target : kCdsTargets) {
        auto each = parse_cds_archive_name(cds_archive_name(target, "0123456789abcdef", 7));
        ASSERT_TRUE(each) << cds_file_stem(target);
        EXPECT_EQ(each->target, target);
    }
    for (const char* junk :
         {"spark-worker-0123456789abcdef.tmp.node1.77", "spark-master-0123456789abcdef-.jsa",
          "spark-master-0123456789abcdeg-1.jsa", "spark-master-0123456789abcdef-1x.jsa",
          "hdfs-journalnode-0123456789abcdef-1.jsa", "spark-master-0123456789abcdef-1.jsa.old"})
        EXPECT_FALSE(parse_cds_archive_name(junk)) << junk;
}

Invocation hdfs_invocation(std::vector<std::string> args, const std::string& tmp = "/t") {
    Invocation invocation;
    invocation.install = Install::Hadoop;
    invocation.tool = "hdfs";
    invocation.args = std::move(args);
    invocation.environment = {{"TMPDIR", tmp}};
    return invocation;
}

Invocation kdc_invocation(const std::string& tmp = "/t") {
    Invocation invocation;
    invocation.install = Install::Hadoop;
    invocation.command = {"/opt/spark-slurm/libexec/spark-slurm/spark-slurm-kdc",
                          "JOB1.SPARK-SLURM"};
    invocation.environment = {{"TMPDIR", tmp}, {"SPARK_SLURM_KDC_OPTS", "-Xmx256m"}};
    return invocation;
}

TEST(Cds, TheDaemonsAndTheKdcHaveArchivesAndTheFormatMapsTheNamenodes) {
    EXPECT_EQ(cds_use(master_invocation("/t")), (CdsUse{CdsTarget::SparkMaster}));
    Invocation worker = master_invocation("/t");
    worker.args.front() = "org.apache.spark.deploy.worker.Worker";
    EXPECT_EQ(cds_use(worker), (CdsUse{CdsTarget::SparkWorker}));
    EXPECT_EQ(cds_use(hdfs_invocation({"namenode"})), (CdsUse{CdsTarget::Namenode}));
    EXPECT_EQ(cds_use(hdfs_invocation({"datanode"})), (CdsUse{CdsTarget::Datanode}));
    EXPECT_EQ(cds_use(hdfs_invocation({"namenode", "-format", "-nonInteractive"})),
              (CdsUse{CdsTarget::Namenode, CdsHelper::Format}));
    EXPECT_EQ(cds_use(kdc_invocation()), (CdsUse{CdsTarget::Kdc}));
    Invocation other_program = kdc_invocation();
    other_program.command.front() = "/usr/bin/spark-slurm-kdc-not";
    EXPECT_FALSE(cds_use(other_program));
    EXPECT_EQ(cds_use(hdfs_invocation({"dfsadmin", "-report", "-live"})),
              (CdsUse{CdsTarget::Namenode, CdsHelper::Client}));
    EXPECT_EQ(cds_use(hdfs_invocation({"fetchdt", "--renewer", "u", "/t/token"})),
              (CdsUse{CdsTarget::Namenode, CdsHelper::Client}));
    // Other commands and anything else: none.
    EXPECT_FALSE(cds_use(hdfs_invocation({"dfs", "-ls", "/"})));
    EXPECT_FALSE(cds_use(hdfs_invocation({"namenode", "-rollback"})));
    EXPECT_FALSE(cds_use(hdfs_invocation({})));
    Invocation spark_hdfs = hdfs_invocation({"namenode"});
    spark_hdfs.install = Install::Spark;
    EXPECT_FALSE(cds_use(spark_hdfs));
    Invocation submit;
    submit.tool = "spark-submit";
    submit.args = {"--class", "org.apache.spark.sql.connect.service.SparkConnectServer"};
    EXPECT_FALSE(cds_use(submit));
    Invocation driver;
    driver.command = {"spark-class", "org.apache.spark.deploy.master.Master"};
    EXPECT_FALSE(cds_use(driver));
}

TEST(Cds, OptionsMapOrWriteAnArchive) {
    auto use = cds_jvm_options(CdsMode::Use, "/c/a.jsa", "/t/cds.log");
    EXPECT_THAT(use, Contains("-XX:SharedArchiveFile=/c/a.jsa"));
    EXPECT_THAT(use, Contains("-Xshare:auto"));
    EXPECT_THAT(use, Contains("-XX:+VerifySharedSpaces"));
    EXPECT_THAT(use, Contains("-Xlog:cds=warning,cds+dynamic=warning:file=/t/cds.log"));
    // ... and nowhere else: the driver's stdout is the user's.
    EXPECT_THAT(use, Contains("-Xlog:cds=off"));
    EXPECT_THAT(use, Contains("-Xlog:cds+dynamic=off"));
    EXPECT_THAT(use, Not(Contains(HasSubstr("ArchiveClassesAtExit"))));
    auto dump = cds_jvm_options(CdsMode::Dump, "/c/a.tmp", "/t/cds.log");
    EXPECT_THAT(dump, Contains("-XX:ArchiveClassesAtExit=/c/a.tmp"));
    EXPECT_THAT(dump, Contains("-Xlog:cds+dynamic=info:file=/t/cds.log"));
    EXPECT_THAT(dump, Not(Contains(HasSubstr("SharedArchiveFile"))));
}

TEST(Cds, OptionsGoIntoEachDaemonsOwnVariableWithTheJarsFirst) {
    Invocation master = master_invocation("/t");
    master.environment["SPARK_MASTER_OPTS"] = "-Dmine=1";
    apply_cds(master, {CdsTarget::SparkMaster}, {"-Xshare:auto", "-XX:+VerifySharedSpaces"},
              "/opt/spark");
    EXPECT_EQ(master.environment["SPARK_MASTER_OPTS"],
              "-Dmine=1 -Xshare:auto -XX:+VerifySharedSpaces");
    EXPECT_EQ(master.environment["SPARK_DAEMON_CLASSPATH"], "/opt/spark/jars/*");
    EXPECT_FALSE(master.environment.contains("SPARK_WORKER_OPTS"));
    Invocation worker = master_invocation("/t");
    apply_cds(worker, {CdsTarget::SparkWorker}, {"-Xshare:auto"}, "/opt/spark");
    EXPECT_EQ(worker.environment["SPARK_WORKER_OPTS"], "-Xshare:auto");

    Invocation format = hdfs_invocation({"namenode", "-format"});
    format.environment["HDFS_NAMENODE_OPTS"] = "-Xmx256m";
    apply_cds(format, {CdsTarget::Namenode, CdsHelper::Format}, {"-Xshare:auto"}, "/opt/hadoop");
    EXPECT_EQ(format.environment["HDFS_NAMENODE_OPTS"], "-Xmx256m -Xshare:auto");
    EXPECT_EQ(format.environment["HADOOP_CLASSPATH"], "/opt/hadoop/share/hadoop/lib/*");
    EXPECT_EQ(format.environment["HADOOP_USER_CLASSPATH_FIRST"], "true");
    EXPECT_FALSE(format.environment.contains("SPARK_DAEMON_CLASSPATH"));
    Invocation datanode = hdfs_invocation({"datanode"});
    apply_cds(datanode, {CdsTarget::Datanode}, {"-Xshare:auto"}, "/opt/hadoop");
    EXPECT_EQ(datanode.environment["HDFS_DATANODE_OPTS"], "-Xshare:auto");
    EXPECT_FALSE(datanode.environment.contains("HDFS_NAMENODE_OPTS"));
    Invocation dfsadmin = hdfs_invocation({"dfsadmin", "-report"});
    dfsadmin.environment["HADOOP_CLIENT_OPTS"] = "-XX:-UsePerfData";
    apply_cds(dfsadmin, {CdsTarget::Namenode, CdsHelper::Client}, {"-Xshare:auto"}, "/opt/hadoop");
    EXPECT_EQ(dfsadmin.environment["HADOOP_CLIENT_OPTS"], "-XX:-UsePerfData -Xshare:auto");
    EXPECT_FALSE(dfsadmin.environment.contains("HDFS_NAMENODE_OPTS"));
}

TEST(Cds, DriverAndExecutorsGetTheJarsFirstAndTheArchiveThroughSparkDefaults) {
    using Setting = std::pair<std::string, std::string>;
    const SparkSettings use = cds_spark_app_settings(CdsMode::Use, "/opt/spark",
                                                     "/c/spark-app-k-1.jsa", "/t/cds.log", "");
    ASSERT_EQ(use.size(), 4u);
    EXPECT_EQ(use[0], (Setting{"spark.driver.extraClassPath", "/opt/spark/jars/*"}));
    EXPECT_EQ(use[2], (Setting{"spark.executor.extraClassPath", "/opt/spark/jars/*"}));
    // "default": the job's own extraJavaOptions come after, not instead.
    EXPECT_EQ(use[1].first, "spark.driver.defaultJavaOptions");
    EXPECT_EQ(use[3].first, "spark.executor.defaultJavaOptions");
    for (const auto& options : {use[1].second, use[3].second}) {
        EXPECT_THAT(options, HasSubstr("-XX:SharedArchiveFile=/c/spark-app-k-1.jsa "));
        EXPECT_THAT(options, Not(HasSubstr("ArchiveClassesAtExit")));
    }
    EXPECT_THAT(use[1].second, HasSubstr(":file=/t/cds.log"));
    EXPECT_THAT(use[3].second, HasSubstr(":file=cds.log"));  // each executor's own directory

    // Without an archive the driver records its classes and nothing changes a class path.
    const SparkSettings record =
        cds_spark_app_settings(CdsMode::Dump, "/opt/spark", "/c/a.tmp", "/t/cds.log", "/t/list");
    EXPECT_EQ(
        record,
        (SparkSettings{{"spark.driver.defaultJavaOptions", "-XX:DumpLoadedClassList=/t/list"}}));
}

TEST(Cds, TheTrainingDumpsWithTheJarsAloneOnItsClassPath) {
    const auto command =
        cds_training_command("/usr/lib/jvm/17/bin/java", "/opt/spark",
                             "/p/share/spark-slurm/cds/SparkSlurmClassTraining.java", "/t/list",
                             "/c/a.tmp", "/t/cds.log");
    EXPECT_EQ(command.front(), "/usr/lib/jvm/17/bin/java");
    EXPECT_THAT(command, Contains("-XX:ArchiveClassesAtExit=/c/a.tmp"));
    EXPECT_THAT(command, Contains("-Xlog:cds+dynamic=info:file=/t/cds.log"));
    const auto cp = std::find(command.begin(), command.end(), "-cp");
    ASSERT_NE(cp, command.end());
    ASSERT_EQ(command.end() - cp, 4);
    EXPECT_EQ(cp[1], "/opt/spark/jars/*");
    EXPECT_EQ(cp[2], "/p/share/spark-slurm/cds/SparkSlurmClassTraining.java");
    EXPECT_EQ(cp[3], "/t/list");
}

TEST(Cds, CacheDirectoryFollowsXdgThenHome) {
    EXPECT_EQ(cds_cache_dir({{"HOME", "/home/a"}}), "/home/a/.cache/spark-slurm/cds");
    EXPECT_EQ(cds_cache_dir({{"HOME", "/home/a"}, {"XDG_CACHE_HOME", "/x"}}), "/x/spark-slurm/cds");
    EXPECT_EQ(cds_cache_dir({{"HOME", "/home/a"}, {"XDG_CACHE_HOME", "rel"}}),
              "/home/a/.cache/spark-slurm/cds");
    EXPECT_EQ(cds_cache_dir({}), "");
}

class CdsFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "spark-slurm-cds-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        fs::create_directories(root_ / "spark/jars");
        fs::create_directories(root_ / "java/lib/server");
        fs::create_directories(root_ / "tmp");
        write(root_ / "spark/jars/spark-core.jar", "jar");
        write(root_ / "java/release", "JAVA_VERSION=\"17.0.15\"\n");
        fs::create_directories(root_ / "hadoop/share/hadoop/lib");
        fs::create_directories(root_ / "hadoop/bin");
        write(root_ / "hadoop/share/hadoop/lib/hadoop-hdfs.jar", "jar");
        write(root_ / "hadoop/bin/hdfs", std::string("#!/bin/bash\n# ") + kHdfsJarsFirstMarker);
        settings_.hadoop_home = (root_ / "hadoop").string();
        settings_.kind = RuntimeChoice::None;
        settings_.spark_home = (root_ / "spark").string();
        settings_.java_home = (root_ / "java").string();
        settings_.inherited = {{"HOME", (root_ / "home").string()}};
        fs::create_directories(root_ / "home");
    }
    void TearDown() override { fs::remove_all(root_); }

    static void write(const fs::path& path, const std::string& text) {
        std::ofstream(path, std::ios::binary) << text;
    }
    // The first bytes of a JDK 17 dynamic archive (0xf00baba8, little-endian), then anything.
    static std::string archive_bytes() { return std::string("\xa8\xab\x0b\xf0", 4) + "classes"; }
    fs::path cache() const { return root_ / "home/.cache/spark-slurm/cds"; }
    std::string tmp() const { return (root_ / "tmp").string(); }
    std::vector<fs::path> archives() const {
        std::vector<fs::path> found;
        for (const auto& file : fs::directory_iterator(cache()))
            if (file.path().extension() == ".jsa") found.push_back(file.path());
        return found;
    }
    static std::string option_with(const Invocation& invocation, const std::string& prefix,
                                   const std::string& variable = "SPARK_MASTER_OPTS") {
        auto found = invocation.environment.find(variable);
        if (found == invocation.environment.end()) return "";
        const std::string& opts = found->second;
        auto at = opts.find(prefix);
        if (at == std::string::npos) return "";
        auto end = opts.find(' ', at);
        return opts.substr(at + prefix.size(),
                           end == std::string::npos ? end : end - at - prefix.size());
    }
    // One run of a node: the master starts (and, when told to, writes `bytes` at exit).
    Invocation run_master(const std::optional<std::string>& bytes, const std::string& log_line) {
        auto cache = CdsCache::open(settings_);
        EXPECT_TRUE(cache);
        Invocation prepared = cache->prepare(master_invocation(tmp()));
        if (auto dump = option_with(prepared, "-XX:ArchiveClassesAtExit="); !dump.empty() && bytes)
            write(dump, *bytes);
        write(root_ / "tmp/cds-spark-master.log", log_line);
        cache->finish();
        return prepared;
    }

    // The daemons run in a container of one image (a SIF's bytes do not matter here).
    void use_image() {
        settings_.kind = RuntimeChoice::Apptainer;
        settings_.spark_image = settings_.hadoop_image = (root_ / "image.sif").string();
        write(settings_.spark_image, "sif");
    }

    fs::path root_;
    RuntimeSettings settings_;
};

TEST_F(CdsFiles, ArchiveProblemsAreFoundBeforeAJvmMapsThem) {
    const auto path = (root_ / "a.jsa").string();
    EXPECT_THAT(cds_archive_problem(path, 11, ::geteuid()), HasSubstr("No such file"));
    write(path, archive_bytes());
    EXPECT_EQ(cds_archive_problem(path, 11, ::geteuid()), "");
    EXPECT_THAT(cds_archive_problem(path, 12, ::geteuid()), HasSubstr("truncated"));
    EXPECT_THAT(cds_archive_problem(path, 11, ::geteuid() + 1), HasSubstr("another user"));
    write(path, "not an archive");
    EXPECT_THAT(cds_archive_problem(path, 14, ::geteuid()), HasSubstr("not a dynamic CDS"));
    EXPECT_THAT(cds_archive_problem(root_.string(), 0, ::geteuid()), HasSubstr("regular file"));
}

TEST_F(CdsFiles, FirstRunWritesTheArchiveTheSecondMapsIt) {
    Invocation first = run_master(archive_bytes(), "[info][cds,dynamic] Written dynamic archive\n");
    EXPECT_NE(option_with(first, "-XX:ArchiveClassesAtExit="), "");
    // Stopped by a job that ends, it is not given the time to write it (node_daemons).
    EXPECT_TRUE(first.writes_at_exit);
    // Time to write it at a teardown on a busy machine.
    EXPECT_EQ(first.stop_grace, kCdsHostDumpGrace);
    EXPECT_EQ(first.environment.at("SPARK_DAEMON_CLASSPATH"), settings_.spark_home + "/jars/*");
    EXPECT_EQ(fs::status(cache()).permissions() & fs::perms::all, fs::perms::owner_all);
    ASSERT_EQ(archives().size(), 1u);

    Invocation second = run_master(std::nullopt, "");
    EXPECT_EQ(option_with(second, "-XX:SharedArchiveFile="), archives().front().string());
    EXPECT_EQ(option_with(second, "-XX:ArchiveClassesAtExit="), "");
    EXPECT_FALSE(second.writes_at_exit);
    EXPECT_EQ(second.stop_grace, std::chrono::seconds(0));
}

TEST_F(CdsFiles, TwoJobsThatWroteTheSameArchiveLeaveOne) {
    run_master(archive_bytes(), "Written dynamic archive\n");
    ASSERT_EQ(archives().size(), 1u);
    // The other job's, of the same key, kept while this one's daemon was running.
    const fs::path other = archives().front();
    fs::rename(other, fs::path(other.string() + ".x"));
    auto cache = CdsCache::open(settings_);
    ASSERT_TRUE(cache);
    Invocation prepared = cache->prepare(master_invocation(tmp()));
    fs::rename(fs::path(other.string() + ".x"), other);
    write(option_with(prepared, "-XX:ArchiveClassesAtExit="), archive_bytes() + "longer");
    write(root_ / "tmp/cds-spark-master.log", "Written dynamic archive\n");
    cache->finish();
    ASSERT_EQ(archives().size(), 1u);
    EXPECT_EQ(fs::file_size(archives().front()), archive_bytes().size() + 6);
}

TEST_F(CdsFiles, AnArchiveTheJvmDidNotFinishIsNotKept) {
    run_master(archive_bytes().substr(0, 5), "");  // killed while writing: no "Written" line
    EXPECT_TRUE(archives().empty());
    EXPECT_TRUE(fs::is_empty(cache()));
}

TEST_F(CdsFiles, ATruncatedArchiveIsIgnoredAndRewritten) {
    run_master(archive_bytes(), "Written dynamic archive\n");
    ASSERT_EQ(archives().size(), 1u);
    fs::resize_file(archives().front(), 3);
    Invocation next = run_master(archive_bytes(), "Written dynamic archive\n");
    EXPECT_EQ(option_with(next, "-XX:SharedArchiveFile="), "");
    EXPECT_NE(option_with(next, "-XX:ArchiveClassesAtExit="), "");
    ASSERT_EQ(archives().size(), 1u);
    EXPECT_EQ(fs::file_size(archives().front()), archive_bytes().size());
}

TEST_F(CdsFiles, AnArchiveTheJvmRefusedIsRemoved) {
    run_master(archive_bytes(), "Written dynamic archive\n");
    run_master(std::nullopt,
               "[warning][cds,dynamic] Unable to use shared archive. The top archive failed to "
               "load: x.jsa\n");
    EXPECT_TRUE(archives().empty());
}

TEST_F(CdsFiles, ANewSparkGetsItsOwnArchiveAndOnlyTheNewestOthersStay) {
    run_master(archive_bytes(), "Written dynamic archive\n");
    const auto first = archives().front();
    for (int change = 1; change <= 3; ++change) {
        write(root_ / "spark/jars/spark-sql.jar", "another jar" + std::string(change, '!'));
        Invocation next =
            run_master(archive_bytes() + std::string(change, 'x'), "Written dynamic archive\n");
        EXPECT_EQ(option_with(next, "-XX:SharedArchiveFile="), "") << change;
        // its own, and at most two of the installs before it
        EXPECT_EQ(archives().size(), static_cast<std::size_t>(std::min(change + 1, 3))) << change;
    }
    const auto kept = archives();
    EXPECT_EQ(std::count(kept.begin(), kept.end(), first), 0) << "the oldest was not removed";
}

// One run of the leader's HDFS: the format (when asked), then the namenode, which writes `bytes`
// at exit when told to.
struct HdfsRun {
    Invocation format;
    Invocation namenode;
};

TEST_F(CdsFiles, TheNamenodeWritesItsArchiveAndTheNextFormatAndNamenodeMapIt) {
    auto hdfs_run = [this](const std::optional<std::string>& bytes) {
        auto cache = CdsCache::open(settings_);
        EXPECT_TRUE(cache);
        HdfsRun run{cache->prepare(hdfs_invocation({"namenode", "-format"}, tmp())),
                    cache->prepare(hdfs_invocation({"namenode"}, tmp()))};
        auto dump = option_with(run.namenode, "-XX:ArchiveClassesAtExit=", "HDFS_NAMENODE_OPTS");
        if (!dump.empty() && bytes) {
            write(dump, *bytes);
            write(root_ / "tmp/cds-hdfs-namenode.log", "Written dynamic archive\n");
        }
        cache->finish();
        return run;
    };
    HdfsRun first = hdfs_run(archive_bytes());
    // No archive yet: the format runs as it would without CDS; it never writes one.
    EXPECT_EQ(first.format.environment,
              hdfs_invocation({"namenode", "-format"}, tmp()).environment);
    EXPECT_EQ(first.namenode.environment.at("HADOOP_CLASSPATH"),
              settings_.hadoop_home + "/share/hadoop/lib/*");
    ASSERT_EQ(archives().size(), 1u);
    EXPECT_THAT(archives().front().filename().string(), ::testing::StartsWith("hdfs-namenode-"));

    HdfsRun second = hdfs_run(std::nullopt);
    const std::string archive = archives().front().string();
    EXPECT_EQ(option_with(second.format, "-XX:SharedArchiveFile=", "HDFS_NAMENODE_OPTS"), archive);
    EXPECT_EQ(option_with(second.format, "-XX:ArchiveClassesAtExit=", "HDFS_NAMENODE_OPTS"), "");
    EXPECT_EQ(option_with(second.namenode, "-XX:SharedArchiveFile=", "HDFS_NAMENODE_OPTS"),
              archive);
    EXPECT_EQ(second.format.environment.at("HADOOP_USER_CLASSPATH_FIRST"), "true");
    {
        auto cache = CdsCache::open(settings_);
        Invocation report = cache->prepare(hdfs_invocation({"dfsadmin", "-report"}, tmp()));
        EXPECT_EQ(option_with(report, "-XX:SharedArchiveFile=", "HADOOP_CLIENT_OPTS"), archive);
        EXPECT_EQ(option_with(report, "-XX:ArchiveClassesAtExit=", "HADOOP_CLIENT_OPTS"), "");
    }

    // What the format's JVM refused goes, as the daemon's would.
    write(root_ / "tmp/cds-hdfs-namenode-helper.log",
          "[warning][cds,dynamic] Unable to use shared archive. The top archive failed\n");
    auto cache = CdsCache::open(settings_);
    cache->prepare(hdfs_invocation({"namenode", "-format"}, tmp()));
    cache->finish();
    EXPECT_TRUE(archives().empty());
}

TEST_F(CdsFiles, StockHadoopScriptsOrAUsersClassPathGetNoHdfsArchives) {
    write(root_ / "hadoop/bin/hdfs", "#!/bin/bash\n# Apache Hadoop's own\n");
    auto hdfs_cache = CdsCache::open(settings_);
    ASSERT_TRUE(hdfs_cache);
    const Invocation datanode = hdfs_invocation({"datanode"}, tmp());
    EXPECT_EQ(hdfs_cache->prepare(datanode).environment, datanode.environment);
    // The KDC gets no archive either, but still keeps its compiled program.
    Invocation kdc = hdfs_cache->prepare(kdc_invocation(tmp()));
    EXPECT_EQ(kdc.environment.at("SPARK_SLURM_KDC_OPTS"), "-Xmx256m");
    EXPECT_EQ(kdc.environment.at("SPARK_SLURM_KDC_CLASSES"), (cache() / "kdc-classes").string());
    // Spark's daemons still get theirs.
    EXPECT_NE(
        option_with(hdfs_cache->prepare(master_invocation(tmp())), "-XX:ArchiveClassesAtExit="),
        "");

    write(root_ / "hadoop/bin/hdfs", std::string("#!/bin/bash\n# ") + kHdfsJarsFirstMarker);
    settings_.inherited["HADOOP_CLASSPATH"] = "/site/extra.jar";
    hdfs_cache = CdsCache::open(settings_);
    ASSERT_TRUE(hdfs_cache);
    EXPECT_EQ(hdfs_cache->prepare(datanode).environment, datanode.environment);
    settings_.inherited.erase("HADOOP_CLASSPATH");
    hdfs_cache = CdsCache::open(settings_);
    EXPECT_NE(option_with(hdfs_cache->prepare(datanode),
                          "-XX:ArchiveClassesAtExit=", "HDFS_DATANODE_OPTS"),
              "");
}

TEST_F(CdsFiles, TheKdcGetsAnArchiveAndAPrivateDirectoryForItsCompiledProgram) {
    auto kdc_cache = CdsCache::open(settings_);
    ASSERT_TRUE(kdc_cache);
    Invocation kdc = kdc_cache->prepare(kdc_invocation(tmp()));
    const std::string classes = kdc.environment.at("SPARK_SLURM_KDC_CLASSES");
    EXPECT_EQ(classes, (cache() / "kdc-classes").string());
    EXPECT_EQ(fs::status(classes).permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_THAT(
        kdc.environment.at("SPARK_SLURM_KDC_OPTS"),
        ::testing::StartsWith("-Xmx256m -XX:ArchiveClassesAtExit=" + cache().string() + "/kdc-"));
    EXPECT_EQ(kdc.environment.at("HADOOP_CLASSPATH"),
              settings_.hadoop_home + "/share/hadoop/lib/*");
    // A staging directory of a KDC killed while compiling goes once it is a day old.
    const fs::path staging = fs::path(classes) / ".compiling.abc123";
    fs::create_directories(staging / "sub");
    kdc_cache->finish();
    EXPECT_TRUE(fs::exists(staging));
    fs::last_write_time(staging, fs::file_time_type::clock::now() - std::chrono::hours(25));
    kdc_cache->finish();
    EXPECT_FALSE(fs::exists(staging));
}

// The driver records its classes; the training writes the archive from them after the job; the
// next leader gives its driver and executors the archive, and keeps it when a driver refuses it.
TEST_F(CdsFiles, TheDriverRecordsItsClassesAndTheTrainingWritesTheApplicationsArchive) {
    const std::string training_source = (root_ / "SparkSlurmClassTraining.java").string();
    write(training_source, "class SparkSlurmClassTraining {}");
    auto setting = [](const SparkSettings& settings, const std::string& key) {
        for (const auto& [name, value] : settings)
            if (name == key) return value;
        return std::string();
    };

    auto first = CdsCache::open(settings_);
    ASSERT_TRUE(first);
    const std::string list = tmp() + "/cds-spark-app.classlist";
    const SparkSettings recording = first->spark_app_settings(tmp());
    EXPECT_EQ(setting(recording, "spark.driver.defaultJavaOptions"),
              "-XX:DumpLoadedClassList=" + list);
    EXPECT_EQ(setting(recording, "spark.driver.extraClassPath"), "");
    EXPECT_FALSE(first->spark_app_training(training_source, true)) << "the driver recorded nothing";
    write(list, "java/lang/Object\norg/apache/spark/SparkContext$\norg/apache/spark/SparkConf\n");
    EXPECT_FALSE(first->spark_app_training(training_source, true)) << "no SparkContext: half-way";
    write(list, "# header\njava/lang/Object\norg/apache/spark/SparkContext\n");
    EXPECT_FALSE(first->spark_app_training(training_source, false)) << "the driver failed";
    auto training = first->spark_app_training(training_source, true);
    ASSERT_TRUE(training);
    const auto dump = std::find_if(
        training->command.begin(), training->command.end(),
        [](const std::string& arg) { return arg.starts_with("-XX:ArchiveClassesAtExit="); });
    ASSERT_NE(dump, training->command.end());
    EXPECT_EQ(training->command.back(), list);
    write(dump->substr(std::string("-XX:ArchiveClassesAtExit=").size()), archive_bytes());
    write(tmp() + "/cds-spark-app.log", "[info][cds,dynamic] Written dynamic archive\n");
    first->finish();
    ASSERT_EQ(archives().size(), 1u);
    const std::string archive = archives().front().string();
    EXPECT_THAT(archive, HasSubstr("/spark-app-"));

    fs::remove(tmp() + "/cds-spark-app.log");
    auto second = CdsCache::open(settings_);
    ASSERT_TRUE(second);
    const SparkSettings mapping = second->spark_app_settings(tmp());
    EXPECT_THAT(setting(mapping, "spark.driver.defaultJavaOptions"),
                HasSubstr("-XX:SharedArchiveFile=" + archive + " "));
    EXPECT_THAT(setting(mapping, "spark.executor.defaultJavaOptions"),
                HasSubstr("-XX:SharedArchiveFile=" + archive + " "));
    EXPECT_EQ(setting(mapping, "spark.driver.extraClassPath"), settings_.spark_home + "/jars/*");
    EXPECT_FALSE(second->spark_app_training(training_source, true))
        << "an archive is there already";
    // A driver with a class path of its own refuses it: the archive stays for the others.
    write(tmp() + "/cds-spark-app.log",
          "[warning][cds,dynamic] Unable to use shared archive. The top archive failed to load\n");
    second->finish();
    EXPECT_EQ(archives().size(), 1u);
}

TEST_F(CdsFiles, ANewKdcSourceGetsANewKdcArchive) {
    const fs::path source = root_ / "SparkSlurmKdc.java";
    auto dump_name = [&](const std::string& text) {
        write(source, text);
        Invocation kdc = kdc_invocation(tmp());
        kdc.environment["SPARK_SLURM_KDC_SOURCE"] = source.string();
        auto cache = CdsCache::open(settings_);
        EXPECT_TRUE(cache);
        return option_with(cache->prepare(kdc),
                           "-XX:ArchiveClassesAtExit=", "SPARK_SLURM_KDC_OPTS");
    };
    const std::string first = dump_name("class SparkSlurmKdc {}");
    EXPECT_NE(first, "");
    EXPECT_EQ(dump_name("class SparkSlurmKdc {}"), first);
    EXPECT_NE(dump_name("class SparkSlurmKdc { int fixed; }"), first);
}

TEST_F(CdsFiles, ACacheOthersCanWriteIsNotUsed) {
    fs::create_directories(cache());
    fs::permissions(cache(), fs::perms::all);
    EXPECT_FALSE(CdsCache::open(settings_));
}

TEST_F(CdsFiles, AnImagesArchivesAreKeyedByTheImageAndTheCacheIsBoundIn) {
    use_image();
    ImageInstalls image{"/opt/spark", "/opt/hadoop", "1 2", "3 4", true, {}};
    auto prepared = [&](const Invocation& invocation) {
        auto cache = CdsCache::open(settings_, image);
        EXPECT_TRUE(cache);
        if (!cache) return Invocation{};
        return cache->prepare(invocation);
    };
    Invocation master = prepared(master_invocation(tmp()));
    EXPECT_EQ(master.environment.at("SPARK_DAEMON_CLASSPATH"), "/opt/spark/jars/*");
    // Writing the archive at exit through the image's squashfuse mount takes longer.
    EXPECT_EQ(master.stop_grace, kCdsImageDumpGrace);
    EXPECT_THAT(master.binds, Contains(cache().string()));
    const std::string first = option_with(master, "-XX:ArchiveClassesAtExit=");
    EXPECT_NE(first, "");
    // The host's install at those paths plays no part; another image, or other jars in it (a
    // bind over the install), is another key.
    image.spark_jars = "5 6";
    const std::string other_jars =
        option_with(prepared(master_invocation(tmp())), "-XX:ArchiveClassesAtExit=");
    EXPECT_NE(other_jars, first);
    write(settings_.spark_image, "another image");
    const std::string other_image =
        option_with(prepared(master_invocation(tmp())), "-XX:ArchiveClassesAtExit=");
    EXPECT_NE(other_image, first);
    EXPECT_NE(other_image, other_jars);
    Invocation namenode = prepared(hdfs_invocation({"namenode"}, tmp()));
    EXPECT_EQ(namenode.environment.at("HADOOP_CLASSPATH"), "/opt/hadoop/share/hadoop/lib/*");
    EXPECT_THAT(namenode.binds, Contains(cache().string()));
}

TEST_F(CdsFiles, AnImagesHdfsWithoutTheJarsFirstGetsNoArchives) {
    use_image();
    auto images_cache =
        CdsCache::open(settings_, {"/opt/spark", "/opt/hadoop", "1 2", "3 4", false, {}});
    ASSERT_TRUE(images_cache);
    const Invocation datanode = hdfs_invocation({"datanode"}, tmp());
    EXPECT_EQ(images_cache->prepare(datanode).environment, datanode.environment);
    EXPECT_NE(
        option_with(images_cache->prepare(master_invocation(tmp())), "-XX:ArchiveClassesAtExit="),
        "");
}

TEST_F(CdsFiles, ContainersThroughSudoOrWithoutTheImagesSparkGetNoArchives) {
    settings_.kind = RuntimeChoice::Apptainer;
    EXPECT_FALSE(CdsCache::open(settings_, {}));
    settings_.sudo = true;
    EXPECT_FALSE(CdsCache::open(settings_, {"/opt/spark", "/opt/hadoop", "1 2", "3 4", true, {}}));
}

TEST_F(CdsFiles, AnImageWithoutOneOfItsOwnGivesTheDriverAndExecutorsNoArchive) {
    use_image();
    auto images_cache =
        CdsCache::open(settings_, {"/opt/spark", "/opt/hadoop", "1 2", "3 4", true, {}});
    ASSERT_TRUE(images_cache);
    EXPECT_TRUE(images_cache->spark_app_settings(tmp()).empty());
    EXPECT_FALSE(images_cache->spark_app_training((root_ / "Training.java").string(), true));
}

TEST_F(CdsFiles, AnImagesOwnArchivesAreMappedAndACachedOneTakesOverOnceOneIsRefused) {
    use_image();
    const ImageInstalls image{
        "/opt/spark",
        "/opt/hadoop",
        "1 2",
        "3 4",
        true,
        {"/opt/spark-slurm-cds/spark-master.jsa", "/opt/spark-slurm-cds/spark-app.jsa",
         "/opt/spark-slurm-cds/hdfs-namenode.jsa"}};
    auto cache = CdsCache::open(settings_, image);
    ASSERT_TRUE(cache);
    Invocation master = cache->prepare(master_invocation(tmp()));
    EXPECT_EQ(option_with(master, "-XX:SharedArchiveFile="),
              "/opt/spark-slurm-cds/spark-master.jsa");
    EXPECT_EQ(master.environment.at("SPARK_DAEMON_CLASSPATH"), "/opt/spark/jars/*");
    EXPECT_FALSE(master.writes_at_exit);
    EXPECT_EQ(master.stop_grace, std::chrono::seconds(0));
    // The worker has none in this image: it writes its own into the cache.
    Invocation worker = master_invocation(tmp());
    worker.args.front() = "org.apache.spark.deploy.worker.Worker";
    EXPECT_NE(option_with(cache->prepare(worker), "-XX:ArchiveClassesAtExit=", "SPARK_WORKER_OPTS"),
              "");
    // The namenode format maps the namenode's; the driver and executors theirs.
    const Invocation format = cache->prepare(hdfs_invocation({"namenode", "-format"}, tmp()));
    EXPECT_EQ(option_with(format, "-XX:SharedArchiveFile=", "HDFS_NAMENODE_OPTS"),
              "/opt/spark-slurm-cds/hdfs-namenode.jsa");
    const SparkSettings app = cache->spark_app_settings(tmp());
    ASSERT_FALSE(app.empty());
    EXPECT_THAT(app, Contains(Pair("spark.executor.extraClassPath", "/opt/spark/jars/*")));
    EXPECT_THAT(app, Contains(Pair("spark.driver.defaultJavaOptions",
                                   HasSubstr("-XX:SharedArchiveFile=/opt/spark-slurm-cds/"
                                             "spark-app.jsa"))));
    EXPECT_FALSE(cache->spark_app_training((root_ / "Training.java").string(), true));
    // The master's JVM refused it (another Java's base archive, say): it stays where it is,
    // and this user's next job writes one of its own.
    write(root_ / "tmp/cds-spark-master.log",
          "[warning][cds,dynamic] Unable to use shared archive. The top archive failed to load\n");
    cache->finish();
    auto next = CdsCache::open(settings_, image);
    ASSERT_TRUE(next);
    const Invocation next_master = next->prepare(master_invocation(tmp()));
    EXPECT_EQ(option_with(next_master, "-XX:SharedArchiveFile="), "");
    EXPECT_NE(option_with(next_master, "-XX:ArchiveClassesAtExit="), "");
    EXPECT_EQ(option_with(next->prepare(hdfs_invocation({"namenode"}, tmp())),
                          "-XX:SharedArchiveFile=", "HDFS_NAMENODE_OPTS"),
              "/opt/spark-slurm-cds/hdfs-namenode.jsa");
}

}  // namespace
}  // namespace spark_slurm
