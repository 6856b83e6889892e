# shellcheck shell=bash
# Helpers shared by up, down, run-as-user and the integration tests. Source it (it sources env).
_ssc_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=env
. "$_ssc_dir/env"

SSC_LOGDIR=$SPARK_SLURM_TEST_ROOT/log
# SC2034: these five are for up and down, which source this file.
# shellcheck disable=SC2034
SSC_NODEDIR=$SPARK_SLURM_TEST_ROOT/nodes
# shellcheck disable=SC2034
SSC_CTLD_STATE=$SPARK_SLURM_TEST_ROOT/slurmctld
# shellcheck disable=SC2034
SSC_CTLD_PID=$SPARK_SLURM_TEST_STATE/slurmctld.pid
# shellcheck disable=SC2034
SSC_MUNGED_PID=$SPARK_SLURM_TEST_STATE/munged.pid
# shellcheck disable=SC2034
SSC_SLURM_CONF=/etc/slurm/slurm.conf
SSC_HOSTS_BEGIN="# BEGIN spark-slurm test cluster (tests/cluster/up; removed by tests/cluster/down)"
SSC_HOSTS_END="# END spark-slurm test cluster"

ssc_log() { printf '[%s %s] %s\n' "$(date +%T)" "${SSC_ME:-cluster}" "$*" >&2; }
ssc_die() { printf '[%s %s] ERROR: %s\n' "$(date +%T)" "${SSC_ME:-cluster}" "$*" >&2; exit 1; }
ssc_need_root() { [[ $(id -u) == 0 ]] || ssc_die "must run as root"; }

ssc_node_addr() { echo "$SPARK_SLURM_TEST_NET_PREFIX.$((10 + $1))"; }   # ssc_node_addr I
ssc_netns() { echo "$SPARK_SLURM_TEST_NETNS_PREFIX$1"; }
ssc_veth_host() { echo "ssv$1h"; }   # host end; the namespace end is renamed eth0

# ssc_pid_alive PIDFILE -> 0 if the file names a live process
ssc_pid_alive() {
    local pid
    [[ -r $1 ]] || return 1
    pid=$(<"$1") || return 1
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# ssc_wait_gone DEADLINE_SECONDS PID... : wait until none of the pids exists; 1 on timeout
ssc_wait_gone() {
    local deadline=$((SECONDS + $1)) p alive
    shift
    while :; do
        alive=()
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
        ((${#alive[@]} == 0)) && return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.2
    done
}

# ssc_kill_pids SECONDS PID... : TERM, wait up to SECONDS, then KILL and wait again
ssc_kill_pids() {
    local t=$1
    shift
    (($# == 0)) && return 0
    kill -TERM "$@" 2>/dev/null || true
    ssc_wait_gone "$t" "$@" && return 0
    kill -KILL "$@" 2>/dev/null || true
    ssc_wait_gone 10 "$@"
}

# ssc_show_logs [LINES]: tail of slurmctld, slurmd and munged logs (for failures)
ssc_show_logs() {
    local n=${1:-40} f
    for f in "$SSC_LOGDIR"/slurmctld.log "$SSC_LOGDIR"/slurmd-*.log "$SSC_LOGDIR"/munged.log; do
        [[ -e $f ]] || continue
        echo "===== tail -n $n $f =====" >&2
        tail -n "$n" "$f" >&2 || true
    done
}

# The job-user environment (what a site's module would give), as NAME=VALUE lines.
ssc_user_env() {
    local prefix=$SPARK_SLURM_TEST_PREFIX
    echo "SPARK_SLURM_PREFIX=$prefix"
    echo "JAVA_HOME=$SPARK_SLURM_TEST_JAVA_HOME"
    echo "SPARK_HOME=$SPARK_SLURM_TEST_SPARK_HOME"
    echo "HADOOP_HOME=$SPARK_SLURM_TEST_HADOOP_HOME"
    echo "PYSPARK_PYTHON=$SPARK_SLURM_TEST_PYSPARK_PYTHON"
    echo "PATH=$prefix/bin:$SPARK_SLURM_TEST_SPARK_HOME/bin:$SPARK_SLURM_TEST_HADOOP_HOME/bin:$SPARK_SLURM_TEST_JAVA_HOME/bin:/usr/local/bin:/usr/bin:/bin"
    if [[ -f $SPARK_SLURM_TEST_IMAGE ]]; then echo "SPARK_SLURM_IMAGE=$SPARK_SLURM_TEST_IMAGE"; fi
}

# --- helpers for tests (run as root; they submit as the job user through run-as-user) ---

# ssc_job_field JOBID FIELD -> value of FIELD= in `scontrol show job` (empty if unknown)
ssc_job_field() {
    scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# ssc_wait_job_state JOBID DEADLINE_SECONDS STATE... : poll until the job is in one of STATEs.
# Prints the state reached. Returns 1 on timeout (printing the last state to stderr).
ssc_wait_job_state() {
    local id=$1 deadline=$((SECONDS + $2)) st s
    shift 2
    while :; do
        st=$(ssc_job_field "$id" JobState)
        for s in "$@"; do
            if [[ $st == "$s" ]]; then echo "$st"; return 0; fi
        done
        if ((SECONDS >= deadline)); then
            echo "timeout waiting for job $id to be one of: $* (last state: ${st:-unknown})" >&2
            scontrol show job "$id" >&2 || true
            return 1
        fi
        sleep 0.5
    done
}

# /etc/hosts without our marked block (on stdout)
ssc_hosts_without_block() {
    awk -v b="$SSC_HOSTS_BEGIN" -v e="$SSC_HOSTS_END" '$0 == b {skip = 1} !skip {print} $0 == e {skip = 0}' /etc/hosts
}

# ssc_lock: serialize up/down (several people may call them at once). Re-entrant via SSC_LOCKED.
ssc_lock() {
    [[ ${SSC_LOCKED:-} == 1 ]] && return 0
    install -d -m 0755 /run/lock
    exec 9>/run/lock/spark-slurm-test-cluster.lock
    if ! flock -n 9; then
        ssc_log "another tests/cluster/up or down is running; waiting for it (up to 300 s)"
        flock -w 300 9 || ssc_die "could not get /run/lock/spark-slurm-test-cluster.lock within 300 s"
    fi
    export SSC_LOCKED=1
}
