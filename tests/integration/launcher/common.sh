# shellcheck shell=bash
# Shared by the launcher's integration tests: everything of tests/integration/smoke/common.sh
# (work dir in the shared dir, submission as the job user, polling with deadlines, loud
# failures), plus the check that a finished job left nothing behind on any node.
LAUNCHER_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../smoke/common.sh
. "$LAUNCHER_HERE/../smoke/common.sh"

# The launcher itself must be installed where the job user finds it (scripts/test does this).
[[ -x $SPARK_SLURM_TEST_PREFIX/bin/spark-slurm ]] ||
    fail "$SPARK_SLURM_TEST_PREFIX/bin/spark-slurm is missing; run cmake --install build --prefix $SPARK_SLURM_TEST_PREFIX"

# The word-count tests' input and reference count (made without Spark).
# shellcheck disable=SC2034 # for the tests that source this file
WORDCOUNTS=$LAUNCHER_HERE/../tools/wordcounts.py

# build_image_without_spark: $WORK/no-spark.sif, a real SIF of a busybox root filesystem (the
# apptainer smoke test's kind), built by the job user.
build_image_without_spark() {
    install -d -o "$SPARK_SLURM_TEST_USER" "$WORK/rootfs" "$WORK/rootfs/bin"
    cp /bin/busybox "$WORK/rootfs/bin/busybox"
    ln -s busybox "$WORK/rootfs/bin/sh"
    chown -R "$SPARK_SLURM_TEST_USER" "$WORK/rootfs"
    "$RUN_AS_USER" bash -c "cd '$WORK' && apptainer -s build no-spark.sif rootfs" >/dev/null ||
        fail "could not build the image without Spark"
}

# What a person may want to look at after this test (the browser's screenshots): emptied when
# the test first keeps something there (keep_browser_page).
ARTIFACTS=${SPARK_SLURM_TEST_ARTIFACTS:-$LAUNCHER_HERE/../../../build/Testing/artifacts}/$SSC_ME

# browser_profile DIR NAME: a new private (0700) profile directory DIR/chromium-NAME of the job
# user's for tools/headless-browser; DIR is private to the job (its credentials dir).
browser_profile() {
    local profile=$1/chromium-$2
    install -d -m 0700 -o "$SPARK_SLURM_TEST_USER" "$profile"
    echo "$profile"
}

# write_login_page PROFILE LINK: PROFILE/login.html, the job user's private (0600) page that
# moves on to LINK (a login link): the browser is given the page, and the token is on no
# command line.
write_login_page() {
    printf '<meta http-equiv="refresh" content="0;url=%s">\n' "$2" >"$1/login.html"
    chown "$SPARK_SLURM_TEST_USER" "$1/login.html"
    chmod 600 "$1/login.html"
}

# keep_browser_page NAME PROFILE TOKEN: waits (200 s at most) for tools/headless-browser in
# PROFILE to finish, checks that TOKEN was not on its command line, and keeps the page it saw
# (TOKEN blanked) in $WORK/NAME.html and, with its screenshot, in $ARTIFACTS.
keep_browser_page() {
    local name=$1 profile=$2 token=$3
    wait_for_file "$profile/done" 200 "the browser did not finish $name"
    grep -q "$token" "$profile/argv" && fail "the token was on the browser's command line ($name)"
    [[ -s $profile/page.png ]] || fail "chromium saved no screenshot of $name: $(tail -3 "$profile/chromium.err")"
    if [[ -z ${_artifacts_emptied:-} ]]; then
        rm -rf "$ARTIFACTS"
        _artifacts_emptied=1
    fi
    mkdir -p "$ARTIFACTS"
    cp "$profile/page.png" "$ARTIFACTS/$name.png"
    sed "s/$token/TOKEN/g" "$profile/dom.html" >"$WORK/$name.html"
    cp "$WORK/$name.html" "$ARTIFACTS/$name.html"
}

# copy_in FILE... : copy test inputs into the work dir, readable by the job user
copy_in() {
    local f
    for f in "$@"; do
        install -m 0755 -o "$SPARK_SLURM_TEST_USER" "$f" "$WORK/"
    done
}

# job_script NAME SBATCH_ARGS -- LAUNCHER_ARGS... : a batch script that runs the launcher on every node
job_script() {
    local name=$1
    shift
    local sbatch_args=() launcher_args=()
    while (($#)) && [[ $1 != -- ]]; do sbatch_args+=("$1"); shift; done
    shift
    launcher_args=("$@")
    {
        echo "#!/bin/bash"
        for a in "${sbatch_args[@]}"; do echo "#SBATCH $a"; done
        echo "srun --ntasks-per-node=1 --cpus-per-task=$SPARK_SLURM_TEST_CPUS_PER_NODE --mpi=pmix \\"
        printf '  %q' spark-slurm "${launcher_args[@]}"
        echo
    } | write_script "$name"
}

# Nothing of the job may survive: no process of the job user on any node (the nodes share this
# machine's process table), and nothing in any node's private /tmp but what Slurm's own PMIx
# plugin leaves (spmix_appdir_*, owned by slurmstepd, not by the launcher).
assert_nothing_left() {
    local deadline=$((SECONDS + 30)) left tmp_left node
    while :; do
        left=$(pgrep -u "$SPARK_SLURM_TEST_USER" -a || true)
        [[ -z $left ]] && break
        ((SECONDS < deadline)) || fail "processes of $SPARK_SLURM_TEST_USER left 30 s after the job ended:
$left"
        sleep 0.5
    done
    for node in $SPARK_SLURM_TEST_NODES; do
        tmp_left=$(find "$SPARK_SLURM_TEST_ROOT/nodes/$node/tmp" "$SPARK_SLURM_TEST_ROOT/nodes/$node/shm" \
            -mindepth 1 -maxdepth 1 -not -name 'spmix_appdir_*' 2>/dev/null || true)
        [[ -z $tmp_left ]] || fail "left behind in $node's /tmp or /dev/shm: $tmp_left"
    done
    grep -E '^/dev/fuse|squashfuse' /proc/mounts && fail "FUSE mounts left behind"
    return 0
}

# Clear what other tests (or a crashed earlier run) left, so that assert_nothing_left judges
# only this test's job.
clean_node_scratch() {
    local node
    for node in $SPARK_SLURM_TEST_NODES; do
        find "$SPARK_SLURM_TEST_ROOT/nodes/$node/tmp" "$SPARK_SLURM_TEST_ROOT/nodes/$node/shm" -mindepth 1 -maxdepth 1 \
            -not -name 'spmix_appdir_*' -exec rm -rf {} + 2>/dev/null || true
    done
}

job_output() { cat "$WORK/job-$1.out"; }

# ui_header_file JOBID : a file with the header that lets the owner's programs through the web
# UIs' login ("X-Spark-Slurm-Token: TOKEN", for curl -H @FILE: not on a command line), in the
# job's private credentials directory (gone with the job); prints its path.
ui_header_file() {
    local credentials=$WORK/spark-slurm-$1/credentials
    [[ -s $credentials/ui-token ]] || fail "the job has no web UI token in $credentials/ui-token"
    printf 'X-Spark-Slurm-Token: %s\n' "$(cat "$credentials/ui-token")" >"$credentials/test-ui-header"
    chown "$SPARK_SLURM_TEST_USER" "$credentials/test-ui-header"
    chmod 600 "$credentials/test-ui-header"
    echo "$credentials/test-ui-header"
}

# wait_for_file FILE SECONDS WHAT : poll until FILE exists (a driver's marker); fail naming WHAT
wait_for_file() {
    local deadline=$((SECONDS + $2))
    until [[ -e $1 ]]; do
        ((SECONDS < deadline)) || fail "$3 (no $1 after $2 s)"
        sleep 0.5
    done
}

# launcher_pid RANK : the pid of the job user's spark-slurm launcher of that rank (from its
# environment, which root can read), or nothing.
launcher_pid() {
    local pid
    for pid in $(pgrep -u "$SPARK_SLURM_TEST_USER" -x spark-slurm); do
        if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_PROCID=$1"; then
            echo "$pid"
            return 0
        fi
    done
    return 0
}

# kill_launcher RANK : SIGKILL the launcher of that rank (the hard way: no teardown); sets killed_at
kill_launcher() {
    local pid
    pid=$(launcher_pid "$1")
    [[ -n $pid ]] || fail "no launcher of rank $1 found"
    kill -9 "$pid"
    # shellcheck disable=SC2034 # for the caller (leader_lost.sh, worker_launcher_killed.sh)
    killed_at=$SECONDS
}

# daemon_pids NODE : the job user's JVMs on test node NODE (node2): those in its network
# namespace, the one of its slurmd (the nodes share one kernel; the daemons' SPARK_LOCAL_IP is
# the loopback on every node).
daemon_pids() {
    local pid slurmd namespace
    slurmd=$(pgrep -x -f "slurmd -N $1" | head -n1)
    [[ -n $slurmd ]] || fail "no slurmd of $1 found"
    namespace=$(readlink "/proc/$slurmd/ns/net")
    for pid in $(pgrep -u "$SPARK_SLURM_TEST_USER" java); do
        [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$namespace" ]] && echo "$pid"
    done
    true
}

node_address() { echo "$SPARK_SLURM_TEST_NET_PREFIX.$((10 + ${1#node}))"; }

# wait_no_user_processes SECONDS : every process of the job user gone within the bound
wait_no_user_processes() {
    local deadline=$((SECONDS + $1)) left
    while left=$(pgrep -u "$SPARK_SLURM_TEST_USER" -a); do
        ((SECONDS < deadline)) || fail "processes of $SPARK_SLURM_TEST_USER still running after $1 s:
$left"
        sleep 0.5
    done
}
