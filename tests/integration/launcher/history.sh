#!/bin/bash
# issue 16's event logs and `spark-slurm history` (history_checks.sh): a job runs two small Spark
# applications in one run; its leader keeps their event logs in the job dir and records where
# they are, and `spark-slurm history JOBID` serves both afterwards. The requeued case (the first
# run's log kept next to the second run's) is checked by preempt_requeue.sh.
# The same run checks the driver's exit status (this was driver_exit_code.sh; issue 26: one
# cluster instead of two): the driver, on the leader with SPARK_MASTER_URL, exits 3 after its
# applications; the job ends FAILED 3:0, the leader reports the status, and the cluster is still
# torn down (nothing left) — and the event logs are kept all the same.
SMOKE_NAME=history
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=history_checks.sh
. "$LAUNCHER_HERE/history_checks.sh"
clean_node_scratch

write_history_app
write_script driver.sh <<'EOF2'
#!/bin/bash
set -euo pipefail
echo "driver on $(hostname) sees $SPARK_MASTER_URL"
spark-submit app.py history-app-one
spark-submit app.py history-app-two
exit 3
EOF2
job_script job.sh -N2 --exclusive -t 15 "-o job-%j.out" -- \
    run --runtime none --no-hdfs --ready-timeout 240 -- ./driver.sh
submit job.sh
wait_state "$JOBID" 600 "${TERMINAL_STATES[@]}"
ec=$(ssc_job_field "$JOBID" ExitCode)
[[ $STATE == FAILED && $ec == 3:0 ]] || fail "job ended $STATE with ExitCode $ec, expected FAILED 3:0"
out=$(job_output "$JOBID")
grep -q 'driver on node1 sees spark://' <<<"$out" || fail "the driver did not run on the leader with SPARK_MASTER_URL"
grep -q 'driver finished (exit status 3)' <<<"$out" || fail "the leader did not report the driver's status"
# check_history ends with assert_nothing_left and pass.
check_history plain
