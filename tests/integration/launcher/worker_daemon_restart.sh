#!/bin/bash
# kill -9 of the job's KDC, then of a worker node's Spark worker and HDFS datanode while the job
# runs: the launcher restarts all three (bounded, logged), the KDC with the realm's saved keys;
# the restarted datanode authenticates to the namenode again through the restarted KDC
# (Kerberos, the default: a keytab login and a registration for each start), and the driver's
# Spark and HDFS work (new Kerberos logins) succeeds.
SMOKE_NAME=worker_daemon_restart
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
copy_in "$LAUNCHER_HERE/../../../slurm/examples/wordcount.py"
seq 1 20000 | sed 's/^/word/' >"$WORK/input.txt"
chown "$SPARK_SLURM_TEST_USER" "$WORK/input.txt"
write_script driver.sh <<'DRIVER'
#!/bin/bash
set -euo pipefail
touch ready.marker
until [[ -e killed.marker ]]; do sleep 0.5; done
hdfs dfs -put -f input.txt /input.txt
spark-submit wordcount.py "$HDFS_URL/input.txt" "$HDFS_URL/counts" counts.tsv
DRIVER
job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
    run --runtime none --ready-timeout 240 -- ./driver.sh
submit job.sh
wait_for_file "$WORK/ready.marker" 400 "the driver never started"
# The KDC first: restarted with the realm's saved keys, it must log the datanode in again below.
# Its JVM runs the compiled jar of the CDS cache, or the source itself (SparkSlurmKdc.java).
kdc=$(pgrep -u "$SPARK_SLURM_TEST_USER" -f "java .*SparkSlurmKdc") || fail "no KDC running"
kill -9 "$kdc"
wait_file_match "$WORK/job-$JOBID.out" 'node1\]: restarted kerberos kdc' 120
wait_file_match "$WORK/spark-slurm-$JOBID/logs/node1-kdc.log" 'serving again on .* with the keys of' 120
victims=$(daemon_pids node2)
[[ $(wc -w <<<"$victims") == 2 ]] || fail "expected node2's spark worker and datanode, found: $victims"
mapfile -t victim_pids <<<"$victims"
kill -9 "${victim_pids[@]}"
wait_file_match "$WORK/job-$JOBID.out" 'node2\]: restarted spark worker' 120
wait_file_match "$WORK/job-$JOBID.out" 'node2\]: restarted hdfs datanode' 120
datanode_log=$WORK/spark-slurm-$JOBID/logs/node2-hdfs-datanode.log
deadline=$((SECONDS + 120))
until (($(grep -c 'successfully registered with NN' "$datanode_log") >= 2)); do
    ((SECONDS < deadline)) || fail "the restarted datanode did not register with the namenode within 120 s"
    sleep 0.5
done
(($(grep -c "Login successful for user dn/job$JOBID@JOB$JOBID.SPARK-SLURM using keytab" "$datanode_log") == 2)) ||
    fail "the datanode did not log in from its keytab at each of its two starts"
touch "$WORK/killed.marker"
wait_done "$JOBID" 600
[[ $(wc -l <"$WORK/counts.tsv") == 20000 ]] || fail "the word count after the restarts is wrong"
grep -qF 'spark worker on node2 stopped (killed by signal 9 ' "$WORK/job-$JOBID.out" || fail "the kill was not reported"
assert_nothing_left
pass
