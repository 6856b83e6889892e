#!/bin/bash
# scancel of a running job: every rank stops its daemons and exits, nothing is left behind.
SMOKE_NAME=scancel
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
job_script job.sh -N3 --exclusive -t 10 "-o job-%j.out" -- \
    run --runtime none --ready-timeout 240 -- sh -c 'echo DRIVER-RUNNING; exec sleep 600'
submit job.sh
wait_file_match "$WORK/job-$JOBID.out" DRIVER-RUNNING 300
"$RUN_AS_USER" scancel "$JOBID"
wait_state "$JOBID" 120 CANCELLED
assert_nothing_left
out=$(job_output "$JOBID")
grep -q 'received Terminated' <<<"$out" || fail "the launcher did not report the signal"
pass
