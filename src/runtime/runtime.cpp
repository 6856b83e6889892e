#include "runtime/runtime.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/errors.hpp"
#include "common/executables.hpp"
#include "common/job_environment.hpp"

namespace spark_slurm {

namespace {

namespace fs = std::filesystem;

// The host install: the program runs with the user's environment plus what it needs, so that
// whatever a site's modules set (PATH, PYSPARK_PYTHON, LD_LIBRARY_PATH) reaches executors too.
// What every runtime takes from the invocation as it is, after the program: its arguments, its
// working directory and how it stops.
Execution with_invocation_rest(Execution command, const Invocation& invocation) {
    command.argv.insert(command.argv.end(), invocation.args.begin(), invocation.args.end());
    command.working_dir = invocation.working_dir;
    command.stop_grace = invocation.stop_grace;
    command.writes_at_exit = invocation.writes_at_exit;
    return command;
}

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
        if (auto old = environment_value(settings_.inherited, "PATH"); !old.empty())
            path += ":" + old;
        command.environment["PATH"] = path;
        if (invocation.user_program) {
            if (!settings_.executor_python.empty())
                command.environment["PYSPARK_PYTHON"] = settings_.executor_python;
            if (!settings_.driver_python.empty())
                command.environment["PYSPARK_DRIVER_PYTHON"] = settings_.driver_python;
        }
        for (const auto& [name, value] : invocation.environment) command.environment[name] = value;
        if (invocation.command.empty()) {
            const std::string& home =
                invocation.install == Install::Spark ? settings_.spark_home : settings_.hadoop_home;
            command.argv.push_back(home + "/bin/" + invocation.tool);
        } else {
            command.argv = invocation.command;
        }
        return with_invocation_rest(std::move(command), invocation);
    }

  private:
    RuntimeSettings settings_;
};

// Where a bind spec SRC[:DST[:opts]] appears in the container.
std::string bind_destination(const std::string& spec) {
    auto first = spec.find(':');
    if (first == std::string::npos) return spec;
    auto second = spec.find(':', first + 1);
    return spec.substr(first + 1,
                       second == std::string::npos ? std::string::npos : second - first - 1);
}

// apptainer/singularity exec --cleanenv: the image's own environment (JAVA_HOME, SPARK_HOME,
// HADOOP_HOME, PATH; see singularity/README.md) plus exactly the invocation's variables, passed
// as APPTAINERENV_/SINGULARITYENV_ variables so that no value appears on a command line. The
// user's program also gets the user's PATH (after the image's) and LD_LIBRARY_PATH.
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
        // The runtime itself needs to find its helpers and the user's identity; the binds a
        // site or the user set for every container are read by the runtime itself.
        for (const char* name :
             {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TERM", "APPTAINER_BIND",
              "APPTAINER_BINDPATH", "SINGULARITY_BIND", "SINGULARITY_BINDPATH"}) {
            if (auto value = environment_value(settings_.inherited, name); !value.empty())
                command.environment[name] = value;
        }
        if (invocation.user_program) {
            if (auto path = environment_value(settings_.inherited, "PATH"); !path.empty())
                command.environment[prefix + "APPEND_PATH"] = path;
            if (auto libraries = environment_value(settings_.inherited, "LD_LIBRARY_PATH");
                !libraries.empty())
                command.environment[prefix + "LD_LIBRARY_PATH"] = libraries;
            // An install named inside the image comes first on PATH, as its SPARK_HOME does.
            std::string own_bins;
            for (const auto* home : {&settings_.spark_home, &settings_.hadoop_home}) {
                if (home->empty()) continue;
                own_bins += (own_bins.empty() ? "" : ":") + *home + "/bin";
            }
            if (!own_bins.empty()) command.environment[prefix + "PREPEND_PATH"] = own_bins;
            if (!settings_.executor_python.empty())
                command.environment[prefix + "PYSPARK_PYTHON"] = settings_.executor_python;
            if (!settings_.driver_python.empty())
                command.environment[prefix + "PYSPARK_DRIVER_PYTHON"] = settings_.driver_python;
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
        binds.insert(binds.end(), settings_.binds.begin(), settings_.binds.end());
        // Parents before children (a bind inside another is mounted after it), each once.
        std::stable_sort(binds.begin(), binds.end(), [](const auto& a, const auto& b) {
            return std::pair(bind_destination(a), a) < std::pair(bind_destination(b), b);
        });
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
        return with_invocation_rest(std::move(command), invocation);
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

PythonChoice choose_python(const Options& options, const Environment& environment) {
    PythonChoice choice;
    if (options.python) {
        choice.driver = choice.executor = *options.python;
        choice.driver_origin = choice.executor_origin = "--python";
        return choice;
    }
    if (auto executor = environment_value(environment, "PYSPARK_PYTHON"); !executor.empty()) {
        choice.executor = choice.driver = executor;
        choice.executor_origin = choice.driver_origin = "PYSPARK_PYTHON";
    }
    if (auto driver = environment_value(environment, "PYSPARK_DRIVER_PYTHON"); !driver.empty()) {
        choice.driver = driver;
        choice.driver_origin = "PYSPARK_DRIVER_PYTHON";
    }
    return choice;
}

std::string python_prefix(const std::string& python) {
    if (python.empty() || python.front() != '/') return "";
    fs::path dir = fs::path(python).lexically_normal().parent_path();
    if (dir.filename() == "bin") dir = dir.parent_path();
    const std::string prefix = dir.string();
    for (const char* system : {"/", "/usr", "/usr/local", "/bin", "/sbin", "/lib", "/lib64",
                               "/usr/lib", "/usr/lib64", "/usr/libexec", "/etc", "/opt"}) {
        if (prefix == system) return "";
    }
    return prefix;
}

std::vector<std::string> container_binds(const Options& options, const Environment& environment) {
    std::vector<std::string> binds;
    auto is_directory = [](const std::string& path) {
        std::error_code error;
        return !path.empty() && path.front() == '/' && fs::is_directory(path, error);
    };
    for (const char* name : {"SLURM_SUBMIT_DIR", "HOME"}) {
        // "/" would hide the image itself: everything else is seen at its own path.
        auto dir = environment_value(environment, name);
        if (is_directory(dir) && fs::path(dir).lexically_normal() != "/") binds.push_back(dir);
    }
    for (const auto& bind : options.binds) binds.push_back(bind.spec());
    auto choice = choose_python(options, environment);
    for (const auto& python : {choice.driver, choice.executor}) {
        std::error_code error;
        if (python_prefix(python).empty() || !fs::exists(python, error)) continue;
        // A venv's bin/python links to the interpreter it was made from, which must be seen too
        // unless the image has its own there (a system location).
        for (const auto& path : {fs::path(python), fs::canonical(python, error)}) {
            if (auto prefix = python_prefix(path.string()); is_directory(prefix))
                binds.push_back(prefix);
        }
    }
    std::sort(binds.begin(), binds.end());
    binds.erase(std::unique(binds.begin(), binds.end()), binds.end());
    return binds;
}

bool looks_like_sif(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    char header[41] = {};
    if (!file.read(header, sizeof header)) return false;
    return std::string(header + 32, 9) == "SIF_MAGIC";
}

namespace {

// --runtime none: the host's installs, which must be there (no container can bring them).
void resolve_host_installs(RuntimeSettings& settings, const Options& options,
                           const Environment& environment) {
    for (const auto& bind : options.binds) {
        if (bind.destination == bind.source) continue;
        throw UsageError("spark-slurm " + std::string(to_string(options.command)) + ": --bind " +
                         bind.spec() +
                         " shows a directory at another path, which only a container can "
                         "do; with --runtime none every program sees the host's paths: "
                         "use " +
                         bind.source + " itself, or --runtime apptainer");
    }
    settings.spark_home = options.spark_home.value_or(environment_value(environment, "SPARK_HOME"));
    settings.hadoop_home =
        options.hadoop_home.value_or(environment_value(environment, "HADOOP_HOME"));
    settings.java_home = environment_value(environment, "JAVA_HOME");
    if (settings.spark_home.empty() ||
        !is_executable_file(fs::path(settings.spark_home) / "bin/spark-class")) {
        throw UsageError(
            "spark-slurm run: --runtime none needs a Spark install, but SPARK_HOME is " +
            (settings.spark_home.empty()
                 ? std::string("not set")
                 : "'" + settings.spark_home + "' without bin/spark-class") +
            "; load your site's Spark module, or use --runtime apptainer --image SIF");
    }
    if (options.hdfs && (settings.hadoop_home.empty() ||
                         !is_executable_file(fs::path(settings.hadoop_home) / "bin/hdfs"))) {
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
}

// Apptainer or Singularity: the runtime on PATH and the image(s), checked to be SIF files.
void resolve_container(RuntimeSettings& settings, const Options& options,
                       const Environment& environment) {
    // Inside an image the homes are the image's unless named: paths in the image, not checked here.
    settings.binds = container_binds(options, environment);
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
}

}  // namespace

RuntimeSettings resolve_runtime(const Options& options, const Environment& environment) {
    RuntimeSettings settings;
    settings.inherited = environment;
    settings.sudo = options.sudo;
    settings.kind = options.runtime;
    auto python = choose_python(options, environment);
    settings.driver_python = python.driver;
    settings.executor_python = python.executor;
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
        resolve_host_installs(settings, options, environment);
    } else {
        resolve_container(settings, options, environment);
    }
    return settings;
}

std::unique_ptr<Runtime> make_runtime(const RuntimeSettings& settings) {
    if (settings.kind == RuntimeChoice::None) return std::make_unique<HostRuntime>(settings);
    return std::make_unique<ContainerRuntime>(settings);
}

}  // namespace spark_slurm
