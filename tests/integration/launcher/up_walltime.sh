#!/bin/bash
# A cluster held by `spark-slurm up` whose time limit comes stops cleanly before Slurm kills it:
# --stop-before-end ahead of the limit it saves the HDFS namespace into the state dir and stops
# every daemon, so the job ends COMPLETED (not TIMEOUT), its connection record is gone, and the
# next cluster on that state dir finds the file written into HDFS meanwhile.
# That next cluster is also scancel's case (this was scancel.sh; issue 26: one cluster instead of
# two): a running checkpointed job (--requeue, a state dir) cancelled by its user stops its
# daemons on every rank and exits, nothing is left behind, and the job is NOT requeued: a user's
# cancel is final.
SMOKE_NAME=up_walltime
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
home=$(getent passwd "$SPARK_SLURM_TEST_USER" | cut -d: -f6)
install -d -o "$SPARK_SLURM_TEST_USER" "$WORK/state"

# 2 minutes of walltime (Slurm's are whole minutes), stop 75 s before the end, 45 s in: the
# cluster, ready ~10 s in (~30 s with no class archives yet), holds long enough to write a file
# into its HDFS.
job_script job.sh -N2 --exclusive -t 2 "-o job-%j.out" -- \
    up --runtime none --state-dir "$WORK/state" --stop-before-end 75 --ready-timeout 150
submit job.sh
record=$home/.spark-slurm/clusters/$JOBID/cluster.json
wait_for_file "$record" 200 "the cluster did not come up"
echo "kept across jobs" >"$WORK/kept.txt"
chown "$SPARK_SLURM_TEST_USER" "$WORK/kept.txt"
"$RUN_AS_USER" bash -c "eval \"\$(spark-slurm env --job $JOBID)\" && hdfs dfs -put '$WORK/kept.txt' /kept.txt" ||
    fail "could not write into the held cluster's HDFS"

wait_state "$JOBID" 240 COMPLETED FAILED TIMEOUT CANCELLED
[[ $STATE == COMPLETED ]] || fail "the held cluster's job ended $STATE, not COMPLETED"
out=$(job_output "$JOBID")
grep -q "time limit is 75 s away" <<<"$out" || fail "the leader did not stop for the time limit"
grep -Eq 'saved the HDFS namespace in [0-9.]+ s' <<<"$out" || fail "the namespace was not saved"
[[ ! -e $home/.spark-slurm/clusters/$JOBID ]] || fail "the connection record outlived the cluster"
assert_nothing_left

# The state dir serves the next cluster: the file is there. Its driver then runs until its
# user cancels the job.
first=$JOBID
job_script job2.sh -N2 --exclusive --requeue -t 10 "-o job-%j.out" -- \
    run --runtime none --state-dir "$WORK/state" --ready-timeout 240 -- \
    sh -c 'hdfs dfs -cat /kept.txt; echo DRIVER-RUNNING; exec sleep 600'
submit job2.sh
# (Line-anchored: the leader's "running the driver: ..." line names DRIVER-RUNNING too.)
wait_file_match "$WORK/job-$JOBID.out" '^DRIVER-RUNNING$' 300
grep -q "kept across jobs" <<<"$(job_output "$JOBID")" || fail "the file written into job $first's HDFS is gone"
"$RUN_AS_USER" scancel "$JOBID"
wait_state "$JOBID" 120 CANCELLED
assert_nothing_left
[[ $(ssc_job_field "$JOBID" JobState) == CANCELLED && $(ssc_job_field "$JOBID" Restarts) == 0 ]] ||
    fail "the cancelled job was requeued"
out=$(job_output "$JOBID")
grep -q 'received Terminated' <<<"$out" || fail "the launcher did not report the signal"
grep -q 'the job was cancelled' <<<"$out" || fail "the leader did not recognise a cancel"
pass
