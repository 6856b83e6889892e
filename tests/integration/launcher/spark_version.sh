# shellcheck shell=bash
# use_test_spark RUNTIME VERSION: a test of the version matrix runs that Spark instead of the
# default one: its host install (none) or its image (apptainer), built by
# tests/images/build-test-image --spark VERSION. Sourced, and called, before common.sh (which
# reads SPARK_SLURM_TEST_IMAGE).
use_test_spark() {
    local runtime=$1 version=$2 prefix
    # One job per install or image: class archives would cost their first run (in an image
    # ~30 s to ready and ~10 s at teardown) and never be mapped. cds.sh tests them.
    export SPARK_SLURM_NO_CDS=1
    # shellcheck source=../../cluster/env
    . "$(dirname "${BASH_SOURCE[0]}")/../../cluster/env"
    prefix=$(test_spark_prefix "$version")
    [[ -x $prefix/spark/bin/spark-submit ]] ||
        { echo "no Spark $version in $prefix (tests/images/build-test-image --spark $version)" >&2; exit 1; }
    if [[ $runtime == none ]]; then
        export SPARK_SLURM_TEST_SPARK_HOME=$prefix/spark SPARK_SLURM_TEST_HADOOP_HOME=$prefix/hadoop
        export SPARK_SLURM_TEST_PYSPARK_PYTHON=$prefix/python/bin/python
    else
        SPARK_SLURM_TEST_IMAGE=$(test_spark_image "$version")
        # The image's own Python: the host's default venv, bound over the image's path, would
        # bring the default Spark's pyspark with it.
        export SPARK_SLURM_TEST_IMAGE SPARK_SLURM_TEST_PYSPARK_PYTHON=
    fi
}
