#!/bin/bash
# The walltime limit arrives as SIGTERM like a preemption, but must never cause a requeue: the
# job ends TIMEOUT, everything is stopped, nothing is left behind.
SMOKE_NAME=walltime
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
job_script job.sh -N2 --exclusive --requeue -t 1 "-o job-%j.out" -- \
    run --runtime none --no-hdfs --state-dir "$WORK/state" --ready-timeout 240 -- sh -c 'echo DRIVER-RUNNING; exec sleep 600'
submit job.sh
wait_state "$JOBID" 300 TIMEOUT
assert_nothing_left
[[ $(ssc_job_field "$JOBID" Restarts) == 0 ]] || fail "the timed-out job was requeued"
out=$(job_output "$JOBID")
# Line-anchored: the leader's "running the driver: ..." line names DRIVER-RUNNING too.
grep -qx DRIVER-RUNNING <<<"$out" || fail "the driver never ran"
grep -q 'the job reached its time limit' <<<"$out" || fail "the leader did not recognise the time limit"
pass
