# shellcheck shell=bash
# Shared by the smoke tests: a per-test work dir in the shared job dir, job submission as the job
# user, polling with deadlines, and loud failures (with the job's output and the cluster logs).
set -Eeuo pipefail
SMOKE_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_DIR=$(cd "$SMOKE_HERE/../../cluster" && pwd)
# shellcheck source=../../cluster/lib.sh
. "$CLUSTER_DIR/lib.sh"
RUN_AS_USER=$CLUSTER_DIR/run-as-user
SSC_ME=${SMOKE_NAME:-smoke}
SMOKE_JOBS=()

[[ $(id -u) == 0 ]] || { echo "$SSC_ME: must run as root" >&2; exit 1; }
timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP' ||
    { echo "$SSC_ME: the test cluster is not up (run tests/cluster/up)" >&2; exit 1; }

# One user of the cluster at a time (tests, benchmarks, the quickstart): their checks read the
# whole machine's process table and every node's /tmp.
exec 9>>"$SPARK_SLURM_TEST_ROOT/cluster-use.lock"
flock 9

# Work dir in the shared job dir, owned by the job user; removed on success, kept on failure.
WORK=$SPARK_SLURM_TEST_SHARED/smoke/$SSC_ME.$(date +%Y%m%d-%H%M%S).$$
install -d -m 0755 -o "$SPARK_SLURM_TEST_USER" -g "$(id -gn "$SPARK_SLURM_TEST_USER")" \
    "$SPARK_SLURM_TEST_SHARED/smoke" "$WORK"

smoke_start=$SECONDS
smoke_dump() {
    local id f
    for id in "${SMOKE_JOBS[@]}"; do
        echo "----- scontrol show job $id -----" >&2
        scontrol show job "$id" >&2 2>&1 || true
    done
    for f in "$WORK"/*; do
        [[ -f $f ]] || continue
        echo "----- $f -----" >&2
        if [[ ! -s $f ]] || grep -qI '' "$f"; then tail -n 200 "$f" >&2 || true; else echo "(binary)" >&2; fi
    done
    echo "----- squeue -----" >&2
    squeue >&2 || true
    ssc_show_logs 30
}
fail() {
    echo "[$SSC_ME] FAIL: $*" >&2
    smoke_dump
    for id in "${SMOKE_JOBS[@]}"; do scancel "$id" 2>/dev/null || true; done
    echo "[$SSC_ME] FAIL: $* (work dir kept: $WORK)" >&2
    exit 1
}
# shellcheck disable=SC2120 # the note is optional: most tests call plain `pass`
pass() {
    rm -rf "$WORK"
    echo "[$SSC_ME] PASS in $((SECONDS - smoke_start))s${1:+: $1}"
}
on_err() { fail "command failed (line $1): $2"; }
trap 'on_err $LINENO "$BASH_COMMAND"' ERR

# write_script NAME <<'EOF' ... : a job script in the work dir, readable by the user
write_script() {
    cat >"$WORK/$1"
    chmod 0755 "$WORK/$1"
    chown "$SPARK_SLURM_TEST_USER" "$WORK/$1"
}

# submit SBATCH_ARGS... : sbatch as the job user with cwd = work dir; sets JOBID
submit() {
    local out
    # shellcheck disable=SC2016 # $1 and $@ are the inner bash's arguments
    out=$("$RUN_AS_USER" bash -c 'cd "$1" && shift && exec sbatch --parsable "$@"' sh "$WORK" "$@" 2>&1) ||
        fail "sbatch $* failed: $out"
    JOBID=${out%%;*}
    [[ $JOBID =~ ^[0-9]+$ ]] || fail "sbatch $* printed no job id: $out"
    SMOKE_JOBS+=("$JOBID")
    echo "[$SSC_ME] submitted job $JOBID: sbatch $*"
}

# wait_state JOBID SECONDS STATE... : poll until the job is in one of STATEs; sets STATE.
# Fails on timeout.
TERMINAL_STATES=(COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL PREEMPTED OUT_OF_MEMORY BOOT_FAIL DEADLINE)
wait_state() {
    local id=$1 secs=$2 deadline=$((SECONDS + $2)) s
    shift 2
    while :; do
        STATE=$(ssc_job_field "$id" JobState)
        for s in "$@"; do [[ $STATE == "$s" ]] && return 0; done
        ((SECONDS < deadline)) || fail "job $id did not reach one of {$*} within ${secs}s (state: ${STATE:-unknown})"
        sleep 0.5
    done
}

# wait_done JOBID SECONDS : wait for a terminal state; fail unless COMPLETED with exit code 0:0
wait_done() {
    local ec
    wait_state "$1" "$2" "${TERMINAL_STATES[@]}"
    ec=$(ssc_job_field "$1" ExitCode)
    [[ $STATE == COMPLETED && $ec == 0:0 ]] || fail "job $1 ended $STATE (ExitCode $ec)"
}

# release_requeue_hold JOBID SECONDS : once the job is requeued (Restarts >= 1) and held PENDING
# for its BeginTime, move that to now. Slurm keeps a requeued job from starting for ~121 s (its
# policy, not the launcher's; shared/facts/test-cluster.md): the longest wait of the suite,
# spent three times. A site's administrator can do the same with scontrol. Returns at once when
# the requeued job runs or ended without a hold; fails when it is not requeued in SECONDS.
release_requeue_hold() {
    local id=$1 deadline=$((SECONDS + $2)) state reason restarts
    while ((SECONDS < deadline)); do
        state=$(ssc_job_field "$id" JobState)
        reason=$(ssc_job_field "$id" Reason)
        restarts=$(ssc_job_field "$id" Restarts)
        if ((${restarts:-0} >= 1)); then
            if [[ $state == PENDING && $reason == BeginTime ]]; then
                scontrol update JobId="$id" StartTime=now ||
                    fail "could not release job $id from its requeue hold"
                echo "[$SSC_ME] released job $id from Slurm's requeue hold"
                return 0
            fi
            [[ $state == PENDING ]] || return 0
        fi
        sleep 0.5
    done
    fail "job $id was not requeued within $2 s (state: ${state:-unknown}, restarts: ${restarts:-?})"
}

# wait_file_match FILE REGEX SECONDS : poll until FILE has a line matching REGEX
wait_file_match() {
    local deadline=$((SECONDS + $3))
    until [[ -f $1 ]] && grep -Eq -- "$2" "$1"; do
        ((SECONDS < deadline)) || fail "no line matching '$2' in $1 within $3s"
        sleep 0.5
    done
}
