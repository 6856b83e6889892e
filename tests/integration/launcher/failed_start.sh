#!/bin/bash
# A start that fails: a broken Spark install (bin/spark-class but no jars, as after a partial
# copy) makes the master exit at once. The leader must say which daemon on which node failed,
# with the last lines of its log; every rank must exit; nothing may be left on any node.
SMOKE_NAME=failed_start
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
broken=$WORK/broken-spark
install -d -o "$SPARK_SLURM_TEST_USER" "$broken" "$broken/bin"
install -m 0755 -o "$SPARK_SLURM_TEST_USER" \
    "$SPARK_SLURM_TEST_SPARK_HOME"/bin/{spark-class,load-spark-env.sh,find-spark-home} "$broken/bin/"
write_script job.sh <<JOB
#!/bin/bash
#SBATCH -N2 --exclusive -t 10 -o job-%j.out
export SPARK_HOME=$broken
srun --ntasks-per-node=1 --cpus-per-task=$SPARK_SLURM_TEST_CPUS_PER_NODE --mpi=pmix spark-slurm run --runtime none --no-hdfs --ready-timeout 120 -- true
JOB
submit job.sh
wait_state "$JOBID" 300 "${TERMINAL_STATES[@]}"
[[ $STATE == FAILED ]] || fail "job ended $STATE, expected FAILED"
out=$(job_output "$JOBID")
grep -q 'error: the spark master on node1 stopped' <<<"$out" || fail "the leader did not name the failed daemon and node"
grep -qi 'jars' <<<"$out" || fail "the error did not include the daemon's own last log lines"
# The workers hear the stop even when the failure comes before they have connected.
grep -q 'could not reach the leader' <<<"$out" && fail "a worker was left waiting to reach the leader"
assert_nothing_left
pass
