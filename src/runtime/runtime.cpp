#include "runtime/runtime.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/errors.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

std::string get(const Environment& environment, const std::string& name) {
    auto it = environment.find(name);
    return it == environment.end() ? "" : it->second;
}

bool executable(const fs::path& path) {
    return ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path);
}

// The host install: the program runs with the user's environment plus what it needs, so that
// whatever a site's modules set (PATH, PYSPARK_PYTHON, LD_LIBRARY_PATH) reaches executors too.
class HostRuntime : public Runtime {
  public:
    explicit HostRuntime(RuntimeSettings settings) : settings_(std::move(settings)) {}
    const char* name() const override { return "none"; }

    Execution prepare(const Invocation& invocation) const override {
        Execution command;
        command.environment = settings_.inherited;
        command.environment["SPARK_HOME"] = settings_.spark_home;
        if (!settings_.hadoop_home.empty())
            command.environment["HADOOP_HOME"] = settings_.hadoop_home;
        if (!settings_.java_home.empty()) command.environment["JAVA_HOME"] = settings_.java_home;
        std::string path = settings_.spark_home + "/bin";
        if (!settings_.hadoop_home.empty()) path += ":" + settings_.hadoop_home + "/bin";
        if (auto old = get(settings_.inherited, "PATH"); !old.empty()) path += ":" + old;
        command.environment["PATH"] = path;
        for (const auto& [name, value] : invocation.environment) command.environment[name] = value;
        if (invocation.command.empty()) {
            const std::string& home =
                invocation.install == Install::Spark ? settings_.spark_home : settings_.hadoop_home;
            command.argv.push_back(home + "/bin/" + invocation.tool);
        } else {
            command.argv = invocation.command;
        }
        command.argv.insert(command.argv.end(), invocation.args.begin(), invocation.args.end());
        command.working_dir = invocation.working_dir;
        return command;
    }

  private:
    RuntimeSettings settings_;
};

// apptainer/singularity exec --cleanenv: the image's own environment (JAVA_HOME, SPARK_HOME,
// HADOOP_HOME, PATH; see singularity/README.md) plus exactly the invocation's variables, passed
// as APPTAINERENV_/SINGULARITYENV_ variables so that no value appears on a command line.
class ContainerRuntime : public Runtime {
  public:
    explicit ContainerRuntime(RuntimeSettings settings) : settings_(std::move(settings)) {}
    const char* name() const override {
        return settings_.kind == RuntimeChoice::Singularity ? "singularity" : "apptainer";
    }

    Execution prepare(const Invocation& invocation) const override {
        Execution command;
        const std::string prefix =
            settings_.kind == RuntimeChoice::Singularity ? "SINGULARITYENV_" : "APPTAINERENV_";
        // The runtime itself needs to find its helpers and the user's identity.
        for (const char* name : {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TERM"}) {
            if (auto value = get(settings_.inherited, name); !value.empty())
                command.environment[name] = value;
        }
        for (const auto& [name, value] : invocation.environment)
            command.environment[prefix + name] = value;
        // --spark-home/--hadoop-home name an install inside the image other than its default.
        const std::string& home =
            invocation.install == Install::Spark ? settings_.spark_home : settings_.hadoop_home;
        if (!home.empty()) {
            command.environment[prefix + (invocation.install == Install::Spark ? "SPARK_HOME"
                                                                               : "HADOOP_HOME")] =
                home;
        }
        if (settings_.sudo) {
            command.argv = {"sudo", "-n", "--preserve-env"};
        }
        command.argv.push_back(settings_.executable);
        // --silent: the runtime's own INFO lines would otherwise fill every daemon log.
        command.argv.push_back("--silent");
        command.argv.push_back("exec");
        command.argv.push_back("--cleanenv");
        std::vector<std::string> binds = invocation.binds;
        std::sort(binds.begin(), binds.end());
        binds.erase(std::unique(binds.begin(), binds.end()), binds.end());
        for (const auto& bind : binds) {
            if (bind.empty()) continue;
            command.argv.push_back("--bind");
            command.argv.push_back(bind);
        }
        if (!invocation.working_dir.empty()) {
            command.argv.push_back("--pwd");
            command.argv.push_back(invocation.working_dir);
        }
        command.argv.push_back(invocation.install == Install::Spark ? settings_.spark_image
                                                                    : settings_.hadoop_image);
        if (invocation.command.empty()) {
            command.argv.push_back(home.empty() ? invocation.tool
                                                : home + "/bin/" + invocation.tool);
        } else {
            command.argv.insert(command.argv.end(), invocation.command.begin(),
                                invocation.command.end());
        }
        command.argv.insert(command.argv.end(), invocation.args.begin(), invocation.args.end());
        command.working_dir = invocation.working_dir;
        return command;
    }

  private:
    RuntimeSettings settings_;
};

std::string check_image(const std::string& option, const std::string& path) {
    if (path.empty()) return path;
    if (!fs::exists(path)) {
        throw UsageError("spark-slurm run: the image " + path + " (" + option +
                         ") does not exist; check the path, or build one with "
                         "singularity/build-images");
    }
    if (!looks_like_sif(path)) {
        throw UsageError("spark-slurm run: " + path + " (" + option +
                         ") is not a SIF image; convert it with 'apptainer build IMAGE.sif "
                         "docker-archive://FILE.tar' or singularity/build-images");
    }
    return fs::absolute(path).string();
}

}  // namespace

bool looks_like_sif(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    char header[41] = {};
    if (!file.read(header, sizeof header)) return false;
    return std::string(header + 32, 9) == "SIF_MAGIC";
}

std::string find_on_path(const std::string& program, const Environment& environment) {
    std::string path = get(environment, "PATH");
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        if (!dir.empty() && executable(fs::path(dir) / program))
            return (fs::path(dir) / program).string();
        start = end + 1;
    }
    return "";
}

RuntimeSettings resolve_runtime(const Options& options, const Environment& environment) {
    RuntimeSettings settings;
    settings.inherited = environment;
    settings.sudo = options.sudo;
    settings.kind = options.runtime;
    if (settings.kind == RuntimeChoice::Auto) {
        if (!find_on_path("apptainer", environment).empty()) {
            settings.kind = RuntimeChoice::Apptainer;
        } else if (!find_on_path("singularity", environment).empty()) {
            settings.kind = RuntimeChoice::Singularity;
        } else {
            settings.kind = RuntimeChoice::None;
        }
    }
    if (settings.kind == RuntimeChoice::None) {
        settings.spark_home = options.spark_home.value_or(get(environment, "SPARK_HOME"));
        settings.hadoop_home = options.hadoop_home.value_or(get(environment, "HADOOP_HOME"));
        settings.java_home = get(environment, "JAVA_HOME");
        if (settings.spark_home.empty() ||
            !executable(fs::path(settings.spark_home) / "bin/spark-class")) {
            throw UsageError(
                "spark-slurm run: --runtime none needs a Spark install, but SPARK_HOME is " +
                (settings.spark_home.empty()
                     ? std::string("not set")
                     : "'" + settings.spark_home + "' without bin/spark-class") +
                "; load your site's Spark module, or use --runtime apptainer --image SIF");
        }
        if (options.hdfs && (settings.hadoop_home.empty() ||
                             !executable(fs::path(settings.hadoop_home) / "bin/hdfs"))) {
            throw UsageError(
                "spark-slurm run: --runtime none needs a Hadoop install for HDFS, but HADOOP_HOME "
                "is " +
                (settings.hadoop_home.empty() ? std::string("not set")
                                              : "'" + settings.hadoop_home + "' without bin/hdfs") +
                "; load your site's Hadoop module, pass --no-hdfs, or use --runtime apptainer");
        }
        if (settings.java_home.empty() && find_on_path("java", environment).empty()) {
            throw UsageError(
                "spark-slurm run: no Java found (JAVA_HOME is not set and java is not on "
                "PATH); load a Java 17 module or set JAVA_HOME");
        }
        return settings;
    }
    // Inside an image the homes are the image's unless named: paths in the image, not checked here.
    settings.spark_home = options.spark_home.value_or("");
    settings.hadoop_home = options.hadoop_home.value_or("");
    const char* binary = settings.kind == RuntimeChoice::Singularity ? "singularity" : "apptainer";
    settings.executable = find_on_path(binary, environment);
    if (settings.executable.empty()) {
        throw UsageError(std::string("spark-slurm run: --runtime ") + binary +
                         " is not installed (no " + binary +
                         " on PATH); load its module, or use --runtime none with a host "
                         "install of Spark and Hadoop");
    }
    std::string image = options.image.value_or("");
    if (!image.empty()) {
        settings.spark_image = settings.hadoop_image = check_image("--image", image);
    } else if (options.spark_image) {
        settings.spark_image = check_image("--spark-image", *options.spark_image);
        settings.hadoop_image = check_image("--hadoop-image", options.hadoop_image.value_or(""));
    } else {
        throw UsageError(std::string("spark-slurm run: --runtime ") + binary +
                         " needs an image: pass --image SIF or set SPARK_SLURM_IMAGE (build one "
                         "with singularity/build-images), or use --runtime none");
    }
    return settings;
}

std::unique_ptr<Runtime> make_runtime(const RuntimeSettings& settings) {
    if (settings.kind == RuntimeChoice::None) return std::make_unique<HostRuntime>(settings);
    return std::make_unique<ContainerRuntime>(settings);
}

}  // namespace spark_slurm
