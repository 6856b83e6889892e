#!/bin/bash
# The driver's non-zero exit status becomes the job's, and the cluster is still torn down.
SMOKE_NAME=driver_exit_code
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
# shellcheck disable=SC2016 # expanded by the driver's sh, in the job
job_script job.sh -N2 --exclusive -t 10 "-o job-%j.out" -- \
    run --runtime none --no-hdfs --ready-timeout 240 -- \
    sh -c 'echo "driver on $(hostname) sees $SPARK_MASTER_URL"; exit 3'
submit job.sh
wait_state "$JOBID" 400 "${TERMINAL_STATES[@]}"
ec=$(ssc_job_field "$JOBID" ExitCode)
[[ $STATE == FAILED && $ec == 3:0 ]] || fail "job ended $STATE with ExitCode $ec, expected FAILED 3:0"
out=$(job_output "$JOBID")
grep -q 'driver on node1 sees spark://' <<<"$out" || fail "the driver did not run on the leader with SPARK_MASTER_URL"
grep -q 'driver finished (exit status 3)' <<<"$out" || fail "the leader did not report the driver's status"
assert_nothing_left
pass
