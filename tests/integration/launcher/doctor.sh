#!/bin/bash
# spark-slurm doctor on the test cluster, as the job user: it passes on the host (with the test
# image, and with the host install via --runtime none) and inside a one-node allocation; with a
# deliberately broken setup it exits 1 and names the failing check — an image without Spark,
# and an srun without the PMIx/PMI2 plugins.
# The second is simulated: a PATH wrapper `srun` (in the work dir) prints an MPI plugin list of
# only none and cray_shasta, as a Slurm built without PMIx would. The real srun is untouched.
SMOKE_NAME=doctor
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[[ -f $SPARK_SLURM_TEST_IMAGE ]] || fail "the test image $SPARK_SLURM_TEST_IMAGE is missing (ctest -R offline_test_image)"

# doctor NAME EXPECTED_STATUS [ENV=VALUE...] -- ARGS... : run it as the job user on the host,
# keep its output in $WORK/NAME.out, check its exit status.
doctor() {
    local name=$1 expected=$2 status=0
    shift 2
    local env_args=()
    while (($#)) && [[ $1 != -- ]]; do env_args+=("$1"); shift; done
    shift
    "$RUN_AS_USER" env "${env_args[@]}" spark-slurm doctor "$@" >"$WORK/$name.out" 2>&1 || status=$?
    echo "----- doctor $name (exit $status) -----"
    cat "$WORK/$name.out"
    [[ $status == "$expected" ]] || fail "doctor $name: exit status $status, expected $expected"
}
no_fail_lines() {
    ! grep -q '^FAIL' "$WORK/$1.out" || fail "doctor $1: a check failed"
}

# The host with the test image (run-as-user exports SPARK_SLURM_IMAGE): every check ok or warn.
doctor host_image 0 --
no_fail_lines host_image
grep -Eq '^ok    slurm +Slurm [0-9]+\.' "$WORK/host_image.out" || fail "no Slurm version reported"
grep -Eq '^ok    mpi +.*PMIx' "$WORK/host_image.out" || fail "PMIx not reported"
grep -Eq '^ok    image +.*has java, Spark and Hadoop' "$WORK/host_image.out" || fail "the image's contract was not checked"
grep -Eq '^ok    spark +Spark [0-9]+\.[0-9.]+ \(the image ' "$WORK/host_image.out" || fail "the image's Spark version was not read"
grep -Eq '^ok    hadoop +Hadoop [0-9]+\.[0-9.]+ \(the image ' "$WORK/host_image.out" || fail "the image's Hadoop version was not read"
grep -Eq '^ok    kdc +Apache Kerby in the image ' "$WORK/host_image.out" || fail "the image's KDC (Kerby) was not checked"
# The host install (the module-like SPARK_HOME/HADOOP_HOME/JAVA_HOME of run-as-user). Its Java
# check runs a JVM here: it leaves nothing in /tmp (an empty hsperfdata directory of an earlier
# test's JVM goes first).
perf_dir=/tmp/hsperfdata_$SPARK_SLURM_TEST_USER
rmdir "$perf_dir" 2>/dev/null || true
doctor host_none 0 -- --runtime none
no_fail_lines host_none
[[ ! -e $perf_dir ]] || fail "doctor --runtime none left $perf_dir in /tmp"
grep -Eq '^ok    java +Java (1[7-9]|2[0-9])' "$WORK/host_none.out" || fail "no Java 17+ reported"
grep -Eq '^ok    spark +Spark [0-9]' "$WORK/host_none.out" || fail "no Spark version reported"
grep -Eq '^ok    hadoop +Hadoop [0-9]' "$WORK/host_none.out" || fail "no Hadoop version reported"

# Inside a one-node allocation: node-local scratch and the node's own ports.
job_script in_job.sh -N1 --exclusive --time=5 "-o in_job-%j.out" -- doctor
submit in_job.sh
wait_done "$JOBID" 200
cat "$WORK/in_job-$JOBID.out"
grep -Eq '^ok    scratch ' "$WORK/in_job-$JOBID.out" || fail "in a job: scratch not ok"
grep -Eq "^ok    libslurm +read job $JOBID from slurmctld" "$WORK/in_job-$JOBID.out" || fail "in a job: libslurm not checked"
grep -q '^FAIL' "$WORK/in_job-$JOBID.out" && fail "in a job: a check failed"

# Broken 1: an image without Spark (a real SIF of a busybox root filesystem, as in bad_image.sh).
build_image_without_spark
doctor no_spark 1 -- --image "$WORK/no-spark.sif"
grep -Eq "^FAIL  image +the image $WORK/no-spark.sif does not provide spark" "$WORK/no_spark.out" ||
    fail "the image check did not name the image without Spark"
[[ $(grep -c '^FAIL' "$WORK/no_spark.out") == 1 ]] || fail "doctor no_spark: more than the image check failed"

# Broken 2: no PMIx (nor PMI2) plugin: the fake srun described at the top.
install -d -o "$SPARK_SLURM_TEST_USER" "$WORK/fakebin"
printf '%s\n' '#!/bin/sh' 'printf "MPI plugin types are...\n\tnone\n\tcray_shasta\n"' | write_script fakebin/srun
user_path=$("$RUN_AS_USER" printenv PATH)
doctor no_pmix 1 "PATH=$WORK/fakebin:$user_path" --
grep -Eq '^FAIL  mpi +srun --mpi=list offers neither pmix nor pmi2' "$WORK/no_pmix.out" ||
    fail "the MPI check did not name the missing PMIx plugin"
[[ $(grep -c '^FAIL' "$WORK/no_pmix.out") == 1 ]] || fail "doctor no_pmix: more than the MPI check failed"
pass
