#!/bin/bash
# A worker's launcher that goes quiet, and workers that are really gone (issue 27), while a
# driver runs:
#  1. rank 1's launcher is frozen (SIGSTOP) for 30 s, longer than the 15 s silence limit: the
#     leader reports the silence, waits (its connection is up: the kernel still answers), and
#     reports it back after SIGCONT; nobody leaves, and a Spark application afterwards still
#     runs on both workers;
#  2. kill -9 of rank 1's launcher: its daemons stop with it (parent-death signal), the leader
#     notices at once and the cluster goes on with the other worker;
#  3. kill -9 of rank 2's launcher: no worker is left (fewer than --min-workers 1), so the leader
#     stops the driver and the job within a minute, naming both lost nodes — no driver waits on
#     an empty cluster. Every rank is gone at the end.
SMOKE_NAME=worker_launcher_killed
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
copy_in "$LAUNCHER_HERE/interactive_sum.py"
write_script driver.sh <<'DRIVER'
#!/bin/bash
touch ready.marker
until [[ -e thawed.marker ]]; do sleep 0.5; done
spark-submit interactive_sum.py 100000 2 >sum.out 2>sum.err
touch summed.marker
exec sleep 600 # the leader must stop it once the cluster has no worker left
DRIVER
job_script job.sh -N3 --exclusive -t 10 "-o job-%j.out" -- run --runtime none --ready-timeout 240 -- ./driver.sh
submit job.sh
wait_for_file "$WORK/ready.marker" 400 "the driver never started"
out=$WORK/job-$JOBID.out

# 1. Frozen for 30 s.
frozen=$(launcher_pid 1)
[[ -n $frozen ]] || fail "no launcher of rank 1 found"
kill -STOP "$frozen"
wait_file_match "$out" 'no heartbeat from the launcher on node2 \(rank 1\)' 30
sleep 30 # the freeze itself (longer than the silence limit); what is tested is what follows
kill -CONT "$frozen"
wait_file_match "$out" 'launcher on node2 \(rank 1\) answers again' 30
grep -Eq 'goes on without|lost the leader|fewer than --min-workers' "$out" &&
    fail "a launcher gave up during the freeze: $(grep -E 'goes on without|lost the leader' "$out")"
touch "$WORK/thawed.marker"
wait_for_file "$WORK/summed.marker" 180 "the application after the freeze did not finish"
grep -q "INTERACTIVE-SUM $(python3 -c 'print(sum(i * i for i in range(100001)))') HOSTS 2 " "$WORK/sum.out" ||
    fail "after the freeze the application did not run on both workers: $(cat "$WORK/sum.out" "$WORK/sum.err")"

# 2. One worker really gone.
kill_launcher 1
deadline=$((SECONDS + 20))
while [[ -n $(daemon_pids node2) ]]; do
    ((SECONDS < deadline)) || fail "node2's daemons outlived their launcher by 20 s"
    sleep 0.5
done
echo "[$SSC_ME] node2's daemons gone $((SECONDS - killed_at)) s after its launcher"
wait_file_match "$out" 'launcher on node2 \(rank 1\) exited.*goes on without that node \(1 worker' 30

# 3. The last one gone: the job ends, naming both.
kill_launcher 2
wait_state "$JOBID" 60 "${TERMINAL_STATES[@]}"
echo "[$SSC_ME] job ended $((SECONDS - killed_at)) s after its last worker's launcher was killed"
grep -Eq 'error: 0 worker\(s\) left, fewer than --min-workers 1; lost: node2 \(.*\), node3 \(' "$out" ||
    fail "the leader did not say that no worker was left, naming node2 and node3"
assert_nothing_left
pass "job ended $((SECONDS - killed_at)) s after the last worker"
