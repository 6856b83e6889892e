#!/bin/bash
# The leader keeps serving its workers while a helper command is slow: with a namenode format
# and a saveNamespace that each stall for longer than the workers' silence limit (15 s), a job
# with a state dir still starts, runs and ends COMPLETED — no worker gives up on its leader, no
# requeue — and the events file (--events) shows the format phase really outlasting the limit.
SMOKE_NAME=slow_format_and_save
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
stall=22
"$LAUNCHER_HERE/slow-hadoop-home" "$WORK/slow-hadoop" "$SPARK_SLURM_TEST_HADOOP_HOME" "$stall"
chown -R "$SPARK_SLURM_TEST_USER" "$WORK/slow-hadoop"
job_script job.sh -N2 --exclusive -t 15 "-o job-%j.out" -- \
    run --runtime none --hadoop-home "$WORK/slow-hadoop" --state-dir "$WORK/state" \
    --events "$WORK/events.jsonl" --ready-timeout 240 -- \
    bash -c 'echo kept | hdfs dfs -put -f - /kept && hdfs dfs -cat /kept'
submit job.sh
wait_done "$JOBID" 500
out=$(job_output "$JOBID")
[[ $(ssc_job_field "$JOBID" Restarts) == 0 ]] || fail "the job was requeued"
grep -q '^kept$' <<<"$out" || fail "the driver's HDFS round trip failed"
grep -q 'stalling -format' <<<"$(cat "$WORK"/spark-slurm-"$JOBID"/logs/* 2>/dev/null)" ||
    fail "the format was not stalled (the fault was not injected)"
grep -q 'saved the HDFS namespace' <<<"$out" || fail "the namespace was not saved"
if grep -Eq 'lost the leader|no heartbeat|requeued job' <<<"$out"; then
    fail "a worker lost its leader during a slow helper"
fi
python3 - "$WORK/events.jsonl" "$stall" <<'PY' || fail "the events file does not show the stalled phases"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
stall = float(sys.argv[2])
phases = {e["phase"]: e["time"] for e in events if e["event"] == "phase"}
# With Kerberos (the default) the format starts with the KDC; the phase says so once the KDC is
# ready and only the format is left.
assert "formatting_namespace" in phases, sorted(phases)
formatting = phases["starting_daemons"] - phases.get("starting_kdc", phases["formatting_namespace"])
assert formatting >= stall, f"format phase took {formatting:.1f} s"
saving = next(e["time"] for e in events if e["event"] == "stopped") - phases["saving_namespace"]
assert saving >= stall, f"save phase took {saving:.1f} s"
kinds = [e["event"] for e in events]
for kind in ("rendezvous", "daemon_up", "workers", "datanodes", "ready", "driver_started",
             "driver_exited", "namespace_saved", "stopped", "exit"):
    assert kind in kinds, f"no {kind} event"
assert events[-1]["event"] == "exit" and events[-1]["code"] == 0, events[-1]
print(f"format phase {formatting:.1f} s, save phase {saving:.1f} s, {len(events)} events")
PY
assert_nothing_left
pass
