#!/bin/bash
# The leader is lost: its launcher is killed the hard way (SIGKILL) while the driver runs. The
# workers notice at once, requeue the job through libslurm, and every rank of that run ends
# within the stated bound (docs/failure-matrix.md: 30 s); the requeued run then completes.
SMOKE_NAME=leader_lost
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
write_script driver.sh <<'DRIVER'
#!/bin/bash
if [[ $SPARK_SLURM_RESTART_COUNT == 0 ]]; then touch running.marker; exec sleep 600; fi
echo "second run ok" > finished.txt
DRIVER
job_script job.sh -N2 --exclusive --requeue -t 15 "-o job-%j.out" "--open-mode=append" -- \
    run --runtime none --state-dir "$WORK/state" --ready-timeout 240 -- ./driver.sh
submit job.sh
wait_for_file "$WORK/running.marker" 400 "the driver never started"
kill_launcher 0
wait_no_user_processes 30
echo "[$SSC_ME] every rank gone $((SECONDS - killed_at)) s after the leader was killed"
release_requeue_hold "$JOBID" 120
wait_done "$JOBID" 600
[[ $(ssc_job_field "$JOBID" Restarts) == 1 ]] || fail "expected exactly one requeue"
grep -q 'second run ok' "$WORK/finished.txt" || fail "the requeued run did not finish"
grep -q 'requeued job .* after losing the leader' "$WORK/job-$JOBID.out" || fail "no worker requeued the job"
assert_nothing_left
pass "ranks gone $((SECONDS - killed_at)) s"
