#!/bin/bash
# interactive_up.sh RUNTIME: `spark-slurm up` on the 3-node test cluster, used from the host as
# from a login node by the job's owner, with daemons from the host install (none) or the image
# (apptainer). As the job user, from the host: `list` shows the cluster; after
# eval "$(spark-slurm env --job J)", spark-submit with no --master computes a known sum on both
# workers, `hdfs dfs -put`/`-cat` round-trips a file, a pyspark-client program (a venv with no
# JVM) runs a groupBy through SPARK_REMOTE, a notebook runs through jupyter-execute, and
# `status --json` counts 2 workers and 2 datanodes. Another user gets no connection details and
# is refused by Connect with a wrong token or none. `down` ends the job COMPLETED with nothing
# left on any node, and no secret in the job's output.
# The same held cluster also runs the word count of the default Spark (issue 26: one cluster
# instead of two; this was word_count.sh RUNTIME, which still runs the version matrix through
# `run`): the PySpark word count and Toil's count() check from the host, its counts checked
# against a count made here without Spark, an executor on each of the 2 workers, and the leader
# reporting 2 workers with the node's cores and 2 live datanodes.
# none only (issue 27; this was controller_stall.sh up): while the cluster is held (after the
# sum), slurmctld stops answering for 60 s (stall_checks.sh); the word count and everything after
# it run after the stall (the word count's executors are on both workers), no launcher reports a
# lost peer, the job is not requeued, and `down` still ends it COMPLETED.
runtime=$1
SMOKE_NAME=interactive_up_$runtime
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ $runtime == apptainer && ! -f $SPARK_SLURM_TEST_IMAGE ]]; then
    fail "the test image $SPARK_SLURM_TEST_IMAGE is missing (singularity/make-offline-archive builds it)"
fi
client=${SPARK_SLURM_TEST_CONNECT_CLIENT:-/opt/spark-slurm-deps/connect-client}
[[ -x $client/bin/python ]] || fail "the Connect client venv $client is missing (scripts/install-connect-client)"
clean_node_scratch

as_user() { "$RUN_AS_USER" bash -c "$1"; }
# step WHAT: the seconds since the test started, for the log (issue 26: where the time goes)
step() { echo "[$SSC_ME] $1 at $((SECONDS - smoke_start)) s"; }
as_other() { SPARK_SLURM_TEST_USER=$SPARK_SLURM_TEST_OTHER_USER "$RUN_AS_USER" bash -c "$1"; }
home=$(getent passwd "$SPARK_SLURM_TEST_USER" | cut -d: -f6)

copy_in "$LAUNCHER_HERE/interactive_sum.py" "$LAUNCHER_HERE/../tools/connect_groupby.py" \
    "$LAUNCHER_HERE/../../../slurm/examples/connect-notebook.ipynb" \
    "$LAUNCHER_HERE/../../../slurm/examples/wordcount.py"
# The word count's input: 20,000 generated lines over a 500-word vocabulary, deterministic.
"$WORDCOUNTS" make "$WORK/input.txt" --seed 20261125
chown "$SPARK_SLURM_TEST_USER" "$WORK/input.txt"
if [[ $runtime == none ]]; then
    # shellcheck source=stall_checks.sh
    . "$LAUNCHER_HERE/stall_checks.sh"
fi
job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
    up --runtime "$runtime" --ready-timeout 240 --events "$WORK/events.jsonl"
submit job.sh
record=$home/.spark-slurm/clusters/$JOBID/cluster.json
deadline=$((SECONDS + 400))
until [[ -f $record ]]; do
    state=$(ssc_job_field "$JOBID" JobState)
    [[ $state == PENDING || $state == RUNNING ]] || fail "job $JOBID ended ($state) before its cluster was up"
    ((SECONDS < deadline)) || fail "no connection record $record within 400 s"
    sleep 1
done
ready_after=$((SECONDS - smoke_start))
step "connection record"

# The record is the owner's alone.
[[ $(stat -c %a "$home/.spark-slurm/clusters/$JOBID") == 700 ]] || fail "the record directory is not 0700"
for f in "$record" "$home/.spark-slurm/clusters/$JOBID/connect-token" \
    "$home/.spark-slurm/clusters/$JOBID/spark-conf/spark-defaults.conf"; do
    [[ $(stat -c %a "$f") == 600 ]] || fail "$f is not 0600"
done
squeue -h -j "$JOBID" -o %k | grep -q "spark-slurm: master spark://" || fail "squeue -o %k does not show the master"
squeue -h -j "$JOBID" -o %k | grep -Eq '[0-9a-f]{64}' && fail "the job's comment holds a secret"

as_user "spark-slurm list" >"$WORK/list.txt" || fail "spark-slurm list failed"
grep -q "^ *$JOBID " "$WORK/list.txt" || fail "spark-slurm list does not show job $JOBID: $(cat "$WORK/list.txt")"


# The JVMs the host's commands start below (spark-class's launcher, the driver, `hdfs dfs`) write
# no hsperfdata into the host's /tmp: the record's conf dirs turn it off. An empty directory left
# by a JVM of an earlier test goes first.
perf_dir=/tmp/hsperfdata_$SPARK_SLURM_TEST_USER
rmdir "$perf_dir" 2>/dev/null || true

# A driver on the login node: plain spark-submit, no --master.
n=200000
want=$(python3 -c "print(sum(i * i for i in range($((n)) + 1)))")
as_user "eval \"\$(spark-slurm env --job $JOBID)\" && cd '$WORK' && spark-submit interactive_sum.py $n 2" \
    >"$WORK/submit.out" 2>"$WORK/submit.err" || fail "spark-submit from the host failed"
grep -q "INTERACTIVE-SUM $want HOSTS 2 MASTER spark://" "$WORK/submit.out" ||
    fail "spark-submit did not compute $want on 2 worker hosts: $(cat "$WORK/submit.out")"
step "sum from the host"

# The controller stalls while the cluster is held (none): the leader holds since it published
# the record. The word count below is the driver from the login node after the stall, and gets
# both workers; `down` still ends the job COMPLETED.
if [[ $runtime == none ]]; then
    grep -Eq '"event": ?"holding"' "$WORK/events.jsonl" || fail "the leader of the held cluster wrote no holding event"
    step "before the stall"
    # shellcheck disable=SC2119 # the stall alone: no signal to hold it for
    stall
fi

# The word count (slurm/examples/wordcount-driver.sh's steps, from the login node). Before the
# Connect client below: the Connect server's application then holds executors on both workers
# (all their cores) for as long as it keeps them, and a spark-submit waits for cores meanwhile.
# (A deadline: a driver that gets no executors waits for them for ever.)
timeout 300 "$RUN_AS_USER" bash -c "eval \"\$(spark-slurm env --job $JOBID)\" && cd '$WORK' && hdfs dfs -mkdir -p /wordcount &&
    hdfs dfs -put -f input.txt /wordcount/input.txt &&
    spark-submit wordcount.py \"\$HDFS_URL/wordcount/input.txt\" \"\$HDFS_URL/wordcount/counts\" counts.tsv" \
    >"$WORK/wordcount.out" 2>"$WORK/wordcount.err" || fail "the word count from the host failed (or took 300 s): $(tail -5 "$WORK/wordcount.err")"
grep -q 'TOIL-CHECK ok' "$WORK/wordcount.out" || fail "Toil's count() check did not pass"
"$WORDCOUNTS" check "$WORK/input.txt" "$WORK/counts.tsv" || fail "the word counts differ from the reference count"
grep -q 'EXECUTORS 2 ' "$WORK/wordcount.out" || fail "the word count did not get an executor on each of the 2 workers"
# Issue 28: the driver's web UI on the login node's loopback (its RPC on the address the
# executors reached it at), out of reach of the login node's network.
grep -Eq 'Start Jetty 127\.0\.0\.1:[0-9]+ for SparkUI' "$WORK/wordcount.err" ||
    fail "the login-node driver's UI is not on the loopback: $(grep -E 'Jetty .* for SparkUI' "$WORK/wordcount.err" || echo no Jetty line)"
step "word count from the host"

# HDFS from the login node.
head -c 300000 /dev/urandom | base64 >"$WORK/hdfs-in.txt"
chown "$SPARK_SLURM_TEST_USER" "$WORK/hdfs-in.txt"
as_user "eval \"\$(spark-slurm env --job $JOBID)\" && cd '$WORK' && hdfs dfs -put hdfs-in.txt /roundtrip.txt && hdfs dfs -cat /roundtrip.txt >hdfs-out.txt" \
    2>"$WORK/hdfs.err" || fail "hdfs dfs -put/-cat from the host failed"
cmp -s "$WORK/hdfs-in.txt" "$WORK/hdfs-out.txt" || fail "the file read back from HDFS differs"
[[ ! -e $perf_dir ]] || fail "a JVM of the host's spark-submit or hdfs dfs wrote $perf_dir: $(ls -la "$perf_dir")"

# Spark Connect from a thin client (no JVM), given only the env.
as_user "eval \"\$(spark-slurm env --job $JOBID)\" && cd '$WORK' && '$client/bin/python' connect_groupby.py" \
    >"$WORK/connect.out" 2>"$WORK/connect.err" || fail "the Connect client failed"
grep -q 'CONNECT-GROUPBY ok' "$WORK/connect.out" || fail "the Connect groupBy was wrong"
# The notebook example, executed as Jupyter would (its kernel is the client venv's Python).
as_user "eval \"\$(spark-slurm env --job $JOBID)\" && cd '$WORK' && '$client/bin/jupyter-execute' connect-notebook.ipynb" \
    >"$WORK/notebook.out" 2>&1 || fail "the notebook did not run against the cluster"

as_user "spark-slurm status --job $JOBID --json" >"$WORK/status.json" || fail "spark-slurm status failed"
python3 - "$WORK/status.json" <<'PY' || fail "status --json does not show 2 alive workers and 2 live datanodes"
import json, sys
status = json.load(open(sys.argv[1]))
alive = [w for w in status["workers"] if w.get("state") == "ALIVE"]
assert len(alive) == 2, status["workers"]
assert status["datanodes_live"] == 2, status["datanodes_live"]
assert status["connect_url"].startswith("sc://"), status["connect_url"]
PY

step "hdfs, connect, notebook, status"
# Another user: no connection details, and Connect refuses a wrong token and a missing one
# (given the gateway's certificate, which anyone can read off the TLS handshake anyway).
if as_other "spark-slurm env --job $JOBID" >"$WORK/other-env.out" 2>"$WORK/other-env.err"; then
    fail "another user got connection details: $(cat "$WORK/other-env.out")"
fi
grep -q "belongs to $SPARK_SLURM_TEST_USER" "$WORK/other-env.err" ||
    fail "the refusal does not say whose job it is: $(cat "$WORK/other-env.err")"
install -m 0644 "$home/.spark-slurm/clusters/$JOBID/connect-ca.pem" "$WORK/public-cert.pem"
connect_url=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['connect_url'])" "$record")
for attempt in ";token=0000000000000000000000000000000000000000000000000000000000000000" ""; do
    as_other "cd /tmp && GRPC_DEFAULT_SSL_ROOTS_FILE_PATH='$WORK/public-cert.pem' '$client/bin/python' '$WORK/connect_groupby.py' --expect-refused '$connect_url$attempt'" \
        >"$WORK/other-connect.out" 2>&1 || fail "another user's Connect client was not refused: $(tail -5 "$WORK/other-connect.out")"
    grep -q 'CONNECT-REFUSED' "$WORK/other-connect.out" || fail "no refusal seen: $(tail -5 "$WORK/other-connect.out")"
done

step "another user refused"
# The one door (issue 28): the master's UI on the leader's address, reached from this host (the
# login node) as through the one ssh tunnel, behind the job's login: another user gets 401, with
# or without a guessed cookie, from the master and the Connect server's application through
# its proxy; the owner (the token's header) reads both; nobody can kill an application through
# it (spark.ui.killEnabled=false): the Connect server's survives.
master_ui=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['master_webui_url'])" "$record")
leader_address=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['leader_address'])" "$record")
[[ $master_ui == "http://$leader_address:"* ]] || fail "the master's web UI is not on the leader's address: $master_ui"
ui_header=$(ui_header_file "$JOBID")
app=$(as_user "curl -sf -m 10 -H @$ui_header $master_ui/json/" | python3 -c "import json,sys; print(json.load(sys.stdin)['activeapps'][0]['id'])") ||
    fail "no active application on the master, asked from the login node"
as_user "curl -sf -m 10 -H @$ui_header -o /dev/null $master_ui/proxy/$app/jobs/" ||
    fail "the owner cannot read the Connect server's application through the master's proxy"
for page in / /json/ "/proxy/$app/jobs/" "/proxy/$app/environment/"; do
    for cookie in "" "spark-slurm-ui-000000000000=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"; do
        cookie_arg=${cookie:+-b $cookie}
        code=$(as_other "curl -s -m 5 -o /dev/null -w '%{http_code}' $cookie_arg '$master_ui$page'") || true
        [[ $code == 401 ]] || fail "another user got HTTP $code from $master_ui$page"
    done
done
as_user "curl -s -m 10 -H @$ui_header -o /dev/null -X POST '$master_ui/app/kill/?id=$app&terminate=true'" || true
as_user "curl -s -m 10 -H @$ui_header $master_ui/json/" | python3 -c "import json,sys; assert any(a['id'] == sys.argv[1] and a['state'] == 'RUNNING' for a in json.load(sys.stdin)['activeapps'])" "$app" ||
    fail "a kill request through the master's web UI killed application $app"

as_user "spark-slurm down --job $JOBID" >"$WORK/down.out" 2>&1 || fail "spark-slurm down failed: $(cat "$WORK/down.out")"
wait_done "$JOBID" 120
step "down"
[[ ! -e $home/.spark-slurm/clusters/$JOBID ]] || fail "the connection record outlived the cluster"
out=$(job_output "$JOBID")
grep -Eq 'cluster stopped in [0-9.]+ s' <<<"$out" || fail "no teardown reported"
grep -Eq 'cluster ready in [0-9.]+ s' <<<"$out" || fail "no time-to-ready reported"
# The workers offer what hwloc saw inside the step: both CPUs of the (exclusive) node.
grep -Eq "workers 2/2 registered \\($SPARK_SLURM_TEST_CPUS_PER_NODE cores, [0-9]+ MiB each\\)" <<<"$out" ||
    fail "the leader did not report 2/2 workers offering the node's $SPARK_SLURM_TEST_CPUS_PER_NODE cores"
grep -q 'datanodes 2/2 live' <<<"$out" || fail "the leader did not report 2/2 datanodes"
if [[ $runtime == none ]]; then no_lost_peers "$out"; fi
secret_leaks=$(grep -rlE '[0-9a-f]{64}' "$WORK" 2>/dev/null | grep -v -e other-connect.out || true)
[[ -z $secret_leaks ]] || fail "a secret appears in $secret_leaks"
assert_nothing_left
pass "record after ${ready_after} s; $(grep -Eo 'spark connect ready in [0-9.]+ s' <<<"$out")${stall_to:+; held through the stall}"
