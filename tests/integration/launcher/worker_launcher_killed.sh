#!/bin/bash
# kill -9 of a worker's launcher: its daemons stop with it (parent-death signal), the leader
# notices at once and the cluster goes on without that node; the driver finishes on the rest and
# every rank is gone at the end. (srun then reports the killed task, so the job itself fails.)
SMOKE_NAME=worker_launcher_killed
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
write_script driver.sh <<'DRIVER'
#!/bin/bash
touch ready.marker
until [[ -e killed.marker ]]; do sleep 0.5; done
echo "driver finished with $SPARK_SLURM_WORKERS planned workers"
DRIVER
job_script job.sh -N3 --exclusive -t 10 "-o job-%j.out" -- run --runtime none --ready-timeout 240 -- ./driver.sh
submit job.sh
wait_for_file "$WORK/ready.marker" 400 "the driver never started"
kill_launcher 1
deadline=$((SECONDS + 20))
while [[ -n $(daemon_pids node2) ]]; do
    ((SECONDS < deadline)) || fail "node2's daemons outlived their launcher by 20 s"
    sleep 0.5
done
echo "[$SSC_ME] node2's daemons gone $((SECONDS - killed_at)) s after its launcher"
wait_file_match "$WORK/job-$JOBID.out" 'launcher on node2 \(rank 1\) exited' 30
touch "$WORK/killed.marker"
wait_state "$JOBID" 120 "${TERMINAL_STATES[@]}"
grep -q 'driver finished (exit status 0)' "$WORK/job-$JOBID.out" || fail "the driver did not finish on the smaller cluster"
assert_nothing_left
pass
