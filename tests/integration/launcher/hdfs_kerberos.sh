#!/bin/bash
# hdfs_kerberos.sh [RUNTIME]: issue 13 — a job's cluster refuses another user. A `run --runtime
# RUNTIME` job (none, the default, or apptainer: the KDC and every daemon from the test image; the
# default --hdfs-auth kerberos) whose driver writes a file into HDFS and holds, while a second
# unprivileged user on this machine tries to read, write and delete it — as themselves, claiming
# to be the job's owner (HADOOP_USER_NAME), over WebHDFS, and by reading the job's keytab —, to
# submit a Spark application with a secret of their own, and to read the master's, the workers'
# (on their nodes' loopback) and the datanodes' web UIs, and is refused every time. Then the
# driver reads its file back byte-identical and a Spark job whose executors hold only the job's
# delegation token reads and writes HDFS correctly. The job ends COMPLETED, its credentials are
# gone, and nothing is left. With --wire-encryption on, a capture of the cluster's network (the
# test cluster's bridge) while a marker goes through HDFS and through Spark's RPC and shuffle
# holds no copy of the marker. (SPARK_SLURM_TEST_WIRE_ENCRYPTION=off runs the job in clear: then
# the capture check fails, as it must.)
runtime=${1:-none}
SMOKE_NAME=hdfs_kerberos$([[ $runtime == none ]] || echo "_$runtime")
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ $runtime == apptainer && ! -f $SPARK_SLURM_TEST_IMAGE ]]; then
    fail "no test image at $SPARK_SLURM_TEST_IMAGE (ctest builds it: offline_test_image)"
fi
clean_node_scratch
other=$SPARK_SLURM_TEST_OTHER_USER
id "$other" >/dev/null 2>&1 || useradd -m -s /bin/bash -U "$other"
compgen -G "$SPARK_SLURM_TEST_HADOOP_HOME/share/hadoop/lib/kerb-simplekdc-*.jar" >/dev/null ||
    fail "the Hadoop install $SPARK_SLURM_TEST_HADOOP_HOME lacks Apache Kerby (rerun scripts/install-spark-hadoop)"

# The file: 20,000 numbers, one a line (sum 200010000).
seq 1 20000 >"$WORK/secret.txt"
chown "$SPARK_SLURM_TEST_USER" "$WORK/secret.txt"
copy_in "$LAUNCHER_HERE/hdfs_kerberos_driver.sh" "$LAUNCHER_HERE/hdfs_kerberos_app.py"
# 3 distinct marker lines, repeated: no other bytes on the wire look like them.
marker=SSWIREMARK$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
for i in $(seq 1 2000); do echo "$marker-$((i % 3))"; done >"$WORK/marker.txt"
chown "$SPARK_SLURM_TEST_USER" "$WORK/marker.txt"
command -v tcpdump >/dev/null || fail "tcpdump is missing (scripts/setup installs it)"
tcpdump -i "$SPARK_SLURM_TEST_BRIDGE" -s 0 -U -w "$WORK/wire.pcap" >"$WORK/tcpdump.log" 2>&1 &
tcpdump_pid=$!
trap 'kill "$tcpdump_pid" 2>/dev/null || true' EXIT
wait_file_match "$WORK/tcpdump.log" 'listening on' 30
job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
    run --runtime "$runtime" --wire-encryption "${SPARK_SLURM_TEST_WIRE_ENCRYPTION:-on}" --ready-timeout 240 \
    -- ./hdfs_kerberos_driver.sh
submit job.sh
wait_for_file "$WORK/written.marker" 300 "the driver did not write its file into HDFS"
hdfs_url=$(<"$WORK/written.marker")
out=$(job_output "$JOBID")
webui=$(grep -Eo 'web UI https://[0-9.]+:[0-9]+' <<<"$out" | tail -n1 | cut -d' ' -f3)
[[ -n $webui ]] || fail "the leader reported no https namenode web UI"
credentials=$WORK/spark-slurm-$JOBID/credentials
echo "[$SSC_ME] namenode $hdfs_url, web UI $webui, credentials $credentials"

# The credentials are the owner's alone: 0700 directory, 0600 files.
[[ $(stat -c %a "$credentials") == 700 ]] || fail "$credentials is not 0700"
bad_modes=$(find "$credentials" -type f ! -perm 0600 -printf '%m %p\n')
[[ -z $bad_modes ]] || fail "credentials files not 0600: $bad_modes"
[[ -f $credentials/hdfs.token ]] || fail "no delegation token in $credentials"

# attempt NAME EXPECTED_REGEX CMD... : run CMD as the other user; it must fail, and say why.
# The other user's own client configuration: an empty one (Hadoop's defaults).
mkdir -p "$WORK/other-tmp" "$WORK/other-conf"
printf '<?xml version="1.0"?>\n<configuration>\n</configuration>\n' >"$WORK/other-conf/core-site.xml"
chown -R "$other" "$WORK/other-tmp" "$WORK/other-conf"
attempt() {
    local name=$1 expected=$2 output
    shift 2
    if output=$(SPARK_SLURM_TEST_USER=$other TMPDIR=$WORK/other-tmp HADOOP_CLIENT_OPTS=-XX:-UsePerfData \
        HADOOP_CONF_DIR=$WORK/other-conf \
        RUN_AS_USER_PASS="TMPDIR HADOOP_CLIENT_OPTS HADOOP_CONF_DIR ${pass_user:-}" "$RUN_AS_USER" "$@" 2>&1); then
        fail "$other could $name: $output"
    fi
    grep -Eq -- "$expected" <<<"$output" || fail "$other's attempt to $name failed, but not for the expected reason ($expected): $output"
    echo "[$SSC_ME] refused: $other $name: $(grep -Eo -m1 -- "$expected.{0,80}" <<<"$output")"
}
# A Spark application of the other user's, with a secret of its own, against the job's master:
# refused by Spark's authentication (each registration attempt, 20 s apart, fails in the
# handshake: run in the background while the other attempts go on).
master_url=$(grep -Eo 'spark master spark://[0-9.]+:[0-9]+' <<<"$out" | tail -n1 | cut -d' ' -f3)
[[ -n $master_url ]] || fail "the leader reported no master URL"
cat >"$WORK/intruder.py" <<'PY'
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("intruder").getOrCreate()
print("INTRUDER-COUNT", spark.sparkContext.parallelize(range(100)).count())
PY
chmod 644 "$WORK/intruder.py"
# The cluster's own protocol (with --wire-encryption on: AES-GCM, auth engine v2), so that only
# the secret differs.
intruder_crypto=()
[[ ${SPARK_SLURM_TEST_WIRE_ENCRYPTION:-on} == on ]] && intruder_crypto=(--conf spark.network.crypto.enabled=true
    --conf spark.network.crypto.cipher=AES/GCM/NoPadding --conf spark.network.crypto.authEngineVersion=2
    --conf spark.network.crypto.saslFallback=false)
(
    rc=0
    # Nothing of it in /tmp: no hsperfdata, Spark's scratch in the other user's own directory.
    SPARK_SLURM_TEST_USER=$other TMPDIR=$WORK/other-tmp SPARK_LOCAL_DIRS=$WORK/other-tmp \
        SPARK_LAUNCHER_OPTS=-XX:-UsePerfData RUN_AS_USER_PASS="TMPDIR SPARK_LOCAL_DIRS SPARK_LAUNCHER_OPTS" \
        timeout 240 "$RUN_AS_USER" spark-submit --master "$master_url" \
        --driver-java-options "-XX:-UsePerfData -Djava.io.tmpdir=$WORK/other-tmp" --conf spark.authenticate=true "${intruder_crypto[@]}" \
        --conf "spark.authenticate.secret=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
        --conf spark.ui.enabled=false "$WORK/intruder.py" >"$WORK/intruder.out" 2>&1 || rc=$?
    echo "EXIT $rc" >>"$WORK/intruder.out"
) &
intruder_pid=$!
refusal='SIMPLE authentication is not enabled'
attempt "cat the file" "$refusal" hdfs dfs -fs "$hdfs_url" -cat /private/secret.txt
attempt "put a file" "$refusal" hdfs dfs -fs "$hdfs_url" -put /etc/hostname /private/evil.txt
attempt "delete the file" "$refusal" hdfs dfs -fs "$hdfs_url" -rm /private/secret.txt
owner=$SPARK_SLURM_TEST_USER
export HADOOP_USER_NAME=$owner
pass_user=HADOOP_USER_NAME
attempt "cat the file as HADOOP_USER_NAME=$owner" "$refusal" hdfs dfs -fs "$hdfs_url" -cat /private/secret.txt
attempt "put a file as HADOOP_USER_NAME=$owner" "$refusal" hdfs dfs -fs "$hdfs_url" -put /etc/hostname /private/evil.txt
attempt "delete the file as HADOOP_USER_NAME=$owner" "$refusal" hdfs dfs -fs "$hdfs_url" -rm -skipTrash /private/secret.txt
unset HADOOP_USER_NAME pass_user
# WebHDFS: HTTPS only, behind the job's UI login (issue 28): user.name alone gets 401.
# shellcheck disable=SC2016 # $1 and $2 are the inner bash's
attempt "GET the file over WebHDFS as user.name=$owner" 'HTTP 401' bash -c \
    'code=$(curl -sk -o /dev/null -w "%{http_code}" "$1/webhdfs/v1/private/secret.txt?op=OPEN&user.name=$2"); echo "HTTP $code"; [[ $code == 200 || $code == 307 ]]' \
    sh "$webui" "$owner"
# shellcheck disable=SC2016
attempt "list the directory over WebHDFS as user.name=$owner" 'HTTP 401' bash -c \
    'code=$(curl -sk -o /dev/null -w "%{http_code}" "$1/webhdfs/v1/private?op=LISTSTATUS&user.name=$2"); echo "HTTP $code"; [[ $code == 200 ]]' \
    sh "$webui" "$owner"
for page in / /jmx /conf /logs/; do
    # shellcheck disable=SC2016
    attempt "read the namenode's web UI page $page" 'HTTP 401' bash -c \
        'code=$(curl -sk -o /dev/null -w "%{http_code}" "$1$2"); echo "HTTP $code"; [[ $code != 401 ]]' \
        sh "$webui" "$page"
done
# shellcheck disable=SC2016
attempt "list the files with the namenode's fsck servlet as user.name=$owner" 'HTTP 401' bash -c \
    'code=$(curl -sk -o /dev/null -w "%{http_code}" "$1/fsck?path=/private&files=1&user.name=$2"); echo "HTTP $code"; [[ $code == 200 ]]' \
    sh "$webui" "$owner"
# shellcheck disable=SC2016
attempt "GET the file over plain-HTTP WebHDFS" 'HTTP (000|400)' bash -c \
    'code=$(curl -s -o /dev/null -w "%{http_code}" "http://${1#https://}/webhdfs/v1/private/secret.txt?op=OPEN&user.name=$2"); echo "HTTP $code"; [[ $code == 200 || $code == 307 ]]' \
    sh "$webui" "$owner"
# Spark's web UIs listen on their node's loopback: from this host nothing answers on the master's
# or the workers' UI ports at the nodes' addresses, while on the leader (a step of the job, as
# the owner) the master's answers.
leader_address=${hdfs_url#hdfs://}
leader_address=${leader_address%:*}
master_ui=$(grep -Eo 'web UI http://127\.0\.0\.1:[0-9]+' <<<"$out" | tail -n1 | cut -d' ' -f3)
[[ -n $master_ui ]] || fail "the leader reported no master web UI on its loopback"
ui_header=$(ui_header_file "$JOBID")
"$RUN_AS_USER" srun --jobid="$JOBID" --overlap -N1 -n1 -w node1 --mpi=none curl -sf -m 10 -H "@$ui_header" -o /dev/null "$master_ui/json/" ||
    fail "the master's web UI does not answer the owner (with the UI token) on the leader's loopback"
# shellcheck disable=SC2016
attempt "read the master's web UI at $leader_address:${master_ui##*:}" 'HTTP 000' bash -c \
    'code=$(curl -s -m 5 -o /dev/null -w "%{http_code}" "http://$1/json/"); echo "HTTP $code"; [[ $code != 000 ]]' \
    sh "$leader_address:${master_ui##*:}"
for node in node2 node3; do
    log=$WORK/spark-slurm-$JOBID/logs/$node-spark-worker.log
    port=$(grep -Eo "'WorkerUI' on port [0-9]+" "$log" | grep -Eo '[0-9]+$' | tail -n1)
    [[ -n $port ]] || fail "no WorkerUI port in $log"
    address=$(node_address "$node")
    # shellcheck disable=SC2016
    attempt "read $node's worker web UI at $address:$port" 'HTTP 000' bash -c \
        'code=$(curl -s -m 5 -o /dev/null -w "%{http_code}" "http://$1/"); echo "HTTP $code"; [[ $code != 000 ]]' \
        sh "$address:$port"
done
for node in node2 node3; do
    log=$WORK/spark-slurm-$JOBID/logs/$node-hdfs-datanode.log
    datanode_ui=$(grep -Eo 'Listening HTTPS traffic on /[0-9.]+:[0-9]+' "$log" | tail -n1 | cut -d/ -f2)
    [[ -n $datanode_ui ]] || fail "no HTTPS address in $log"
    # shellcheck disable=SC2016
    attempt "read $node's datanode web UI at $datanode_ui" 'HTTP (000|401|403)' bash -c \
        'code=$(curl -sk -m 5 -o /dev/null -w "%{http_code}" "https://$1/jmx"); echo "HTTP $code"; [[ $code == 200 ]]' \
        sh "$datanode_ui"
done
attempt "read the owner's keytab" 'Permission denied' cat "$credentials/owner.keytab"
attempt "read the delegation token" 'Permission denied' cat "$credentials/hdfs.token"
# refusals: the driver's connections to the master that failed in the authentication handshake,
# after TCP connected and before any RPC: "Exception while bootstrapping client". What follows
# it varies with timing: the handshake's own error (IllegalArgument/IllegalState/Security or a
# javax.crypto exception) when the client sees the bad answer first, an InterruptedException when
# the master has already closed the channel on it (the master logs the peer as "disassociated").
# An unreachable or wrong master never gets as far as a bootstrap.
refusals() {
    grep -c 'Exception while bootstrapping client' "$WORK/intruder.out" || true
}
# Two registration attempts refused in the handshake is the answer; the driver's third, 20 s
# later, would end the same way ("All masters are unresponsive"), so it is stopped then. Else it
# gives up by itself after its third attempt (60 s).
deadline=$((SECONDS + 240))
while kill -0 "$intruder_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "the other user's Spark application neither ran nor gave up in 240 s"
    if (($(refusals) >= 2)); then
        pkill -TERM -u "$other" -f intruder.py || true
    fi
    sleep 1
done
grep -q 'INTRUDER-COUNT' "$WORK/intruder.out" && fail "another user's Spark application ran on the job's cluster"
grep -q '^EXIT 0$' "$WORK/intruder.out" && fail "another user's spark-submit succeeded: $(tail -5 "$WORK/intruder.out")"
# Refused at least once, and given up (Spark interrupts the bootstrap of a registration attempt
# that a newer one supersedes, so not every attempt shows the refusal) or stopped after two.
if (($(refusals) < 1)) || { (($(refusals) < 2)) && ! grep -q 'All masters are unresponsive' "$WORK/intruder.out"; }; then
    fail "another user's Spark application failed, but not for want of the secret ($(refusals) refusals counted); its errors: $(grep -E -A1 'Exception while bootstrapping|All masters|ERROR|Caused by|Exception:' "$WORK/intruder.out" | grep -v '^\s*at ' | head -n 40)"
fi
"$RUN_AS_USER" srun --jobid="$JOBID" --overlap -N1 -n1 -w node1 --mpi=none curl -sf -m 10 -H "@$ui_header" "$master_ui/json/" |
    python3 -c "import json,sys; m=json.load(sys.stdin); assert not [a for a in m['activeapps'] + m['completedapps'] if a['name'] == 'intruder'], m" ||
    fail "the master lists the other user's application"
echo "[$SSC_ME] refused: $other submit a Spark application ($(refusals) attempts): $(grep -A1 -m1 'Exception while bootstrapping client' "$WORK/intruder.out" | tail -n1 | cut -c1-120)"
touch "$WORK/attacks.done"

wait_done "$JOBID" 600
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
out=$(job_output "$JOBID")
grep -q 'READBACK identical' <<<"$out" || fail "the driver did not read its file back byte-identical"
grep -q 'MARKER identical' <<<"$out" || fail "the marker did not round-trip through HDFS"
grep -q 'MARKERS 3' <<<"$out" || fail "the marker did not go through Spark"
# The capture saw the job's HDFS and Spark traffic, and none of it in clear.
namenode_port=${hdfs_url##*:}
namenode_packets=$(tcpdump -nn -r "$WORK/wire.pcap" "tcp port $namenode_port" 2>/dev/null | wc -l)
((namenode_packets > 100)) || fail "the capture holds only $namenode_packets packets of the namenode's RPC"
if grep -qa "$marker" "$WORK/wire.pcap"; then
    fail "the marker crossed the network in clear ($(grep -ca "$marker" "$WORK/wire.pcap") packets)"
fi
echo "[$SSC_ME] wire: $(stat -c %s "$WORK/wire.pcap") bytes captured, $namenode_packets namenode RPC packets, no marker in clear"
rm -f "$WORK/wire.pcap"
grep -q '^MODES 700 600 700 600 $' <<<"$out" ||
    fail "HDFS paths of the job are not the owner's alone (umask 077): $(grep '^MODES' <<<"$out" || echo none)"
listing=$(grep -E '^LISTING' <<<"$out")
[[ $listing == "LISTING /private/secret.txt " ]] || fail "HDFS changed under the other user's attempts: $listing"
grep -q 'KERBEROS-CHECK lines=20000 total=200010000 written=499500 ' <<<"$out" ||
    fail "the Spark job over the delegation token computed a wrong result: $(grep KERBEROS-CHECK <<<"$out" || echo none)"
grep -q 'executor_hosts=node2,node3' <<<"$out" || fail "the Spark job did not run on both workers"
# The namenode's audit log: the driver came in with Kerberos, the executors with the token, and
# nobody else got anything done.
audit=$(grep -ho 'ugi=[^ ]* ([^)]*)' "$WORK/spark-slurm-$JOBID"/logs/*-hdfs-namenode.log | sort | uniq -c)
echo "[$SSC_ME] namenode audit log, by caller: $(tr -s ' \n' ' ' <<<"$audit")"
grep -Eq "ugi=$owner@JOB$JOBID\.SPARK-SLURM \(auth:KERBEROS\)" <<<"$audit" || fail "no Kerberos caller in the audit log"
grep -Eq "ugi=$owner@JOB$JOBID\.SPARK-SLURM \(auth:TOKEN\)" <<<"$audit" || fail "no executor came in with the token"
grep -Ev "ugi=$owner@JOB$JOBID\.SPARK-SLURM \(auth:(KERBEROS|TOKEN)\)" <<<"$audit" &&
    fail "the audit log has callers other than the job's owner"
grep -Eq 'kerberos kdc of realm JOB[0-9]+\.SPARK-SLURM ready' <<<"$out" || fail "no KDC readiness reported"
grep -q 'fetched the executors. HDFS delegation token' <<<"$out" || fail "no token fetch reported"
grep -q 'HDFS runs without authentication' <<<"$out" && fail "the leader warned of HDFS without authentication"
grep -Eq 'cluster ready in [0-9.]+ s' <<<"$out" || fail "no time-to-ready reported"
[[ ! -e $credentials ]] || fail "the credentials directory $credentials outlived the job"
# The secret (64 hex digits) is in no log and no output of the job.
secret_leaks=$(grep -rlE '[0-9a-f]{64}' "$WORK" 2>/dev/null || true)
[[ -z $secret_leaks ]] || fail "the job's secret appears in $secret_leaks"
assert_nothing_left
pass "$(grep -Eo 'cluster ready in [0-9.]+ s' <<<"$out"), $(grep -Eo 'cluster stopped in [0-9.]+ s' <<<"$out")"
