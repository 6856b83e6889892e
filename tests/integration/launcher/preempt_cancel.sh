#!/bin/bash
# Preemption with PreemptMode=CANCEL: Slurm cancels the preempted --requeue job and does not
# bring it back; the leader sees the PREEMPTED state at SIGTERM and requeues the job itself through
# libslurm. The requeued run restarts from the state dir and completes.
SMOKE_NAME=preempt_cancel
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
write_script driver.sh <<'DRIVER'
#!/bin/bash
set -euo pipefail
if [[ $SPARK_SLURM_RESTART_COUNT == 0 ]]; then
    echo "before preemption" | hdfs dfs -put -f - /progress
    touch written.marker
    exec sleep 600
fi
hdfs dfs -cat /progress > progress.txt
echo "finished on run $SPARK_SLURM_RESTART_COUNT" > finished.txt
DRIVER
job_script job.sh -N2 --exclusive --requeue -p "$SPARK_SLURM_TEST_CANCEL_PARTITION" -t 15 "-o job-%j.out" \
    "--open-mode=append" -- run --runtime none --state-dir "$WORK/state" --ready-timeout 240 -- ./driver.sh
submit job.sh
batch_job=$JOBID
wait_for_file "$WORK/written.marker" 400 "the first run never wrote its data"
# shellcheck disable=SC2016 # $(hostname) is the job's, on its node
submit -p urgent --exclusive -N3 -t 2 -o urgent-%j.out --wrap 'echo urgent ran on $(hostname)'
wait_state "$JOBID" 300 COMPLETED
release_requeue_hold "$batch_job" 120
wait_done "$batch_job" 600
[[ $(ssc_job_field "$batch_job" Restarts) == 1 ]] || fail "expected exactly one requeue"
grep -q 'before preemption' "$WORK/progress.txt" || fail "the HDFS data did not survive the preemption"
grep -q 'finished on run 1' "$WORK/finished.txt" || fail "the driver did not finish on the requeued run"
out=$(job_output "$batch_job")
grep -q 'the job was preempted' <<<"$out" || fail "the leader did not recognise a cancelling preemption"
grep -q "requeued job $batch_job" <<<"$out" || fail "the leader did not requeue the job"
assert_nothing_left
pass
