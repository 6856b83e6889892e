#!/bin/bash
# A stranger's bytes on the leader's control port, sent by another unprivileged user from
# another host (the test host) while a job runs — garbage, an endless line, a forged hello, a
# worker's genuine hello captured off the wire and replayed — must never stop, stall or requeue
# it: every attempt is dropped and logged, the job then computes its result and ends COMPLETED
# with Restarts=0. Before that, from the moment the leader's port listens until the cluster is
# ready, the other user floods it with ~200 silent and garbage connections a second from the
# test host and as many from node2, the node of a worker (issue 27): the cluster still becomes
# ready and the events file stays small (rejections past 20 are counted, not written a line
# each). The job runs with --wire-encryption on and Spark Connect: the capture of its start holds
# neither the job's secret nor the Connect token (issue 27). The same job checks that the driver
# inherited no descriptor but stdin, stdout and stderr.
SMOKE_NAME=control_port_hostile
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
write_script sum.py <<'PY'
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("sum").getOrCreate()
print("SUM", spark.sparkContext.parallelize(range(1000), 4).sum())
spark.stop()
PY
write_script driver.sh <<'DRIVER'
#!/bin/bash
set -euo pipefail
# Descriptors above 2 that a child of the driver inherits (bash's own script fd is close-on-exec).
sh -c 'i=3; while [ $i -lt 1024 ]; do [ -e /proc/$$/fd/$i ] && echo $i; i=$((i+1)); done; true' >driver-fds.txt
touch running.marker
until [[ -e proceed.marker ]]; do sleep 0.5; done
echo "still here" | hdfs dfs -put -f - /after-probing
hdfs dfs -cat /after-probing
spark-submit sum.py
DRIVER
job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
    run --runtime none --events "$WORK/events.jsonl" --ready-timeout 240 \
    --wire-encryption on --connect -- ./driver.sh
# The cluster's network while the workers join: their hellos, to be replayed.
command -v tcpdump >/dev/null || fail "tcpdump is missing (scripts/setup installs it)"
tcpdump -i "$SPARK_SLURM_TEST_BRIDGE" -s 0 -U -w "$WORK/start.pcap" tcp >"$WORK/tcpdump.log" 2>&1 &
tcpdump_pid=$!
trap 'kill "$tcpdump_pid" 2>/dev/null || true' EXIT
wait_file_match "$WORK/tcpdump.log" 'listening on' 30
other=$SPARK_SLURM_TEST_OTHER_USER
id "$other" >/dev/null 2>&1 || useradd -m -s /bin/bash -U "$other"
copy_in "$(dirname "${BASH_SOURCE[0]}")/../tools/hostile-client.py" "$(dirname "${BASH_SOURCE[0]}")/../tools/flood-client.py"
submit job.sh

# The flood, from the moment the leader's launcher listens (before the rendezvous) until ready.
deadline=$((SECONDS + 300))
# The control socket is the launcher's first listening socket on node1's address (MPI's come
# later): the lowest socket inode.
control_socket_port() {
    nsenter --net=/run/netns/"${SPARK_SLURM_TEST_NETNS_PREFIX}1" ss -Hltnpe | grep "pid=$1," |
        awk -v address="$(node_address node1)" '{
            split($4, local, ":")
            if (local[1] == address && match($0, /ino:[0-9]+/)) print substr($0, RSTART + 4, RLENGTH - 4), local[2]
        }' | sort -n | head -n1 | cut -d' ' -f2
}
until pid=$(launcher_pid 0) && [[ -n $pid ]] && early_port=$(control_socket_port "$pid") && [[ -n $early_port ]]; do
    ((SECONDS < deadline)) || fail "the leader's launcher never listened"
    sleep 0.1
done
echo "[$SSC_ME] flooding node1:$early_port from the host and from node2 as $other"
flood() { # flood NAME [NETNS]: as the other user, in the background
    if [[ -n ${2:-} ]]; then
        nsenter --net=/run/netns/"$2" env SPARK_SLURM_TEST_USER="$other" "$RUN_AS_USER" \
            python3 "$WORK/flood-client.py" "$(node_address node1)" "$early_port" "$WORK/flood.stop" >"$WORK/$1.out" 2>&1 &
    else
        SPARK_SLURM_TEST_USER=$other "$RUN_AS_USER" \
            python3 "$WORK/flood-client.py" "$(node_address node1)" "$early_port" "$WORK/flood.stop" >"$WORK/$1.out" 2>&1 &
    fi
}
flood flood-host
flood_host=$!
flood flood-node2 "${SPARK_SLURM_TEST_NETNS_PREFIX}2"
flood_node2=$!
wait_file_match "$WORK/events.jsonl" '"event": ?"ready"' 400
install -m 0644 -o "$other" /dev/null "$WORK/flood.stop"
wait "$flood_host" "$flood_node2" || fail "a flood client failed: $(cat "$WORK"/flood-*.out)"
cat "$WORK/flood-host.out" "$WORK/flood-node2.out"
grep -Eq 'flood: [0-9]{3,} connections' "$WORK/flood-host.out" || fail "the flood from the host did not flood"
grep -Eq 'flood: [0-9]{3,} connections' "$WORK/flood-node2.out" || fail "the flood from node2 did not flood"
events_lines=$(wc -l <"$WORK/events.jsonl")
((events_lines < 150)) || fail "the events file grew to $events_lines lines under the flood"
grep -q '"control_rejections"' "$WORK/events.jsonl" || fail "no count of the rejections past 20 in the events file"
wait_for_file "$WORK/running.marker" 400 "the driver never started"
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true

pid=$(launcher_pid 0)
[[ -n $pid ]] || fail "no leader launcher found"
port=$(python3 -c 'import json, sys
print(next(e["control_port"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "rendezvous"))' \
    "$WORK/events.jsonl") || fail "no control port in the events file"
[[ $port == "$early_port" ]] || fail "the flood went to port $early_port, not to the control port $port"
# It is the leader launcher's own listening socket.
nsenter --net=/run/netns/"${SPARK_SLURM_TEST_NETNS_PREFIX}1" ss -Hltnp "sport = :$port" | grep -q "pid=$pid," ||
    fail "the leader's launcher (pid $pid) does not listen on the reported control port $port"
# It listens on the node's address only, not on every interface (loopback included).
listen=$(nsenter --net=/run/netns/"${SPARK_SLURM_TEST_NETNS_PREFIX}1" ss -Hltn "sport = :$port" | awk '{ print $4 }')
[[ $listen == "$(node_address node1):$port" ]] || fail "the control port listens on $listen, not on node1's address"
# The janitor (a fork of the launcher) holds none of the launcher's sockets.
if nsenter --net=/run/netns/"${SPARK_SLURM_TEST_NETNS_PREFIX}1" ss -Hltnp | grep -q spark-slurm-jan; then
    fail "the janitor holds a listening socket"
fi
# A worker's genuine hello, as anyone on the network saw it.
tcpdump -nn -A -r "$WORK/start.pcap" "tcp port $port" 2>/dev/null |
    grep -Eo '\{[^{}]*"type":"hello"[^{}]*\}' | head -n1 >"$WORK/seen-hello.txt" || true
[[ -s $WORK/seen-hello.txt ]] || fail "no worker's hello in the capture of the control port"
# Neither the job's secret nor the Connect token crossed the network in clear during the start
# (issue 27): the ranks read them from 0600 files in the job's credentials directory, and the
# MPI broadcast of the plan carries fingerprints only.
secret_file=$WORK/spark-slurm-$JOBID/credentials/job-secret
token_file=$(getent passwd "$SPARK_SLURM_TEST_USER" | cut -d: -f6)/.spark-slurm/clusters/$JOBID/connect-token
[[ -s $secret_file && -s $token_file ]] || fail "no job secret ($secret_file) or Connect token ($token_file) to look for"
[[ $(stat -c %a "$secret_file") == 600 ]] || fail "$secret_file is not 0600"
for what in "$secret_file" "$token_file"; do
    grep -aqF "$(tr -d '\n' <"$what")" "$WORK/start.pcap" && fail "$(basename "$what") crossed the network in clear"
done
echo "[$SSC_ME] the capture of the start ($(stat -c %s "$WORK/start.pcap") bytes) holds neither the secret nor the token"
rm -f "$WORK/start.pcap"
chmod 644 "$WORK/seen-hello.txt"
echo "[$SSC_ME] leader launcher $pid listens on node1:$port; $other probes it from the host"
SPARK_SLURM_TEST_USER=$other "$RUN_AS_USER" python3 "$WORK/hostile-client.py" "$(node_address node1)" "$port" \
    "$WORK/seen-hello.txt" || fail "a hostile connection was not dropped"
[[ -n $(launcher_pid 0) ]] || fail "the leader's launcher died under hostile input"
install -m 0644 -o "$SPARK_SLURM_TEST_USER" /dev/null "$WORK/proceed.marker"

wait_done "$JOBID" 400
[[ $(ssc_job_field "$JOBID" Restarts) == 0 ]] || fail "the job was requeued"
out=$(job_output "$JOBID")
grep -q '^SUM 499500$' <<<"$out" || fail "the Spark job's result is missing or wrong"
grep -q '^still here$' <<<"$out" || fail "HDFS did not round-trip after the probing"
grep -q 'control port: dropped' <<<"$out" || fail "the leader did not log what it dropped"
if grep -Eq 'lost the leader|requeued job' <<<"$out"; then fail "a worker lost its leader or the job was requeued"; fi
[[ ! -s $WORK/driver-fds.txt ]] || fail "the driver inherited descriptors: $(tr '\n' ' ' <"$WORK/driver-fds.txt")"
assert_nothing_left
pass
