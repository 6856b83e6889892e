#include "runtime/image_check.hpp"

#include <fmt/format.h>

#include <chrono>

#include "supervisor/process.hpp"

namespace spark_slurm {

namespace {

// A fixed script, no user input in it: the image's own variables decide.
constexpr const char* kSparkCheck =
    "command -v java >/dev/null || echo 'no java on PATH'; "
    "test -x \"$SPARK_HOME/bin/spark-class\" || "
    "echo \"SPARK_HOME ('$SPARK_HOME') has no bin/spark-class\"";
constexpr const char* kHadoopCheck =
    "command -v java >/dev/null || echo 'no java on PATH'; "
    "test -x \"$HADOOP_HOME/bin/hdfs\" || echo \"HADOOP_HOME ('$HADOOP_HOME') has no bin/hdfs\"";

constexpr auto kCheckLimit = std::chrono::seconds(120);

std::string first_line(const std::string& text) {
    auto start = text.find_first_not_of(" \n");
    if (start == std::string::npos) return "";
    return text.substr(start, text.find('\n', start) - start);
}

}  // namespace

std::string image_problem(const RuntimeSettings& settings, bool hdfs) {
    if (settings.kind == RuntimeChoice::None) return "";
    auto runtime = make_runtime(settings);
    struct Check {
        Install install;
        const char* what;
        const char* script;
        const std::string& image;
    };
    std::vector<Check> checks{{Install::Spark, "spark", kSparkCheck, settings.spark_image}};
    if (hdfs) checks.push_back({Install::Hadoop, "hadoop", kHadoopCheck, settings.hadoop_image});
    for (const auto& check : checks) {
        Invocation invocation;
        invocation.install = check.install;
        invocation.command = {"/bin/sh", "-c", check.script};
        Execution execution = runtime->prepare(invocation);
        CapturedRun run =
            run_captured({execution.argv, execution.environment, execution.working_dir, "", false},
                         fmt::format("the check of {}", check.image), kCheckLimit);
        const std::string said = first_line(run.output);
        if (run.status == 0 && said.empty()) continue;
        std::string why = !said.empty() ? said
                          : run.status  ? describe_wait_status(*run.status)
                                        : fmt::format("no answer within {} s", kCheckLimit.count());
        return fmt::format(
            "spark-slurm run: the image {} does not provide {}: {}; see singularity/README.md for "
            "what an image needs",
            check.image, check.what, why);
    }
    return "";
}

}  // namespace spark_slurm
