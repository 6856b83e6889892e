#!/bin/bash
# The driver of hdfs_kerberos.sh: writes a file into the job's Kerberized HDFS, signals the test
# (written.marker), waits while another user tries to get at it (until attacks.done appears),
# then reads it back and runs a Spark job whose executors read and write HDFS with the job's
# delegation token.
set -euo pipefail
echo "HDFS_URL=$HDFS_URL"
hdfs dfs -mkdir -p /private
hdfs dfs -put -f secret.txt /private/secret.txt
hdfs dfs -ls /private
echo "$HDFS_URL" >written.marker.tmp && mv written.marker.tmp written.marker
deadline=$((SECONDS + 300))
until [[ -e attacks.done ]]; do
    ((SECONDS < deadline)) || { echo "no attacks.done after 300 s" >&2; exit 3; }
    sleep 0.5
done
hdfs dfs -cat /private/secret.txt >readback.txt
cmp secret.txt readback.txt && echo "READBACK identical"
echo "LISTING $(hdfs dfs -ls -C /private | tr '\n' ' ')"
# The marker travels in HDFS blocks (put, cat) and in Spark's RPC and shuffle (the app).
hdfs dfs -put -f marker.txt /private/marker.txt
hdfs dfs -cat /private/marker.txt | cmp - marker.txt && echo "MARKER identical"
spark-submit hdfs_kerberos_app.py "$HDFS_URL/private/secret.txt" "$HDFS_URL/private/written" \
    "$HDFS_URL/private/marker.txt"
# umask 077 (fs.permissions.umask-mode): the driver's directory and file, and what the
# executors wrote, are the owner's alone.
echo "MODES $(hdfs dfs -stat '%a' /private /private/secret.txt /private/written \
    "$(hdfs dfs -ls -C /private/written | grep part- | head -n1)" | tr '\n' ' ')"
