#!/bin/bash
# ui_login.sh RUNTIME [SPARK_VERSION]: every web UI of a job answers its owner alone (issue 28).
# An `up` cluster on the 3-node test cluster and an application (ui_app.py) whose driver runs
# on the login node (the host) after `spark-slurm env` and keeps its UI up until told to stop
# (with SPARK_VERSION: a `run` job whose driver on the leader does). Meanwhile:
# - another user, on each node (in its network namespace: the same node) and on the host (the
#   login node: the login-node driver's ports, and every node's over the network), asks every
#   listening TCP port of the job's processes (but
#   Slurm's srun, which fails the step on such bytes: a Slurm matter) for the
#   pages of every UI (master, workers, the application, namenode, datanodes, /jmx, /conf, /logs,
#   executors' logs) with no cookie, a guessed cookie and another job's cookie: each answers 401
#   or nothing (no HTTP at all; Hadoop's RPC ports answer any HTTP request with their canned
#   "not a web port" 404);
# - the owner's `spark-slurm ui` prints the login link; the owner's client on the login node logs
#   in with it (an HttpOnly, SameSite=Strict cookie, and a page that moves on to the clean URL)
#   and reads, through the one door (the master's UI on the leader's address and its reverse
#   proxy: what the one ssh line from a laptop reaches), the master's page (2 workers ALIVE), a
#   worker's executor log (stderr: where PySpark's output goes), and the namenode's live
#   datanodes (2); the application's jobs on the login node's loopback (a driver in the job:
#   through the proxy);
# - headless Chromium (Debian's chromium), as the owner, opens the master with
#   `spark-slurm ui --browser` and the login link of each other page, and the test saves a
#   screenshot of each (build/Testing/artifacts/ui_login_*/) and asserts on the page text.
# With SPARK_VERSION (3.5.9: the javax build of the filter), that Spark from its image or install.
# The history server's login: history_checks.sh. No real ssh tunnel: the host reaches the
# leader's address as the login node's sshd would forward to it.
runtime=$1
spark_version=${2:-}
# The default Spark's cluster is held with `up` and its application's driver runs on the login
# node (the host); another Spark's is a `run` job with the driver on the leader (the login node
# has no such Spark to submit with).
mode=run
[[ -z $spark_version ]] && mode=up
SMOKE_NAME=ui_login_$runtime${spark_version:+_spark_$spark_version}
if [[ -n $spark_version ]]; then
    # shellcheck source=spark_version.sh
    . "$(dirname "${BASH_SOURCE[0]}")/spark_version.sh"
    use_test_spark "$runtime" "$spark_version"
fi
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ $runtime == apptainer && ! -f $SPARK_SLURM_TEST_IMAGE ]]; then
    fail "the test image $SPARK_SLURM_TEST_IMAGE is missing (singularity/make-offline-archive builds it)"
fi
clean_node_scratch
other=$SPARK_SLURM_TEST_OTHER_USER
id "$other" >/dev/null 2>&1 || useradd -m -s /bin/bash -U "$other"
home=$(getent passwd "$SPARK_SLURM_TEST_USER" | cut -d: -f6)
netns() { echo "/run/netns/${SPARK_SLURM_TEST_NETNS_PREFIX}${1#node}"; }
# as_owner_on NODE|host CMD... / as_other_on NODE|host CMD...: a program of that user on that node
as_owner_on() {
    local where=$1
    shift
    if [[ $where == host ]]; then "$RUN_AS_USER" "$@"; else nsenter --net="$(netns "$where")" "$RUN_AS_USER" "$@"; fi
}
as_other_on() {
    local where=$1
    shift
    if [[ $where == host ]]; then
        SPARK_SLURM_TEST_USER=$other "$RUN_AS_USER" "$@"
    else
        nsenter --net="$(netns "$where")" env SPARK_SLURM_TEST_USER="$other" "$RUN_AS_USER" "$@"
    fi
}

copy_in "$LAUNCHER_HERE/ui_app.py" "$LAUNCHER_HERE/../tools/ui-probe.py" "$LAUNCHER_HERE/../tools/headless-browser"
trap 'touch "$WORK/ui-app.stop" 2>/dev/null || true' EXIT
if [[ $mode == up ]]; then
    job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- up --runtime "$runtime" --ready-timeout 240
    submit job.sh
    wait_file_match "$WORK/job-$JOBID.out" 'holding the cluster' 400
    # The application's driver on the login node, after `spark-slurm env`: its UI on the
    # login node's loopback.
    app_out=$WORK/app.out
    as_owner_on host bash -c "eval \"\$(spark-slurm env --job $JOBID)\" && cd '$WORK' && spark-submit ui_app.py '$WORK/ui-app.stop' 2" \
        >"$app_out" 2>&1 &
    app_pid=$!
else
    job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
        run --runtime "$runtime" --ready-timeout 240 -- spark-submit ui_app.py "$WORK/ui-app.stop" 2
    submit job.sh
    app_out=$WORK/job-$JOBID.out
fi
wait_file_match "$app_out" 'UI-APP RUNNING' 400
read -r app_id app_ui < <(grep -Eo 'UI-APP RUNNING [^ ]+ UI [^ ]+' "$app_out" | awk '{ print $3, $5 }')
[[ -n $app_id && $app_ui == http*://*:* ]] || fail "the application printed no UI URL: '$app_ui'"
credentials=$WORK/spark-slurm-$JOBID/credentials
record_dir=$home/.spark-slurm/clusters/$JOBID
token_file=$credentials/ui-token
[[ $(stat -c '%a %U' "$token_file") == "600 $SPARK_SLURM_TEST_USER" ]] || fail "$token_file is not the owner's 0600 file"
[[ $(stat -c %a "$record_dir/ui-token") == 600 ]] || fail "the record's ui-token is not 0600"
token=$(cat "$token_file")
[[ $token =~ ^[0-9a-f]{64}$ ]] || fail "the UI token is not 64 hex digits"

# The owner's `spark-slurm ui`: the link carries the job's token; nobody else gets one.
as_owner_on host spark-slurm ui --job "$JOBID" >"$WORK/ui.out" 2>&1 || fail "spark-slurm ui failed: $(cat "$WORK/ui.out")"
grep -q "Spark master UI   http://localhost:[0-9]*/?spark-slurm-login=$token" "$WORK/ui.out" ||
    fail "spark-slurm ui printed no login link with the job's token: $(sed "s/$token/TOKEN/g" "$WORK/ui.out")"
grep -q "HDFS namenode UI  https://localhost:" "$WORK/ui.out" || fail "spark-slurm ui printed no namenode link"
sed -i "s/$token/TOKEN/g" "$WORK/ui.out"
if as_other_on host spark-slurm ui --job "$JOBID" >"$WORK/other-ui.out" 2>&1; then
    fail "another user got the login link: $(cat "$WORK/other-ui.out")"
fi

# Every listening TCP socket of the job user's processes, by node: "NODE ADDRESS PORT".
user_pids=" $(pgrep -d ' ' -u "$SPARK_SLURM_TEST_USER") "
for node in node1 node2 node3 host; do
    if [[ $node == host ]]; then ss -Hltnp; else nsenter --net="$(netns "$node")" ss -Hltnp; fi | while read -r _ _ _ local _ users; do
        # (the host's kernel services listen with no process named)
        pid=$(grep -Eo 'pid=[0-9]+' <<<"$users" | head -n1 | cut -d= -f2 || true)
        [[ -n $pid && $user_pids == *" $pid "* ]] || continue
        # Slurm's own srun (the job's steps' I/O and message ports) is not spark-slurm's: fed
        # these requests, it fails the step ("failed reading io init message"), seen here.
        [[ $users == *'(("srun",'* ]] && continue
        address=${local%:*}
        port=${local##*:}
        address=${address#[}
        address=${address%]}
        address=${address#::ffff:}
        [[ $address == '*' || $address == 0.0.0.0 || $address == :: ]] && address=any
        echo "$node $address $port"
    done
done | sort -u >"$WORK/sockets.txt"
echo "[$SSC_ME] the job's listening sockets:"
sed 's/^/    /' "$WORK/sockets.txt"
(($(wc -l <"$WORK/sockets.txt") >= 8)) || fail "too few listening sockets found for the job: $(cat "$WORK/sockets.txt")"

# The one door: the master's UI on the leader's address, which the login node (here: the host)
# reaches, as the one ssh tunnel from a laptop would. The owner's login there gives the cookie's
# name for the strangers' guesses.
master_ui=$(grep -Eo 'spark master [^ ]+ +web UI http://[0-9.]+:[0-9]+' "$WORK/job-$JOBID.out" | head -n1 | grep -Eo 'http://[0-9.:]+$')
[[ -n $master_ui && $master_ui != http://127.* ]] || fail "the leader reported no master web UI on its address: '$master_ui'"
as_owner_on host python3 "$WORK/ui-probe.py" owner "$master_ui" "$token_file" \
    /json/ / >"$WORK/owner-master.jsonl" || fail "the owner's probe of the master failed"
cookie_name=$(python3 - "$WORK/owner-master.jsonl" <<'PY'
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
login, state, page = lines
assert login["status"] == 200, f"the login link answered {login['status']}"
assert login["location"] == "/", f"the login moves on to {login['location']!r}, not the clean URL /"
assert login["referrer_policy"] == "no-referrer", "the login page may leak its address (the token) as a referrer"
attributes = [a.strip() for a in login["set_cookie"].split(";")]
assert "HttpOnly" in attributes and "SameSite=Strict" in attributes and "Path=/" in attributes, login["set_cookie"]
assert "TOKEN" not in login["set_cookie"], "the cookie is the token"
assert state["status"] == 200, f"the master's /json/ answered {state['status']} with the cookie"
workers = [w for w in json.loads(state["body"])["workers"] if w["state"] == "ALIVE"]
assert len(workers) == 2, f"{len(workers)} ALIVE workers on the master's page"
# Spark 3.5: "Alive Workers: 2"; Spark 4: "Workers: 2 Alive".
assert page["status"] == 200, f"the master's page answered {page['status']}"
assert re.search(r"Alive Workers:</strong>\s*2\b|Workers:</strong>\s*2 Alive", page["body"]), "the master's page does not show 2 alive workers"
print(login["set_cookie"].split("=", 1)[0])
PY
) || fail "the owner's login on the master's UI"

# Another user, from each node (its own loopback and addresses) and from the host (every node's
# non-loopback sockets, over the network).
address_of() { node_address "$1"; }
for where in node1 node2 node3 host; do
    targets=()
    while read -r node address port; do
        if [[ $where == "$node" ]]; then
            [[ $address == any ]] && targets+=("127.0.0.1:$port" "$(address_of "$node"):$port") || targets+=("$address:$port")
        elif [[ $address != 127.* && $address != ::1 ]]; then
            [[ $address == any ]] && address=$(address_of "$node")
            [[ $where == host ]] && targets+=("$address:$port")
        fi
    done <"$WORK/sockets.txt"
    ((${#targets[@]})) || continue
    as_other_on "$where" python3 "$WORK/ui-probe.py" stranger "$cookie_name" "${targets[@]}" \
        >"$WORK/stranger-$where.jsonl" 2>"$WORK/stranger-$where.err" ||
        fail "the other user's probe from $where failed: $(tail -3 "$WORK/stranger-$where.err")"
done
python3 - "$WORK"/stranger-*.jsonl <<'PY' || fail "another user read a web UI of the job"
import json, sys
answers = {}
bad = []
for name in sys.argv[1:]:
    where = name.rsplit("stranger-", 1)[1].split(".")[0]
    for line in open(name):
        r = json.loads(line)
        key = (where, r["target"], r["scheme"])
        answers.setdefault(key, set()).add(r["status"])
        ipc = r["status"] == 404 and "Hadoop IPC port" in r["body"]
        if r["status"] not in (None, 401) and not ipc:
            bad.append(f"from {where}: {r['scheme']}://{r['target']}{r['path']} (cookie: {r['cookie']}) -> {r['status']}: {r['body'][:120]!r}")
refused = sorted(k for k, statuses in answers.items() if 401 in statuses)
print(f"[ui_login] {sum(len(open(n).readlines()) for n in sys.argv[1:])} requests; 401 from {len(refused)} (place, port, scheme):")
for where, target, scheme in refused:
    print(f"    from {where}: {scheme}://{target}")
if bad:
    print("answered another user:\n  " + "\n  ".join(bad[:40]))
    sys.exit(1)
# A test that cannot fail otherwise: the UIs were there to refuse (master, 2 workers, the
# application, the namenode and 2 datanodes at least).
if len({(w, t) for w, t, _ in refused}) < 7:
    print("too few web UIs answered 401: the probe did not reach them")
    sys.exit(1)
PY

# The owner, from the login node, through the master's reverse proxy only: a worker's page and
# its executor's log, the application's jobs; and the namenode's live datanodes (HTTPS with
# Kerberos), in the same ssh line.
worker_id=$(python3 - "$WORK/owner-master.jsonl" "$(node_address node2)" <<'PY'
import json, sys
state = json.loads([json.loads(l) for l in open(sys.argv[1])][1]["body"])
print(next(w["id"] for w in state["workers"] if w["host"] == sys.argv[2] and w["state"] == "ALIVE"))
PY
) || fail "node2's worker is not on the master's page"
as_owner_on host python3 "$WORK/ui-probe.py" owner "$master_ui" "$token_file" "/proxy/$worker_id/json/" \
    >"$WORK/owner-worker.jsonl" || fail "the owner's probe of node2's worker failed"
executor=$(python3 - "$WORK/owner-worker.jsonl" "$app_id" <<'PY'
import json, sys
login, state = [json.loads(l) for l in open(sys.argv[1])]
assert login["status"] == 200 and state["status"] == 200, (login["status"], state["status"])
executors = [e for e in json.loads(state["body"])["executors"] if e["appid"] == sys.argv[2]]
assert executors, "no executor of the application on node2"
print(executors[0]["id"])
PY
) || fail "the owner cannot read node2's worker UI through the master"
# A PySpark executor's Python output goes to its stderr log (Spark redirects the Python
# workers' stdout and stderr there).
log_page="/proxy/$worker_id/logPage/?appId=$app_id&executorId=$executor&logType=stderr"
# The page loads the log itself from /log (JavaScript): the owner's client reads that.
log_text="/proxy/$worker_id/log/?appId=$app_id&executorId=$executor&logType=stderr&offset=0&byteLength=1000000"
namenode_ui=$(grep -Eo 'web UI https?://[0-9.]+:[0-9]+' "$WORK/job-$JOBID.out" | grep -v "$master_ui" | tail -n1 | cut -d' ' -f3)
[[ -n $namenode_ui ]] || fail "the leader reported no namenode web UI"
as_owner_on host python3 "$WORK/ui-probe.py" owner "$master_ui" "$token_file" "$log_text" \
    >"$WORK/owner-log.jsonl" || fail "the owner's probe of the executor's log failed"
# The application's UI: a login-node driver's on that node's loopback (nothing of it on its
# address), a driver's in the job through the master's proxy.
if [[ $mode == up ]]; then
    app_base=http://127.0.0.1:${app_ui##*:}
    app_path=
    grep -q "^host 127.0.0.1 ${app_ui##*:}\$" "$WORK/sockets.txt" ||
        fail "the login-node driver's UI (port ${app_ui##*:}) does not listen on the login node's loopback: $(grep '^host' "$WORK/sockets.txt")"
    grep -Eq "^host [0-9.]+ ${app_ui##*:}\$" <(grep -v '^host 127.0.0.1 ' "$WORK/sockets.txt") &&
        fail "the login-node driver's UI listens beyond the loopback"
else
    app_base=$master_ui
    app_path=/proxy/$app_id
fi
as_owner_on host python3 "$WORK/ui-probe.py" owner "$app_base" "$token_file" "$app_path/jobs/" \
    "$app_path/api/v1/applications" >"$WORK/owner-app.jsonl" || fail "the owner's probe of the application's UI failed"
as_owner_on host python3 "$WORK/ui-probe.py" owner "$namenode_ui" "$token_file" \
    "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" >"$WORK/owner-namenode.jsonl" ||
    fail "the owner's probe of the namenode's UI failed"
python3 - "$WORK" "$app_id" <<'PY' || fail "the owner cannot read the job's web UIs"
import json, sys
work, app = sys.argv[1], sys.argv[2]
def pages(name):
    lines = [json.loads(l) for l in open(f"{work}/{name}")]
    assert lines[0]["status"] == 200 and lines[0]["set_cookie"], f"{name}: the login answered {lines[0]['status']}"
    for line in lines[1:]:
        assert line["status"] == 200, f"{name}: {line['path']} answered {line['status']}"
    return lines[1:]
log, = pages("owner-log.jsonl")
assert "UI-APP-EXECUTOR-LINE" in log["body"], "the executor's log does not show its lines"
jobs, apps = pages("owner-app.jsonl")
assert "Completed Jobs" in jobs["body"], "the application's jobs page lists no completed jobs"
assert any(a["id"] == app for a in json.loads(apps["body"])), "the application is not in its own REST API"
state, = pages("owner-namenode.jsonl")
live = json.loads(state["body"])["beans"][0]["NumLiveDataNodes"]
assert live == 2, f"{live} live datanodes on the namenode's UI"
PY

# In a browser: headless Chromium as the owner opens each page's login link from a private
# file (the token on no command line), follows the redirect with its cookie, and the test keeps
# the page's text and a screenshot.
if ! command -v chromium >/dev/null; then
    fail "chromium is missing (scripts/setup installs it from scripts/debian-packages.txt)"
fi
browser=$WORK/headless-browser
browse() { # browse NAME NODE|host URL PATH: the owner opens the login link to URL+PATH
    local name=$1 where=$2 url=$3 path=$4 profile
    profile=$(browser_profile "$credentials" "$name")
    # The login link's redirect to the clean URL keeps PATH: the login goes to PATH itself. The
    # link is in a private page, not on the browser's command line.
    local sep='?' fragment=
    [[ $path == *'#'* ]] && fragment=#${path#*#} && path=${path%%#*}
    [[ $path == *'?'* ]] && sep='&'
    write_login_page "$profile" "$url$path${sep}spark-slurm-login=$token$fragment"
    as_owner_on "$where" "$browser" "$profile" "file://$profile/login.html" || true
    keep_browser_page "$name" "$profile" "$token"
}
# The master's page the way its owner opens it: `spark-slurm ui --browser` on the login node (a
# desktop session there), with BROWSER the same headless Chromium. The command hands the
# browser a private login page, never the token.
profile=$(browser_profile "$credentials" master)
as_owner_on host env BROWSER="$browser $profile" spark-slurm ui --job "$JOBID" --browser \
    >"$WORK/ui-browser.out" 2>&1 || fail "spark-slurm ui --browser failed: $(cat "$WORK/ui-browser.out")"
grep -q "Opening the Spark master's UI with $browser" "$WORK/ui-browser.out" ||
    fail "ui --browser did not say what it opened: $(cat "$WORK/ui-browser.out")"
keep_browser_page master "$profile" "$token"
browse executor-log host "$master_ui" "$log_page"
browse application-jobs host "$app_base" "$app_path/jobs/"
browse namenode-datanodes host "$namenode_ui" /dfshealth.html#tab-datanode
python3 - "$WORK" <<'PY' || fail "a page in the browser is not what the owner should see (screenshots: $ARTIFACTS)"
import re, sys
work = sys.argv[1]
def text(name):
    return re.sub(r"<[^>]+>", " ", open(f"{work}/{name}.html").read())
master = text("master")
assert re.search(r"Alive Workers:\s*2\b|Workers:\s*2 Alive", master), "the master's page does not show 2 alive workers"
assert len(re.findall(r"\bALIVE\b", master)) >= 2, "the master's page lists fewer than 2 ALIVE workers"
assert "UI-APP-EXECUTOR-LINE" in text("executor-log"), "the executor's log page shows no line of it"
assert "Completed Jobs" in text("application-jobs"), "the application's Jobs page lists no completed job"
# The tab is rendered by the page's scripts from /jmx (its templates are in the page anyway):
# the rendered rows name each datanode's transfer address.
datanodes = set(re.findall(r"\b(\d+\.\d+\.\d+\.\d+):9866\b", text("namenode-datanodes")))
assert len(datanodes) == 2, f"the namenode's Datanodes tab lists {sorted(datanodes)}, not 2 datanodes"
assert "401" not in master[:200], "the browser got the refusal"
PY

touch "$WORK/ui-app.stop"
if [[ $mode == up ]]; then
    wait "$app_pid" || fail "the login-node driver failed: $(tail -5 "$app_out")"
    as_owner_on host spark-slurm down --job "$JOBID" >"$WORK/down.out" 2>&1 || fail "spark-slurm down failed: $(cat "$WORK/down.out")"
fi
wait_done "$JOBID" 300
grep -q 'UI-APP DONE' "$app_out" || fail "the application did not finish"
if grep -rqF "$token" "$WORK"/job-*.out "$app_out" "$WORK/spark-slurm-$JOBID/logs" "$WORK/spark-slurm-$JOBID"/*.jsonl 2>/dev/null; then
    fail "the UI token appears in the job's output or logs"
fi
squeue -h -j "$JOBID" -o %k 2>/dev/null | grep -qF "$token" && fail "the UI token is in the job's comment"
[[ ! -e $credentials ]] || fail "the job's credentials directory outlived it"
assert_nothing_left
pass "stranger: $(cat "$WORK"/stranger-*.jsonl | wc -l) requests refused; owner: master, worker log, application, namenode in Chromium (screenshots in $ARTIFACTS)"
