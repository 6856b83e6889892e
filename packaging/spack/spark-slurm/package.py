# Spack recipe for spark-slurm. Copy this directory into a Spack repository
# (spack repo create ...; cp -r packaging/spack/spark-slurm REPO/packages/).
#
# Checked here only by compiling it (ctest: spack_package_compiles, which also checks that every
# find_package() of CMakeLists.txt has a depends_on() below): Spack itself is not installable
# from the package registries this project is built with, so `spack audit`/`spack spec` have
# not been run on it.
#
# No release tarball has been published yet: when one is, add its line, e.g.
#     version("0.1.0", sha256="<sha256sum of spark-slurm-0.1.0.tar.gz>")
# (a tarball made by `git archive --prefix=spark-slurm-0.1.0/ -o spark-slurm-0.1.0.tar.gz v0.1.0`).

from spack.package import *


class SparkSlurm(CMakePackage):
    """A private Apache Spark + HDFS cluster inside a Slurm allocation, for one job: started on
    the job's nodes through srun and MPI, used by the job's driver, torn down when it ends.
    Daemons run from an Apptainer/SingularityCE image or from a host install of Spark and
    Hadoop."""

    homepage = "https://spark-slurm.invalid/"
    url = "https://spark-slurm.invalid/releases/spark-slurm-0.1.0.tar.gz"

    # The launcher is linked against the site's Slurm (libslurm, to read the allocation and
    # requeue settings) and the MPI that srun starts it with (PMIx or PMI2).
    depends_on("c", type="build")
    depends_on("cxx", type="build")
    depends_on("cmake@3.25:", type="build")
    depends_on("pkgconfig", type="build")

    depends_on("slurm")
    depends_on("openmpi schedulers=slurm")
    depends_on("hwloc")
    depends_on("boost@1.74: +program_options")
    depends_on("nlohmann-json@3.10:")
    # Headers at build time; libcurl.so.4 is dlopen()ed by the leader when it probes daemons.
    depends_on("curl")
    depends_on("fmt")
    depends_on("openssl")
    depends_on("googletest", type="test")

    # The web UIs' login filter (src/ui_login) is Java, compiled against the servlet APIs and
    # hadoop-common of a Spark + Hadoop install (scripts/install-spark-hadoop's layout): point
    # SPARK_SLURM_DEPS at it (spack install spark-slurm spark_slurm_deps=/path).
    depends_on("java@11:", type="build")
    variant("spark_slurm_deps", default="/opt/spark-slurm-deps", values=lambda x: True,
            description="a Spark + Hadoop install whose jars the UI filter compiles against")

    # Run-time, and the site's choice (not dependencies): apptainer or singularityce for images,
    # or Java 17 + Spark + Hadoop modules for --runtime none. `spark-slurm doctor` checks them.

    # The sources are C++20; the project is built and tested with GCC 12 (Debian 12).
    conflicts("%gcc@:9", msg="spark-slurm needs a C++20 compiler (GCC 10 or newer)")

    def cmake_args(self):
        return [
            self.define("BUILD_TESTING", self.run_tests),
            self.define("SPARK_SLURM_INTEGRATION_TESTS", False),
            self.define("SPARK_SLURM_DEPS", self.spec.variants["spark_slurm_deps"].value),
        ]

    def setup_run_environment(self, env):
        # bash-completion looks for completions/spark-slurm under XDG_DATA_DIRS.
        env.prepend_path("XDG_DATA_DIRS", self.prefix.share)
