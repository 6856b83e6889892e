#!/bin/bash
# fail_fast_checks.sh (issue 12): a driver/executor Python mismatch and a --bind source missing
# on one node stop the job before anything starts, with one message naming the node, under both
# runtimes, and leave nothing behind; the dry run (plan) finds the same. Issue 16: a Spark the
# launcher does not run is refused the same way, naming the version found and those it runs.
# One job, six short launcher steps.
SMOKE_NAME=fail_fast_checks
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[[ -f $SPARK_SLURM_TEST_IMAGE ]] ||
    fail "the test image $SPARK_SLURM_TEST_IMAGE is missing (singularity/make-offline-archive builds it)"
clean_node_scratch

# A "Python" on the shared filesystem that is an older minor version on node3 only (as a node
# with another module or image would be): it answers the version question as Python 3.10 would.
install -d -o "$SPARK_SLURM_TEST_USER" "$WORK/oldpy" "$WORK/oldpy/bin"
write_script oldpy/bin/python <<'PY'
#!/bin/sh
if [ "$(cat /proc/sys/kernel/hostname)" = node3 ]; then echo 3.10.13; exit 0; fi
exec /usr/bin/python3 "$@"
PY
# A directory every node but node3 has: in the node-private /tmp of node1 and node2.
only_some=/tmp/spark-slurm-bind-check-$$
for node in node1 node2; do
    install -d -o "$SPARK_SLURM_TEST_USER" "$SPARK_SLURM_TEST_ROOT/nodes/$node$only_some"
done

# A Spark 3.4 install, stood in for by the name of its core jar next to the real launch scripts:
# the launcher refuses it from that name before anything of it would run.
install -d -o "$SPARK_SLURM_TEST_USER" "$WORK/spark-3.4/jars"
ln -s "$SPARK_SLURM_TEST_SPARK_HOME/bin" "$WORK/spark-3.4/bin"
touch "$WORK/spark-3.4/jars/spark-core_2.12-3.4.4.jar"

srun_line="srun --ntasks-per-node=1 --cpus-per-task=$SPARK_SLURM_TEST_CPUS_PER_NODE --mpi=pmix spark-slurm run --ready-timeout 120"
write_script job.sh <<JOB
#!/bin/bash
#SBATCH -N3 --exclusive -t 10 -o job-%j.out
for runtime in none apptainer; do
    start=\$SECONDS
    $srun_line --runtime \$runtime --python $WORK/oldpy/bin/python -- true >python-\$runtime.out 2>&1
    echo "EXIT \$? \$((SECONDS - start)) s" >>python-\$runtime.out
    start=\$SECONDS
    $srun_line --runtime \$runtime --bind $only_some -- true >bind-\$runtime.out 2>&1
    echo "EXIT \$? \$((SECONDS - start)) s" >>bind-\$runtime.out
done
start=\$SECONDS
$srun_line --runtime none --spark-home $WORK/spark-3.4 -- true >old-spark.out 2>&1
echo "EXIT \$? \$((SECONDS - start)) s" >>old-spark.out
# The dry run checks the same.
start=\$SECONDS
srun --ntasks-per-node=1 --cpus-per-task=$SPARK_SLURM_TEST_CPUS_PER_NODE --mpi=pmix spark-slurm plan --runtime none --bind $only_some >bind-plan.out 2>&1
echo "EXIT \$? \$((SECONDS - start)) s" >>bind-plan.out
JOB
submit job.sh
wait_done "$JOBID" 300

check() {  # check FILE REGEX [COMMAND]
    local file=$WORK/$1 messages command=${3:-run}
    [[ -f $file ]] || fail "$1: the step wrote nothing"
    grep -Eq "$2" "$file" || fail "$1: no message matching /$2/"
    messages=$(grep -c "^spark-slurm $command: " "$file" || true)
    [[ $messages == 1 ]] || fail "$1: expected one message, got $messages"
    grep -Eq '^EXIT 2 [0-9]+ s$' "$file" || fail "$1: expected exit status 2"
    local seconds
    seconds=$(sed -En 's/^EXIT 2 ([0-9]+) s$/\1/p' "$file")
    ((seconds <= 30)) || fail "$1: took $seconds s to fail"
    grep -q 'started' "$file" && fail "$1: something was started"
    echo "[$SSC_ME] $1: $(grep "^spark-slurm $command: " "$file") (${seconds} s)"
}
for runtime in none apptainer; do
    check "python-$runtime.out" "the Python \\(--python $WORK/oldpy/bin/python\\) is 3\\.10\\.13 on node3 but 3\\.11\\.[0-9]+ on node1, where the driver runs;"
    check "bind-$runtime.out" "the bind source $only_some \\(--bind\\) does not exist on node3;"
done
check old-spark.out "SPARK_HOME $WORK/spark-3\\.4 holds Spark 3\\.4\\.4, which spark-slurm does not run; it runs Spark 3\\.5\\.2 or later 3\\.5, and 4\\.0 to 4\\.3"
check bind-plan.out "the bind source $only_some \\(--bind\\) does not exist on node3;" plan
for node in node1 node2; do rm -rf "${SPARK_SLURM_TEST_ROOT:?}/nodes/$node$only_some"; done
assert_nothing_left
pass
