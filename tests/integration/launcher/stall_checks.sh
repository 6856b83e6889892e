# shellcheck shell=bash
# A 60 s stall of slurmctld (issue 27), shared by word_count.sh ... stall (a `run` job's start) and
# interactive_up.sh none (an `up` cluster while it is held). Source after common.sh.
stall_seconds=${SPARK_SLURM_TEST_STALL_SECONDS:-60}
ctld_pid=$(cat "$SSC_CTLD_PID")
[[ -n $ctld_pid && -d /proc/$ctld_pid ]] || fail "no slurmctld process (pid file $SSC_CTLD_PID)"
# Whatever happens to this test, the controller answers again afterwards.
trap 'kill -CONT "$ctld_pid" 2>/dev/null || true' EXIT

# stall [FILE REGEX]: stop slurmctld for stall_seconds (SIGSTOP, then SIGCONT: what a controller
# restart, an upgrade or a scheduling storm looks like to a job) and, given FILE and REGEX, on
# until FILE has a line matching REGEX (at most 240 s more): what must happen while the
# controller is away happens within the stall however slow this machine is today. Sets
# stall_from/stall_to (unix seconds).
# shellcheck disable=SC2034 # stall_from/stall_to are for the sourcing test
stall() {
    stall_from=$(date +%s.%N)
    kill -STOP "$ctld_pid"
    echo "[$SSC_ME] slurmctld stopped"
    sleep "$stall_seconds" # the stall itself: what is tested is that the job rides it out
    # (a failure here resumes slurmctld too: the EXIT trap above)
    if [[ -n ${1:-} ]]; then wait_file_match "$1" "$2" 240; fi
    kill -CONT "$ctld_pid"
    stall_to=$(date +%s.%N)
    echo "[$SSC_ME] slurmctld answers again after $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1])))" "$stall_from" "$stall_to") s"
    timeout 30 scontrol ping | grep -q 'is UP' || fail "slurmctld did not come back"
}

# no_lost_peers OUTPUT: no launcher of job $JOBID took the stall for a lost peer (in its output
# and $WORK/events.jsonl), and the job was not requeued.
no_lost_peers() {
    local out=$1
    if grep -Eq 'lost the leader|goes on without|worker_lost|requeued job' <<<"$out" "$WORK/events.jsonl"; then
        fail "a launcher took the stall for a lost peer:
$(grep -E 'lost the leader|goes on without|requeued job|no heartbeat' <<<"$out")"
    fi
    [[ $(ssc_job_field "$JOBID" Restarts) == 0 ]] || fail "the job was requeued"
}
