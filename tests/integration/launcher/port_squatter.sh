#!/bin/bash
# Another user on the leader's node takes the loopback ports the launcher claims for its daemons
# as they appear in /proc/net/unix (issue 27), before the daemons can bind them. The launcher
# checks who listens on a loopback port before it sends anything there (the master's web UI it
# reads readiness from, the Spark Connect server its gateway forwards the owner's session to):
# the start fails with a message naming the squatter, and the squatter receives no connection
# and no byte. Nothing is left behind.
# port_squatter.sh connect: the squatter spares the master's web UI port (8080, free on the test
# cluster), so the start gets as far as the Spark Connect server, whose port it holds: the
# gateway, which would hand the owner's decrypted session and token to whatever listens there,
# is never pointed at it.
variant=${1:-}
SMOKE_NAME=port_squatter${variant:+_$variant}
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
other=$SPARK_SLURM_TEST_OTHER_USER
id "$other" >/dev/null 2>&1 || useradd -m -s /bin/bash -U "$other"
copy_in "$LAUNCHER_HERE/../tools/port-squatter.py"
install -d -m 0777 "$WORK/squatter"
spared=
handed_to="[^,]+"
if [[ $variant == connect ]]; then
    spared=8080
    handed_to="the Spark Connect server"
fi
nsenter --net=/run/netns/"${SPARK_SLURM_TEST_NETNS_PREFIX}1" env SPARK_SLURM_TEST_USER="$other" "$RUN_AS_USER" \
    python3 "$WORK/port-squatter.py" "$WORK/squatter/stop" "$WORK/squatter/report" 300 "$spared" >"$WORK/squatter.log" 2>&1 &
squatter=$!
trap 'touch "$WORK/squatter/stop"; wait "$squatter" 2>/dev/null || true' EXIT

job_script job.sh -N3 --exclusive -t 10 "-o job-%j.out" -- up --runtime none --ready-timeout 240
submit job.sh
wait_state "$JOBID" 400 "${TERMINAL_STATES[@]}"
touch "$WORK/squatter/stop"
wait "$squatter" || fail "the squatter failed: $(cat "$WORK/squatter.log")"
trap - EXIT
echo "[$SSC_ME] the squatter's ports (port state connections bytes):"
cat "$WORK/squatter/report"
out=$(job_output "$JOBID")
grep -q ' bound ' "$WORK/squatter/report" || fail "the squatter took no port (it lost every race)"
[[ $STATE == FAILED ]] || fail "the job ended $STATE, not FAILED, with its ports squatted"
grep -Eq "handed to $handed_to, is held by another user's process \\(uid [0-9]+ \\($other\\)\\); nothing was sent to it" <<<"$out" ||
    fail "the leader did not name the squatter: $(grep -i error <<<"$out" || true)"
awk '$3 > 0 || $4 > 0 { found = 1 } END { exit !found }' "$WORK/squatter/report" &&
    fail "the squatter was sent connections or bytes"
assert_nothing_left
pass "$(grep -Eo "port [0-9]+ on this node's loopback, handed to [^,]+" <<<"$out" | head -n1)"
