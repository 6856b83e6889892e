# shellcheck shell=bash
# check_history MODE: issue 16's event logs and `spark-slurm history` for the finished job
# $JOBID (in $WORK, after common.sh), whose driver ran the applications history-app-one and
# history-app-two (app.py, written by write_history_app): their event logs are in the job dir
# and recorded for the user; `spark-slurm history JOBID`, run on this host (the login node) as
# the job user, serves them on 127.0.0.1 only and to its owner only (its login link's token; another
# user of the host gets 401), /api/v1/applications lists both, completed, and so does the list
# in the owner's browser (headless Chromium, a screenshot kept); SIGTERM
# (as Ctrl-C) stops it, leaving no process and nothing in /tmp. Ends with pass.
# Used by history.sh (one run) and preempt_requeue.sh (one application per run of a requeued job).

# write_history_app: app.py NAME, a small Spark application named NAME that prints "NAME 499500"
write_history_app() {
    write_script app.py <<'EOF'
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName(sys.argv[1]).getOrCreate()
print(sys.argv[1], spark.sparkContext.parallelize(range(1000), 4).sum())
spark.stop()
EOF
}

check_history() {
    local mode=$1 out events logs user_home record url port listening deadline apps history_pid status left token code header profile
    out=$(job_output "$JOBID")
    grep -q 'history-app-one 499500' <<<"$out" || fail "the first application did not run"
    grep -q 'history-app-two 499500' <<<"$out" || fail "the second application did not run"

    # The event logs are in the job dir (0700), and the leader recorded where (0600 in 0700 dirs).
    events=$WORK/spark-slurm-$JOBID/spark-events
    [[ $(stat -c %a "$events") == 700 ]] || fail "$events is not 0700: $(stat -c %a "$events")"
    logs=$(find "$events" -mindepth 1 -maxdepth 1 -name 'eventlog_v2_*' | wc -l)
    ((logs == 2)) || fail "expected 2 rolling event logs in $events, found: $(ls -la "$events")"
    user_home=$(getent passwd "$SPARK_SLURM_TEST_USER" | cut -d: -f6)
    record=$user_home/.spark-slurm/history/$JOBID
    [[ -f $record ]] || fail "the leader recorded no $record"
    [[ $(<"$record") == "$events" ]] || fail "$record names '$(<"$record")', not $events"
    [[ $(stat -c %a "$record") == 600 ]] || fail "$record is not 0600"
    [[ $(stat -c %a "$(dirname "$record")") == 700 ]] || fail "$(dirname "$record") is not 0700"

    # `spark-slurm history JOBID` as the user, from elsewhere (run-as-user starts in the shared dir).
    touch "$WORK/before-history"
    sleep 1 # file times have a granularity: what the server creates must be newer than the marker
    "$RUN_AS_USER" spark-slurm history "$JOBID" >"$WORK/history.out" 2>&1 &
    history_pid=$!
    # A failed check below must not leave the server running (it would hold the cluster's lock).
    # shellcheck disable=SC2064 # the pid now
    trap "kill -TERM $history_pid 2>/dev/null || true" EXIT
    wait_file_match "$WORK/history.out" '^Spark history server: http://127\.0\.0\.1:[0-9]+/$' 240
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$WORK/history.out" | head -1)
    port=${url##*:}
    port=${port%/}
    grep -qE "^From your own machine: ssh -N -L $port:localhost:$port [^ ]+\$" "$WORK/history.out" ||
        fail "no ssh tunnel line for port $port"
    token=$(grep -oE "then open http://localhost:$port/\?spark-slurm-login=[0-9a-f]{64} " "$WORK/history.out" | grep -oE '[0-9a-f]{64}')
    [[ -n $token ]] || fail "no login link for port $port: $(cat "$WORK/history.out")"
    # The owner's programs send the token in a header, from a private file (not a command line).
    header=$WORK/history-header
    printf 'X-Spark-Slurm-Token: %s\n' "$token" >"$header"
    chown "$SPARK_SLURM_TEST_USER" "$header"
    chmod 600 "$header"
    # Loopback only: nothing listens on that port on another address.
    listening=$(ss -Hltn "sport = :$port" | awk '{ print $4 }')
    [[ -n $listening ]] || fail "nothing listens on port $port"
    if grep -vqE '^(\[::ffff:)?127\.0\.0\.1\]?:' <<<"$listening"; then
        fail "the history server listens beyond loopback: $listening"
    fi

    deadline=$((SECONDS + 120))
    until apps=$("$RUN_AS_USER" curl -sf -H "@$header" "${url}api/v1/applications") &&
        python3 - "$apps" <<'EOF'
import json, sys
apps = json.loads(sys.argv[1])
done = {a["name"] for a in apps if all(t["completed"] for t in a["attempts"])}
sys.exit(0 if {"history-app-one", "history-app-two"} <= done and len(apps) == 2 else 1)
EOF
    do
        ((SECONDS < deadline)) || fail "the history server does not list both applications as completed within 120 s: ${apps:-no answer}"
        kill -0 "$history_pid" 2>/dev/null || fail "spark-slurm history ended early"
        sleep 1
    done

    # The owner's browser on the login node (headless Chromium; issue 28): the login link, from a
    # private page, logs it in and the list shows both applications (its scripts draw it from the
    # REST API). The page and its screenshot are kept as artifacts. Once in the suite (plain):
    # the requeued job's server is the same server.
    if [[ $mode == plain ]]; then
        copy_in "$LAUNCHER_HERE/../tools/headless-browser"
        profile=$(browser_profile "$WORK/spark-slurm-$JOBID" history-browser)
        write_login_page "$profile" "http://127.0.0.1:$port/?spark-slurm-login=$token"
        "$RUN_AS_USER" "$WORK/headless-browser" "$profile" "file://$profile/login.html" || true
        keep_browser_page history-list "$profile" "$token"
        python3 - "$WORK/history-list.html" <<'EOF' || fail "the history server's list in the browser does not show both applications (screenshot: $ARTIFACTS)"
import re, sys
text = re.sub(r"<[^>]+>", " ", open(sys.argv[1]).read())
missing = [name for name in ("history-app-one", "history-app-two") if name not in text]
assert not missing, f"not on the page: {missing}; it reads: {' '.join(text.split())[:300]}"
EOF
        rm -rf "$profile"
    fi

    # Another user of the login node: 401 for every page, with or without a guessed cookie.
    for page in "" api/v1/applications "history/$(python3 -c "import json,sys; print(json.loads(sys.argv[1])[0]['id'])" "$apps")/jobs/"; do
        for cookie in "" "spark-slurm-ui-000000000000=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"; do
            code=$(SPARK_SLURM_TEST_USER=$SPARK_SLURM_TEST_OTHER_USER "$RUN_AS_USER" curl -s -m 10 -o /dev/null -w '%{http_code}' ${cookie:+-b "$cookie"} "$url$page") || true
            [[ $code == 401 ]] || fail "another user got HTTP $code from the history server's /$page"
        done
    done
    rm -f "$header"
    kill -TERM "$history_pid"
    trap - EXIT
    status=0
    wait "$history_pid" || status=$?
    ((status == 0)) || fail "spark-slurm history exited with $status after SIGTERM"
    wait_no_user_processes 30
    left=$(find /tmp -maxdepth 1 -user "$SPARK_SLURM_TEST_USER" -newer "$WORK/before-history")
    [[ -z $left ]] || fail "spark-slurm history left in /tmp: $left"
    assert_nothing_left
    pass "2 applications ($mode) listed at ${url}api/v1/applications"
}
