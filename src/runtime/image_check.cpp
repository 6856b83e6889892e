#include "runtime/image_check.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "common/image_installs.hpp"
#include "supervisor/process.hpp"

namespace spark_slurm {

namespace {

// Fixed scripts, no user input in them: the image's own variables decide. A line "problem: X"
// is what the image lacks; "jar: NAME" the jars that name the versions, and Kerby's KDC jar;
// "home: DIR" where the install is; "cds: hdfs-jars-first" an `hdfs` that can put the jars first;
// "jars: SUM" a checksum of the jars as the container sees them: names in directory order (the
// order in which the JVM expands "DIR/*": a bind over the install, e.g. a host venv holding
// pyspark, changes it, and an archive is refused for a class path in another order), sizes
// and mtimes; "archive: PATH" a class archive built with the image
// (singularity/train-class-archives), listed only when the jars it was written for are the
// ones the container sees.
constexpr const char* kSparkCheck =
    "command -v java >/dev/null || echo 'problem: no java on PATH'; "
    "echo \"home: $SPARK_HOME\"; "
    "sum=$( (ls -U \"$SPARK_HOME/jars\"; stat -L -c '%n %s %Y' \"$SPARK_HOME\"/jars/*.jar) "
    "2>/dev/null | cksum); "
    "echo \"jars: $sum\"; "
    "test \"$(cat /opt/spark-slurm-cds/spark.jars 2>/dev/null)\" = \"$sum\" && "
    "for a in /opt/spark-slurm-cds/spark-*.jsa; do test -f \"$a\" && echo \"archive: $a\"; done; "
    "test -x \"$SPARK_HOME/bin/spark-class\" || "
    "echo \"problem: SPARK_HOME ('$SPARK_HOME') has no bin/spark-class\"; "
    "for jar in \"$SPARK_HOME\"/jars/spark-core_*.jar; do "
    "test -e \"$jar\" && echo \"jar: ${jar##*/}\"; done; true";
constexpr const char* kHadoopCheck =
    "command -v java >/dev/null || echo 'problem: no java on PATH'; "
    "echo \"home: $HADOOP_HOME\"; "
    "sum=$( (ls -U \"$HADOOP_HOME/share/hadoop/lib\"; stat -L -c '%n %s %Y' "
    "\"$HADOOP_HOME\"/share/hadoop/lib/*.jar \"$HADOOP_HOME\"/share/hadoop/*/*.jar) 2>/dev/null | "
    "cksum); "
    "echo \"jars: $sum\"; "
    "test \"$(cat /opt/spark-slurm-cds/hadoop.jars 2>/dev/null)\" = \"$sum\" && "
    "for a in /opt/spark-slurm-cds/hdfs-*.jsa; do test -f \"$a\" && echo \"archive: $a\"; done; "
    "grep -qF \"$1\" \"$HADOOP_HOME/bin/hdfs\" 2>/dev/null && echo 'cds: hdfs-jars-first'; "
    "test -x \"$HADOOP_HOME/bin/hdfs\" || "
    "echo \"problem: HADOOP_HOME ('$HADOOP_HOME') has no bin/hdfs\"; "
    "for jar in \"$HADOOP_HOME\"/share/hadoop/*/hadoop-common-*.jar "
    "\"$HADOOP_HOME\"/share/hadoop/*/kerb-simplekdc-*.jar "
    "\"$HADOOP_HOME\"/share/hadoop/*/lib/kerb-simplekdc-*.jar; do "
    "test -e \"$jar\" && echo \"jar: ${jar##*/}\"; done; true";

constexpr auto kCheckLimit = std::chrono::seconds(120);

struct ScriptAnswer {
    std::string problem;
    std::vector<std::string> jars;
    std::string home;
    std::string jars_checksum;
    bool hdfs_jars_first = false;
    std::vector<std::string> archives;
};

ScriptAnswer read_answer(const std::string& output) {
    ScriptAnswer answer;
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.starts_with("jar: ")) {
            answer.jars.push_back(line.substr(5));
        } else if (line.starts_with("home: ")) {
            answer.home = line.substr(6);
        } else if (line.starts_with("jars: ")) {
            answer.jars_checksum = line.substr(6);
        } else if (line.starts_with("archive: ")) {
            answer.archives.push_back(line.substr(9));
        } else if (line == "cds: hdfs-jars-first") {
            answer.hdfs_jars_first = true;
        } else if (line.starts_with("problem: ")) {
            if (answer.problem.empty()) answer.problem = line.substr(9);
        } else if (answer.problem.empty() && line.find_first_not_of(' ') != std::string::npos) {
            answer.problem = line;  // the runtime's own complaint
        }
    }
    return answer;
}

void inspect_image(const RuntimeSettings& settings, bool hdfs, InstallInspection& inspection) {
    auto runtime = make_runtime(settings);
    struct Check {
        Install install;
        const char* what;
        const char* script;
        const std::string& image;
        std::vector<std::string>& jars;
    };
    std::vector<Check> checks{
        {Install::Spark, "spark", kSparkCheck, settings.spark_image, inspection.spark_jars}};
    if (hdfs) {
        checks.push_back({Install::Hadoop, "hadoop", kHadoopCheck, settings.hadoop_image,
                          inspection.hadoop_jars});
    }
    for (const auto& check : checks) {
        Invocation invocation;
        invocation.install = check.install;
        // The marker travels as an argument ($1), not spliced into the script.
        invocation.command = {"/bin/sh", "-c", check.script, "sh", kHdfsJarsFirstMarker};
        Execution execution = runtime->prepare(invocation);
        CapturedRun run =
            run_captured({execution.argv, execution.environment, execution.working_dir, "", false},
                         fmt::format("the check of {}", check.image), kCheckLimit);
        ScriptAnswer answer = read_answer(run.output);
        check.jars = std::move(answer.jars);
        ImageInstalls& image = inspection.image;
        image.archives.insert(image.archives.end(), answer.archives.begin(), answer.archives.end());
        if (check.install == Install::Spark) {
            image.spark_home = std::move(answer.home);
            image.spark_jars = std::move(answer.jars_checksum);
        } else {
            image.hadoop_home = std::move(answer.home);
            image.hadoop_jars = std::move(answer.jars_checksum);
            image.hdfs_jars_first = answer.hdfs_jars_first;
        }
        if (run.status == 0 && answer.problem.empty()) continue;
        std::string why = !answer.problem.empty() ? answer.problem
                          : run.status            ? describe_wait_status(*run.status)
                                       : fmt::format("no answer within {} s", kCheckLimit.count());
        inspection.problem = fmt::format(
            "spark-slurm run: the image {} does not provide {}: {}; see singularity/README.md for "
            "what an image needs",
            check.image, check.what, why);
        return;
    }
}

}  // namespace

std::vector<std::string> jar_names(const std::string& dir) {
    namespace fs = std::filesystem;
    std::vector<std::string> names;
    std::error_code error;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (it.depth() > 3) it.disable_recursion_pending();
        if (it->path().extension() == ".jar") names.push_back(it->path().filename().string());
    }
    return names;
}

InstallInspection inspect_installs(const RuntimeSettings& settings, bool hdfs) {
    InstallInspection inspection;
    if (settings.kind == RuntimeChoice::None) {
        inspection.spark_where = "SPARK_HOME " + settings.spark_home;
        inspection.spark_jars = jar_names(settings.spark_home + "/jars");
        if (hdfs) {
            inspection.hadoop_where = "HADOOP_HOME " + settings.hadoop_home;
            inspection.hadoop_jars = jar_names(settings.hadoop_home + "/share");
        }
        return inspection;
    }
    inspection.spark_where = "the image " + settings.spark_image;
    inspection.hadoop_where = "the image " + settings.hadoop_image;
    inspect_image(settings, hdfs, inspection);
    return inspection;
}

std::string image_problem(const RuntimeSettings& settings, bool hdfs) {
    if (settings.kind == RuntimeChoice::None) return "";
    return inspect_installs(settings, hdfs).problem;
}

}  // namespace spark_slurm
