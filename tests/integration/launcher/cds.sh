#!/bin/bash
# cds.sh [RUNTIME]: class-data sharing archives of the Spark and HDFS daemons, the driver and the
# executors (issue 15), with --runtime none (the default) or apptainer (the test image).
#
# none: a first job writes the daemons' into the user's cache as its four daemons and its KDC
# stop (the KDC also keeps its compiled program there); its driver, a PySpark count, records the
# classes it loads, from which the launcher writes the application's archive after the job. A
# second starts the daemons, the namenode format, dfsadmin and fetchdt from theirs, and its
# driver's and executor's JVMs load their classes from the application's (seen in their
# -Xlog:class+load). With one archive truncated and two others' bytes changed, a third says so
# once for each (one before the start, two from what the JVMs logged; the namenode's is mapped
# by the format and the namenode), completes, and writes new ones; --no-cds neither uses nor
# writes any.
#
# apptainer: the test image has archives built in (singularity/train-class-archives). A first
# job, from an empty cache and with the image's own Python, maps them in all four daemons, the
# driver and its executor (seen in /proc/PID/maps and their -Xlog:class+load) and writes only
# the KDC's. A second job binds the host's Python venv, and the Spark install in it, over the
# image's: the jars the Spark archives were written for are no longer the ones the containers
# see, so its master and worker write archives of their own into the cache, while HDFS still
# maps the image's and the KDC its archive from the first job.
#
# The cache is the test's own (XDG_CACHE_HOME).
runtime=${1:-none}
SMOKE_NAME=cds${1:+_$runtime}
# The image's own Python (see word_count.sh): the default venv would be bound over the image's
# Spark.
# The second job gives the default venv with --python.
# shellcheck source=../../cluster/env
. "$(dirname "${BASH_SOURCE[0]}")/../../cluster/env"
HOST_PYTHON=$SPARK_SLURM_TEST_PYSPARK_PYTHON
[[ $runtime == none ]] || export SPARK_SLURM_TEST_PYSPARK_PYTHON=
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
CACHE=$WORK/cache/spark-slurm/cds

write_script count.py <<'PY'
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("count").getOrCreate()
print("COUNT", spark.sparkContext.parallelize(range(10000)).count())
spark.stop()
PY
# The driver of the second job: it waits until the test has read which archives the daemons'
# JVMs mapped (root reads every node's /proc here, the nodes share this machine's process
# table), then runs the count with the executors' options as the job gives them
# (spark-defaults.conf) and the class-load log that shows where each class came from.
write_script count-logged.sh <<EOF
#!/bin/bash
touch $WORK/driver-started
for ((i = 0; i < 600; i++)); do [[ -e $WORK/maps-read ]] && break; sleep 0.2; done
export SPARK_SUBMIT_OPTS="-Xlog:class+load=info:file=$WORK/driver-classes.log"
options=\$(awk '\$1 == "spark.executor.extraJavaOptions" { \$1 = ""; print }' "\$SPARK_CONF_DIR/spark-defaults.conf")
exec spark-submit --conf "spark.executor.extraJavaOptions=\$options -Xlog:class+load=info:file=$WORK/executor-classes.log" $WORK/count.py
EOF

# cds_job NAME DRIVER LAUNCHER_OPTIONS...: a 2-node Spark and HDFS cluster running DRIVER; sets
# OUT to the job's output.
cds_job() {
    local name=$1 driver=$2
    shift 2
    write_script "$name.sh" <<EOF
#!/bin/bash
#SBATCH -N2
#SBATCH --exclusive
#SBATCH -t 10
#SBATCH -o $WORK/$name.out
export XDG_CACHE_HOME=$WORK/cache
srun --ntasks-per-node=1 --cpus-per-task=$SPARK_SLURM_TEST_CPUS_PER_NODE --mpi=pmix \\
    spark-slurm run --runtime $runtime $* --ready-timeout 240 -- $driver
EOF
    submit "$name.sh"
    if [[ $driver == "$WORK/count-logged.sh" ]]; then
        wait_for_file "$WORK/driver-started" 300 "the second job's driver did not start"
        # (Processes come and go meanwhile: cat's complaints are not the test's.)
        { cat /proc/[0-9]*/maps 2>/dev/null || true; } |
            { grep -oE '[a-z-]+-[0-9a-f]{16}-[0-9]+\.jsa|/opt/spark-slurm-cds/[a-z-]+\.jsa' || true; } |
            sort -u >"$WORK/mapped.txt"
        touch "$WORK/maps-read"
    fi
    wait_done "$JOBID" 600
    OUT=$(<"$WORK/$name.out")
}
# count REGEX: how many lines of OUT match
count() { grep -Ec -- "$1" <<<"$OUT" || true; }
archive() { find "$CACHE" -name "$1-*.jsa"; }
DAEMONS="(spark master|spark worker|hdfs namenode|hdfs datanode|kerberos kdc)"

# Where the driver's and executor's classes came from (count-logged.sh's class-load logs): most
# from the archive.
check_app_classes() {
    local jvm log shared jars
    for jvm in driver executor; do
        log=$WORK/$jvm-classes.log
        [[ -s $log ]] || fail "the $jvm's JVM logged no class loading into $log"
        shared=$(grep -c 'source: shared objects file (top)' "$log" || true)
        jars=$(grep -c 'source: file:\|source: jar:' "$log" || true)
        ((shared > 2000 && shared > 5 * jars)) ||
            fail "the $jvm's JVM loaded $shared classes from the application's archive and $jars from jars"
        loaded+=", $jvm $shared classes from the archive and $jars from jars"
    done
}

if [[ $runtime != none ]]; then
    IMAGE_DAEMONS="(spark master|spark worker|hdfs namenode|hdfs datanode)"
    cds_job first "$WORK/count-logged.sh"
    [[ $(count '^COUNT 10000$') == 1 ]] || fail "the first job's count did not print its result"
    [[ $(count "CDS: the $IMAGE_DAEMONS starts from the image's class archive /opt/spark-slurm-cds/") == 4 ]] ||
        fail "the first job's four daemons did not start from the image's archives"
    [[ $(count "CDS: the spark application starts from the image's class archive") == 1 ]] ||
        fail "the first job's driver and executors were not given the image's archive"
    for daemon in spark-master spark-worker hdfs-namenode hdfs-datanode; do
        grep -qx "/opt/spark-slurm-cds/$daemon.jsa" "$WORK/mapped.txt" ||
            fail "no JVM of the first job mapped the image's $daemon archive; mapped: $(tr '\n' ' ' <"$WORK/mapped.txt")"
    done
    loaded="4 daemons mapped the image's archives"
    check_app_classes
    # Only the KDC, which the image has no archive of, wrote one.
    [[ $(count "CDS: kept the kerberos kdc's class archive") == 1 && $(count "CDS: kept ") == 1 ]] ||
        fail "the first job did not keep exactly the KDC's archive: $(grep 'CDS: kept' <<<"$OUT")"
    [[ $(count 'CDS: .*refused') == 0 ]] || fail "a JVM of the first job refused an archive"
    [[ -n $(archive kdc) && -z $(find "$CACHE" -name '*.jsa' ! -name 'kdc-*') ]] ||
        fail "the cache holds other archives than the KDC's: $(ls -la "$CACHE")"

    cds_job second "spark-submit $WORK/count.py" --python "$HOST_PYTHON"
    [[ $(count '^COUNT 10000$') == 1 ]] || fail "the second job's count did not print its result"
    [[ $(count "CDS: the (spark master|spark worker) starts from the image's class archive") == 0 ]] ||
        fail "the second job's Spark daemons mapped the image's archives with other jars bound over them"
    [[ $(count "CDS: no class archive for the (spark master|spark worker); it writes one when it stops") == 2 &&
        $(count "CDS: kept the (spark master|spark worker)'s class archive") == 2 ]] ||
        fail "the second job's Spark daemons did not write archives of their own"
    [[ $(count "CDS: the (hdfs namenode|hdfs datanode) starts from the image's class archive") == 2 ]] ||
        fail "the second job's HDFS daemons did not map the image's archives"
    [[ $(count "CDS: the kerberos kdc starts from the class archive") == 1 ]] ||
        fail "the second job's KDC did not map the archive of the first"
    [[ $(count "CDS: none for the driver and executors in an image without theirs") == 1 ]] ||
        fail "the second job did not say that its driver and executors get no archive"
    [[ $(count 'CDS: .*refused') == 0 ]] || fail "a JVM of the second job refused an archive"
    grep -rq 'Unable to use shared archive' "$WORK"/spark-slurm-*/logs 2>/dev/null &&
        fail "a JVM refused its archive"
    assert_nothing_left
    pass "$loaded; with the host's Spark bound over the image's, the Spark daemons wrote their own"
    exit 0
fi

cds_job first "spark-submit $WORK/count.py"
[[ $(count '^COUNT 10000$') == 1 ]] || fail "the first job's count did not print its result"
[[ $(count "CDS: no class archive for the spark application; the driver records the classes") == 1 ]] ||
    fail "the first job did not say that its driver records its classes"
[[ $(count "CDS: kept the spark application's class archive") == 1 ]] ||
    fail "the first job did not write the application's archive from its driver's classes"
[[ $(count "CDS: no class archive for the $DAEMONS; it writes one when it stops") == 5 ]] ||
    fail "the first job did not say that its four daemons and its KDC write archives"
[[ $(count "CDS: kept the $DAEMONS's class archive") == 5 ]] ||
    fail "the first job did not keep an archive of each of its four daemons and its KDC"
[[ $(stat -c %a "$CACHE") == 700 ]] || fail "the cache $CACHE is not private (mode $(stat -c %a "$CACHE"))"
for daemon in spark-master spark-worker hdfs-namenode hdfs-datanode kdc; do
    [[ -n $(archive $daemon) ]] || fail "no archive of the $daemon in $CACHE: $(ls -la "$CACHE")"
done
[[ -z $(find "$CACHE" -name '*.tmp.*') ]] || fail "temporary archives left in $CACHE"
[[ -z $(find "$CACHE/kdc-classes" -name '.compiling.*') ]] ||
    fail "the KDC left a half-compiled program: $(ls -laR "$CACHE/kdc-classes")"
[[ -n $(archive spark-app) ]] || fail "no archive of the application in $CACHE: $(ls -la "$CACHE")"
[[ -n $(find "$CACHE/kdc-classes" -mindepth 2 -name spark-slurm-kdc.jar) ]] ||
    fail "the KDC did not keep its compiled program: $(ls -laR "$CACHE/kdc-classes")"

cds_job second "$WORK/count-logged.sh"
[[ $(count '^COUNT 10000$') == 1 ]] || fail "the second job's count did not print its result"
# Each daemon's JVM had its archive mapped when the driver started.
for daemon in spark-master spark-worker hdfs-namenode hdfs-datanode kdc; do
    grep -q "^$daemon-" "$WORK/mapped.txt" ||
        fail "no JVM of the second job mapped the $daemon's archive; mapped: $(tr '\n' ' ' <"$WORK/mapped.txt")"
done
loaded="5 daemons mapped their archives"
[[ $(count "CDS: the spark application starts from the class archive") == 1 ]] ||
    fail "the second job's driver and executors were not given the application's archive"
check_app_classes
[[ $(count "CDS: the $DAEMONS starts from the class archive") == 5 ]] ||
    fail "the second job's daemons did not start from the archives"
[[ $(count "CDS: the namenode format maps the hdfs namenode's class archive") == 1 ]] ||
    fail "the second job's namenode format did not map the namenode's archive"
[[ $(count "CDS: HDFS client helpers \(dfsadmin, fetchdt\) map the hdfs namenode's class archive") == 1 ]] ||
    fail "the second job's dfsadmin and fetchdt did not map the namenode's archive"
[[ $(count 'CDS: (kept|ignoring|the spark .* refused)') == 0 ]] || fail "the second job rewrote or refused an archive"
grep -rq 'Unable to use shared archive' "$WORK"/spark-slurm-*/logs 2>/dev/null &&
    fail "a JVM of the second job refused its archive"

# Damage: the master's archive loses its end (a JVM mapping it would crash), the worker's and the
# namenode's get other bytes at the same size (their CRCs no longer match).
truncate -s 1M "$(archive spark-master)"
worker=$(archive spark-worker)
namenode=$(archive hdfs-namenode)
for damaged in "$worker" "$namenode"; do
    dd if=/dev/urandom of="$damaged" bs=4096 seek=2048 count=64 conv=notrunc status=none
done
cds_job damaged true
[[ $(count 'warning: CDS: ignoring the class archive .* of the spark master: .*truncated') == 1 ]] ||
    fail "the truncated archive of the master was not reported once"
[[ $(count "warning: CDS: the spark worker's JVM refused the class archive") == 1 ]] ||
    fail "the damaged archive of the worker was not reported once"
[[ $(count "warning: CDS: the hdfs namenode's JVM refused the class archive") == 1 ]] ||
    fail "the damaged archive of the namenode (mapped by the format and the namenode) was not reported once"
[[ $(count "CDS: kept the spark master's class archive") == 1 ]] || fail "no new archive of the master"
[[ ! -e $worker && ! -e $namenode ]] || fail "a refused archive is still there: $(ls -la "$CACHE")"

before=$(ls -l --time-style=+%s.%N "$CACHE")
cds_job off true --no-cds
[[ $(count 'CDS:') == 0 ]] || fail "--no-cds still used or wrote archives: $(grep 'CDS:' <<<"$OUT")"
[[ $(ls -l --time-style=+%s.%N "$CACHE") == "$before" ]] || fail "--no-cds changed the cache"
assert_nothing_left
pass "$loaded"
