#!/bin/bash
# smoke_preempt: a --requeue --exclusive job in 'batch' is preempted by an exclusive job in 'urgent',
# comes back with SLURM_RESTART_COUNT=1, and then completes.
SMOKE_NAME=smoke_preempt
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# A requeued job may start again only after cred_expire (+1 s): 30 s in the test cluster,
# 120 s with Slurm's default. Allow for the default with margin.
REQUEUE_DEADLINE=${SMOKE_REQUEUE_DEADLINE:-300}

write_script low.sh <<'JOB'
#!/bin/bash
echo "START job=$SLURM_JOB_ID restart=${SLURM_RESTART_COUNT:-0} host=$(hostname)"
if [[ ${SLURM_RESTART_COUNT:-0} -ge 1 ]]; then
    echo "DONE restart=$SLURM_RESTART_COUNT"
    exit 0
fi
trap 'echo "SIGTERM restart=${SLURM_RESTART_COUNT:-0}"; exit 143' TERM
sleep 600 &
wait
JOB
write_script urgent.sh <<'JOB'
#!/bin/bash
echo "URGENT job=$SLURM_JOB_ID host=$(hostname)"
JOB

submit -p "$SPARK_SLURM_TEST_PARTITION" --requeue --exclusive -N1 -t 15 --open-mode=append \
    -o low.out -e low.err low.sh
low=$JOBID
wait_state "$low" 60 RUNNING
wait_file_match "$WORK/low.out" '^START .* restart=0 ' 60
low_node=$(ssc_job_field "$low" NodeList)

# exclusive on the same node: it cannot start without preempting the low job
submit -p "$SPARK_SLURM_TEST_URGENT_PARTITION" --exclusive -w "$low_node" -N1 -t 5 -o urgent.out -e urgent.err urgent.sh
urgent=$JOBID
wait_done "$urgent" 90
restarts=$(ssc_job_field "$low" Restarts)
[[ $restarts == 1 ]] || fail "low-priority job $low has Restarts=$restarts after preemption (expected 1)"
echo "[$SSC_ME] job $low preempted and requeued (state $(ssc_job_field "$low" JobState)); waiting for its restart"

wait_done "$low" "$REQUEUE_DEADLINE"
grep -Eq '^START .* restart=1 ' "$WORK/low.out" || fail "the requeued run did not see SLURM_RESTART_COUNT=1"
grep -Eq '^DONE restart=1$' "$WORK/low.out" || fail "the requeued run did not complete"
[[ $(grep -c '^START ' "$WORK/low.out") == 2 ]] || fail "expected exactly 2 runs of job $low"
grep -q 'DUE TO PREEMPTION' "$WORK/low.err" ||
    echo "[$SSC_ME] note: no 'DUE TO PREEMPTION' line in low.err"
pass "job $low preempted by $urgent on $low_node, restarted with SLURM_RESTART_COUNT=1, completed"
