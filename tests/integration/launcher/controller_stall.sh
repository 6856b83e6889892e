#!/bin/bash
# controller_stall.sh MODE: slurmctld stops answering for 60 s (SIGSTOP, then SIGCONT: what a
# controller restart, an upgrade or a scheduling storm looks like to a job) while a cluster runs,
# and the job must not notice beyond a delay (issue 27).
#   run: a `run` word count (host install, Kerberos HDFS); the stall starts when the namenode
#        format starts and lasts past readiness, so it covers the format, the moment the leader
#        publishes the cluster (its Slurm comment and time limit: libslurm calls) and the
#        driver's start. The counts must match a count made without Spark, the driver must have
#        started during the stall, and no launcher may report a lost peer.
#   up:  an `up` cluster is held; the stall comes while it is held. Afterwards a driver from the
#        login node still gets both workers, and `down` ends the job COMPLETED.
# Both: Restarts=0, and nothing is left on any node.
mode=$1
SMOKE_NAME=controller_stall_$mode
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch

stall_seconds=${SPARK_SLURM_TEST_STALL_SECONDS:-60}
ctld_pid=$(cat "$SSC_CTLD_PID")
[[ -n $ctld_pid && -d /proc/$ctld_pid ]] || fail "no slurmctld process (pid file $SSC_CTLD_PID)"
# Whatever happens to this test, the controller answers again afterwards.
trap 'kill -CONT "$ctld_pid" 2>/dev/null || true' EXIT

# stall: stop slurmctld for stall_seconds; sets stall_from/stall_to (unix seconds)
stall() {
    stall_from=$(date +%s.%N)
    kill -STOP "$ctld_pid"
    echo "[$SSC_ME] slurmctld stopped"
    sleep "$stall_seconds" # the stall itself: what is tested is that the job rides it out
    kill -CONT "$ctld_pid"
    stall_to=$(date +%s.%N)
    echo "[$SSC_ME] slurmctld answers again after $stall_seconds s"
    timeout 30 scontrol ping | grep -q 'is UP' || fail "slurmctld did not come back"
}

# event_time EVENT [PHASE]: the unix time of the leader's first EVENT (with that phase)
event_time() {
    python3 - "$WORK/events.jsonl" "$@" <<'PY'
import json, sys
path, event = sys.argv[1], sys.argv[2]
phase = sys.argv[3] if len(sys.argv) > 3 else None
for line in open(path):
    item = json.loads(line)
    if item["event"] == event and (phase is None or item.get("phase") == phase):
        print(item["time"]); break
PY
}

no_lost_peers() {
    local out=$1
    if grep -Eq 'lost the leader|goes on without|worker_lost|requeued job' <<<"$out" "$WORK/events.jsonl"; then
        fail "a launcher took the stall for a lost peer:
$(grep -E 'lost the leader|goes on without|requeued job|no heartbeat' <<<"$out")"
    fi
    [[ $(ssc_job_field "$JOBID" Restarts) == 0 ]] || fail "the job was requeued"
}

if [[ $mode == run ]]; then
    "$WORDCOUNTS" make "$WORK/input.txt" --seed 20261207
    chown "$SPARK_SLURM_TEST_USER" "$WORK/input.txt"
    copy_in "$LAUNCHER_HERE/../../../slurm/examples/wordcount.py" "$LAUNCHER_HERE/../../../slurm/examples/wordcount-driver.sh"
    job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
        run --runtime none --ready-timeout 240 --events "$WORK/events.jsonl" -- ./wordcount-driver.sh
    submit job.sh
    # The format runs alongside the KDC's start: the stall begins with whichever is first.
    wait_file_match "$WORK/events.jsonl" '"phase": ?"(starting_kdc|formatting_namespace)"' 400
    stall
    wait_done "$JOBID" 600
    out=$(job_output "$JOBID")
    "$WORDCOUNTS" check "$WORK/input.txt" "$WORK/counts.tsv" || fail "the word counts differ from the reference count"
    grep -q 'datanodes 2/2 live' <<<"$out" || fail "the leader did not report 2/2 datanodes"
    grep -q 'EXECUTORS 2 ' <<<"$out" || fail "the application did not get an executor on each of the 2 workers"
    ready=$(event_time ready)
    started=$(event_time driver_started)
    [[ -n $ready && -n $started ]] || fail "no ready or driver_started event"
    # Published and serving while slurmctld was stopped: the leader did not wait for it.
    python3 -c "import sys; f,r,d,t=map(float,sys.argv[1:]); sys.exit(0 if f < r <= d < t else 1)" \
        "$stall_from" "$ready" "$started" "$stall_to" ||
        fail "the cluster was not ready and the driver not started within the stall ($stall_from..$stall_to: ready $ready, driver $started)"
    no_lost_peers "$out"
    # What slurmctld could not take during the stall, it took afterwards.
    squeue -h -j "$JOBID" -o %k 2>/dev/null | grep -q 'spark-slurm' ||
        scontrol show job "$JOBID" | grep -q 'Comment=spark-slurm' || fail "the job's comment was never set"
    note="ready $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$stall_from" "$ready") s into the stall"
elif [[ $mode == up ]]; then
    home=$(getent passwd "$SPARK_SLURM_TEST_USER" | cut -d: -f6)
    copy_in "$LAUNCHER_HERE/interactive_sum.py"
    job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
        up --runtime none --no-connect --ready-timeout 240 --events "$WORK/events.jsonl"
    submit job.sh
    wait_file_match "$WORK/events.jsonl" '"event": ?"holding"' 400
    record=$home/.spark-slurm/clusters/$JOBID/cluster.json
    [[ -f $record ]] || fail "no connection record $record for the held cluster"
    stall
    # A driver from the login node after the stall: both workers are still there.
    n=100000
    want=$(python3 -c "print(sum(i * i for i in range($((n)) + 1)))")
    "$RUN_AS_USER" bash -c "eval \"\$(spark-slurm env --job $JOBID)\" && cd '$WORK' && spark-submit interactive_sum.py $n 2" \
        >"$WORK/sum.out" 2>"$WORK/sum.err" || fail "spark-submit after the stall failed"
    grep -q "INTERACTIVE-SUM $want HOSTS 2 MASTER spark://" "$WORK/sum.out" ||
        fail "the driver after the stall did not compute $want on both workers: $(cat "$WORK/sum.out")"
    "$RUN_AS_USER" spark-slurm down --job "$JOBID" >/dev/null || fail "spark-slurm down failed"
    wait_done "$JOBID" 300
    no_lost_peers "$(job_output "$JOBID")"
    note="held through the stall"
else
    fail "usage: controller_stall.sh run|up"
fi
assert_nothing_left
pass "$note"
