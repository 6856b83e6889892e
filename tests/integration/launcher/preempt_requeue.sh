#!/bin/bash
# The checkpointed requeue: a --requeue job with a state dir writes data to HDFS, is preempted
# through the urgent partition while its driver runs (Slurm requeues it: PreemptMode=REQUEUE),
# restarts, finds the data written before the preemption intact (same namespace, same blocks),
# and finishes. The launcher must not requeue a second time.
# The same job runs one Spark application per run (history-app-one before the preemption,
# history-app-two after it): both runs' event logs are kept in the job dir and `spark-slurm
# history` serves both (history_checks.sh; this was history.sh's `requeue` case, merged here to
# save a second preemption cycle).
SMOKE_NAME=preempt_requeue
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=history_checks.sh
. "$LAUNCHER_HERE/history_checks.sh"
clean_node_scratch
head -c 3000000 /dev/urandom | base64 >"$WORK/data.txt"
chown "$SPARK_SLURM_TEST_USER" "$WORK/data.txt"
write_history_app
write_script driver.sh <<'DRIVER'
#!/bin/bash
set -euo pipefail
echo "run $SPARK_SLURM_RESTART_COUNT checkpoint dir $SPARK_SLURM_CHECKPOINT_DIR"
if [[ $SPARK_SLURM_RESTART_COUNT == 0 ]]; then
    hdfs dfs -mkdir -p /keep
    hdfs dfs -put -f data.txt /keep/data.txt
    echo "first run" > "$SPARK_SLURM_CHECKPOINT_DIR/progress"
    spark-submit app.py history-app-one
    touch written.marker
    exec sleep 600          # until preempted
fi
hdfs dfs -cat /keep/data.txt > readback.txt
cp "$SPARK_SLURM_CHECKPOINT_DIR/progress" progress.txt
spark-submit app.py history-app-two
echo "finished on run $SPARK_SLURM_RESTART_COUNT" > finished.txt
DRIVER
job_script job.sh -N2 --exclusive --requeue -p batch -t 15 "-o job-%j.out" "--open-mode=append" -- \
    run --runtime none --state-dir "$WORK/state" --ready-timeout 240 -- ./driver.sh
submit job.sh
batch_job=$JOBID
wait_for_file "$WORK/written.marker" 400 "the first run never wrote its data and ran its application"
# shellcheck disable=SC2016 # $(hostname) is the job's, on its node
submit -p urgent --exclusive -N3 -t 2 -o urgent-%j.out --wrap 'echo urgent ran on $(hostname)'
urgent_job=$JOBID
wait_state "$urgent_job" 300 COMPLETED
JOBID=$batch_job
release_requeue_hold "$batch_job" 120
wait_done "$batch_job" 600
restarts=$(ssc_job_field "$batch_job" Restarts)
[[ $restarts == 1 ]] || fail "the job restarted $restarts times, expected exactly 1 (Slurm's own requeue)"
cmp -s "$WORK/data.txt" "$WORK/readback.txt" || fail "the data read back after the restart differs"
grep -q 'first run' "$WORK/progress.txt" || fail "the checkpoint dir did not survive the restart"
grep -q 'finished on run 1' "$WORK/finished.txt" || fail "the driver did not finish on the requeued run"
out=$(job_output "$batch_job")
grep -q 'Slurm is requeueing the job' <<<"$out" || fail "the leader did not recognise Slurm's requeue"
grep -q 'requeued job' <<<"$out" && fail "the launcher requeued the job a second time"
[[ $(grep -c 'started hdfs namenode' <<<"$out") == 2 ]] || fail "expected the namenode to start once per run"
[[ $(grep -c 'formatting a new HDFS namespace' <<<"$out") == 1 ]] || fail "the namenode must be formatted on the first run only"
[[ -d $WORK/state/namenode/current ]] || fail "no namenode state in the state dir"
assert_nothing_left
echo "[$SSC_ME] data intact after preemption and requeue; now the history of both runs"
check_history requeue
