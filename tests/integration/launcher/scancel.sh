#!/bin/bash
# scancel of a running checkpointed job (--requeue, a state dir): every rank stops its daemons
# and exits, nothing is left behind, and the job is NOT requeued: a user's cancel is final.
SMOKE_NAME=scancel
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
job_script job.sh -N2 --exclusive --requeue -t 10 "-o job-%j.out" -- \
    run --runtime none --state-dir "$WORK/state" --ready-timeout 240 -- sh -c 'echo DRIVER-RUNNING; exec sleep 600'
submit job.sh
wait_file_match "$WORK/job-$JOBID.out" DRIVER-RUNNING 300
"$RUN_AS_USER" scancel "$JOBID"
wait_state "$JOBID" 120 CANCELLED
assert_nothing_left
[[ $(ssc_job_field "$JOBID" JobState) == CANCELLED && $(ssc_job_field "$JOBID" Restarts) == 0 ]] ||
    fail "the cancelled job was requeued"
out=$(job_output "$JOBID")
grep -q 'received Terminated' <<<"$out" || fail "the launcher did not report the signal"
grep -q 'the job was cancelled' <<<"$out" || fail "the leader did not recognise a cancel"
pass
