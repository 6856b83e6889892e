#!/bin/bash
# cds.sh: class-data sharing archives of the Spark daemons (issue 15) with --runtime none. A first
# job writes them into the user's cache as its daemons stop; a second starts its daemons from
# them; with one archive truncated and the other's bytes changed, a third says so once for each
# (one before the start, one from what the JVM logged), completes, and writes new ones; --no-cds
# neither uses nor writes any. The cache is the test's own (XDG_CACHE_HOME), not the job user's.
SMOKE_NAME=cds
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
CACHE=$WORK/cache/spark-slurm/cds

# cds_job NAME LAUNCHER_OPTIONS...: a 2-node Spark cluster (no HDFS: its daemons have no
# archives) whose driver does nothing; sets OUT to the job's output.
cds_job() {
    local name=$1
    shift
    write_script "$name.sh" <<EOF
#!/bin/bash
#SBATCH -N2
#SBATCH --exclusive
#SBATCH -t 10
#SBATCH -o $WORK/$name.out
export XDG_CACHE_HOME=$WORK/cache
srun --ntasks-per-node=1 --cpus-per-task=$SPARK_SLURM_TEST_CPUS_PER_NODE --mpi=pmix \\
    spark-slurm run --runtime none --no-hdfs $* --ready-timeout 240 -- true
EOF
    submit "$name.sh"
    wait_done "$JOBID" 600
    OUT=$(<"$WORK/$name.out")
}
# count REGEX: how many lines of OUT match
count() { grep -Ec -- "$1" <<<"$OUT" || true; }
archive() { find "$CACHE" -name "spark-$1-*.jsa"; }

cds_job first
[[ $(count 'CDS: no class archive for the spark (master|worker); it writes one when it stops') == 2 ]] ||
    fail "the first job did not say that its master and worker write archives"
[[ $(count "CDS: kept the spark (master|worker)'s class archive") == 2 ]] ||
    fail "the first job kept no archive of its master and worker"
[[ $(stat -c %a "$CACHE") == 700 ]] || fail "the cache $CACHE is not private (mode $(stat -c %a "$CACHE"))"
[[ -n $(archive master) && -n $(archive worker) ]] || fail "no archives in $CACHE: $(ls -la "$CACHE")"
[[ -z $(find "$CACHE" -name '*.tmp.*') ]] || fail "temporary archives left in $CACHE"

cds_job second
[[ $(count 'CDS: the spark (master|worker) starts from the class archive') == 2 ]] ||
    fail "the second job's daemons did not start from the archives"
[[ $(count 'CDS: (kept|ignoring|the spark .* refused)') == 0 ]] || fail "the second job rewrote or refused an archive"
grep -rq 'Unable to use shared archive' "$WORK"/spark-slurm-*/logs 2>/dev/null &&
    fail "a JVM of the second job refused its archive"

# Damage: the master's archive loses its end (a JVM mapping it would crash), the worker's gets
# other bytes at the same size (its CRC no longer matches).
truncate -s 1M "$(archive master)"
worker=$(archive worker)
dd if=/dev/urandom of="$worker" bs=4096 seek=2048 count=64 conv=notrunc status=none
cds_job damaged
[[ $(count 'warning: CDS: ignoring the class archive .* of the spark master: .*truncated') == 1 ]] ||
    fail "the truncated archive of the master was not reported once"
[[ $(count "warning: CDS: the spark worker's JVM refused the class archive") == 1 ]] ||
    fail "the damaged archive of the worker was not reported once"
[[ $(count "CDS: kept the spark master's class archive") == 1 ]] || fail "no new archive of the master"
[[ $(archive worker) != "$worker" || ! -e $worker ]] || fail "the refused archive $worker is still there"

before=$(ls -l --time-style=+%s.%N "$CACHE")
cds_job off --no-cds
[[ $(count 'CDS:') == 0 ]] || fail "--no-cds still used or wrote archives: $(grep 'CDS:' <<<"$OUT")"
[[ $(ls -l --time-style=+%s.%N "$CACHE") == "$before" ]] || fail "--no-cds changed the cache"
assert_nothing_left
pass
