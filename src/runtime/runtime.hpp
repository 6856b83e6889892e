// How a program of the Spark or Hadoop install is run: straight from the host install (`none`)
// or inside an Apptainer/SingularityCE image. The runtime turns a runtime-neutral Invocation into
// an argv and a complete environment; nothing here forks or runs a shell.
//
// Who calls it: the services (daemons) and the launcher (the driver), on the node that runs the
// program, as the job's user. With --sudo the container runtime runs through `sudo -n`.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/image_installs.hpp"
#include "options/options.hpp"

namespace spark_slurm {

enum class Install { Spark, Hadoop };

struct Invocation {
    Install install = Install::Spark;
    // A tool in the install's bin/ ("spark-class", "hdfs"), or, with `command` set, any program.
    std::string tool;
    std::vector<std::string> command;  // the driver: the user's argv, looked up on PATH
    std::vector<std::string> args;
    std::map<std::string, std::string> environment;  // what the program needs besides the install
    std::vector<std::string> binds;                  // host directories seen at the same path
    std::string working_dir;
    // The user's program (the driver, or a check of its Python): it also gets the user's PATH
    // and LD_LIBRARY_PATH and the chosen Python (PYSPARK_PYTHON, PYSPARK_DRIVER_PYTHON).
    bool user_program = false;
    // At least this long between SIGTERM and SIGKILL (0: the caller's usual grace), for a JVM
    // that writes its class archive as it exits.
    std::chrono::seconds stop_grace{0};
    // It writes something (a class archive) as it exits that is worth nothing to the job.
    bool writes_at_exit = false;
};

struct Execution {
    std::vector<std::string> argv;
    std::map<std::string, std::string> environment;  // complete: the child gets exactly this
    std::string working_dir;
    std::chrono::seconds stop_grace{0};  // Invocation::stop_grace
    bool writes_at_exit = false;         // Invocation::writes_at_exit
};

class Runtime {
  public:
    virtual ~Runtime() = default;
    virtual const char* name() const = 0;
    virtual Execution prepare(const Invocation& invocation) const = 0;
};

struct RuntimeSettings {
    RuntimeChoice kind = RuntimeChoice::None;
    std::string executable;  // apptainer/singularity binary (absolute)
    bool sudo = false;
    std::string spark_image;
    std::string hadoop_image;
    // For `none`: the host install (--spark-home, else what a site module set). In a container:
    // empty for the image's own SPARK_HOME/HADOOP_HOME, or a path inside the image.
    std::string spark_home;
    std::string hadoop_home;
    std::string java_home;
    Environment inherited;  // the launcher's own environment
    // Bind specs every container of this job gets besides an invocation's own: the submit dir
    // and $HOME (where they exist), --bind, and where a chosen Python lives (container_binds).
    std::vector<std::string> binds;
    // The chosen Pythons; empty: the default (the image's PYSPARK_PYTHON, else python3).
    std::string driver_python;
    std::string executor_python;
};

// Which Python the driver and the executors run, and who chose it: --python for both, else
// PYSPARK_DRIVER_PYTHON (then PYSPARK_PYTHON) for the driver and PYSPARK_PYTHON for the
// executors, as Spark itself reads them. Empty: not chosen.
struct PythonChoice {
    std::string driver;
    std::string executor;
    std::string driver_origin;  // "--python", "PYSPARK_DRIVER_PYTHON", "PYSPARK_PYTHON" or ""
    std::string executor_origin;
};
PythonChoice choose_python(const Options& options, const Environment& environment);

// The directory a Python interpreter at `python` lives in (its venv, conda env or install: the
// parent of its bin/), which a container must see for it to run; empty for a command name or
// a system location every image has its own of (/, /usr, /usr/local, /bin, /lib...).
std::string python_prefix(const std::string& python);

// The job-wide binds of a container runtime, as this node sees them: $SLURM_SUBMIT_DIR and
// $HOME if they exist here, every --bind, and the prefixes of the chosen Pythons (and of the
// interpreters they link to) if they exist here (otherwise they are paths inside the image).
std::vector<std::string> container_binds(const Options& options, const Environment& environment);

std::unique_ptr<Runtime> make_runtime(const RuntimeSettings& settings);

// Resolves --runtime/--image/--python/--bind against what is installed. Throws UsageError
// (nothing started) for a runtime that is not installed, a missing image, a file that is not a
// SIF, a host install that lacks Spark or Hadoop, or a --bind SRC:DST without a container.
RuntimeSettings resolve_runtime(const Options& options, const Environment& environment);

// True when the file starts like a SIF image (the launch script, then "SIF_MAGIC").
bool looks_like_sif(const std::string& path);

}  // namespace spark_slurm
