#!/bin/bash
# A cancelling preemption (PreemptMode=CANCEL) that arrives while the namenode is still being
# formatted is classified like one at any other moment: the leader requeues the job.
SMOKE_NAME=preempt_during_format
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
"$LAUNCHER_HERE/slow-hadoop-home" "$WORK/slow-hadoop" "$SPARK_SLURM_TEST_HADOOP_HOME" 120
chown -R "$SPARK_SLURM_TEST_USER" "$WORK/slow-hadoop"
job_script job.sh -N2 --exclusive --requeue -p "$SPARK_SLURM_TEST_CANCEL_PARTITION" -t 15 \
    "-o job-%j.out" "--open-mode=append" -- \
    run --runtime none --hadoop-home "$WORK/slow-hadoop" --events "$WORK/events.jsonl" \
    --ready-timeout 240 -- true
submit job.sh
batch_job=$JOBID
wait_file_match "$WORK/events.jsonl" '"phase":"formatting_namespace"' 300
# shellcheck disable=SC2016 # $(hostname) is the job's, on its node
submit -p urgent --exclusive -N3 -t 2 -o urgent-%j.out --wrap 'echo urgent ran on $(hostname)'
wait_state "$JOBID" 300 COMPLETED
deadline=$((SECONDS + 120))
until [[ $(ssc_job_field "$batch_job" Restarts) == 1 ]]; do
    ((SECONDS < deadline)) || fail "the preempted job was not requeued"
    sleep 0.5
done
out=$(job_output "$batch_job")
grep -q 'the job was preempted' <<<"$out" || fail "the leader did not recognise the preemption"
grep -q "requeued job $batch_job" <<<"$out" || fail "the leader did not requeue the job"
python3 - "$WORK/events.jsonl" <<'PY' || fail "the signal did not arrive during the format"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
first_signal = next(i for i, e in enumerate(events) if e["event"] == "signal")
phases = [e["phase"] for e in events[:first_signal] if e["event"] == "phase"]
# A worker that got its SIGTERM first may have made the leader start stopping already.
assert "formatting_namespace" in phases and "starting_daemons" not in phases, phases
PY
scancel "$batch_job"
wait_state "$batch_job" 120 CANCELLED
assert_nothing_left
pass
