#!/bin/bash
# node-daemons.sh ROLE LEADER_ADDR CORES MEMORY_MIB RUNDIR START: start this node's daemons by
# hand, no launcher (for the floors and the conventional script). ROLE leader: format the namenode,
# then namenode + master; ROLE worker: datanode + spark worker. START parallel: everything at once;
# START staged: the datanode at once, the spark worker as soon as the master's /json/ says ALIVE
# (polled every 0.25 s with curl), because a worker that finds no master retries only 5-15 s later;
# START sequential (Magpie's order): the HDFS daemons, a fixed sleep of SEQUENTIAL_SLEEP s (default
# 30), then the Spark daemons. Configs are what the launcher's
# render_configs writes (src/plan/plan.cpp, tests/data/golden/), daemon argv and environment what
# src/services/services.cpp uses; same ports. On SIGTERM: stop the daemons, wait, remove the
# node-local work dir.
role=$1 leader=$2 cores=$3 mem=$4 rundir=$5 start=${6:-parallel}
host=$(hostname)
addr=$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }')
work=${TMPDIR:-/tmp}/bench-daemons-${SLURM_JOB_ID}-$host
logs=$rundir/logs
mkdir -p "$work"/{conf,tmp,spark-local,spark-worker,hadoop-tmp} "$logs"
conf=$work/conf
prop() { printf '  <property>\n    <name>%s</name>\n    <value>%s</value>\n  </property>\n' "$1" "$2"; }
workers=$(cat "$rundir/workers")
replication=$((workers < 3 ? workers : 3))
(
    umask 077
    {
        echo "# written by benchmarks/jobs/node-daemons.sh (same content as the launcher's)"
        printf '%-40s %s\n' spark.master "spark://$leader:7077" spark.authenticate true \
            spark.authenticate.secret "$(cat "$rundir/secret")" spark.driver.host "$leader" \
            spark.driver.extraJavaOptions "-XX:-UsePerfData -Djava.io.tmpdir=$work/tmp" \
            spark.executor.extraJavaOptions "-XX:-UsePerfData -Djava.io.tmpdir=." \
            spark.hadoop.fs.defaultFS "hdfs://$leader:8020"
    } >"$conf/spark-defaults.conf"
)
{
    echo "export SPARK_LOCAL_IP=\"$addr\""
    echo "export SPARK_LOCAL_HOSTNAME=\"$addr\""
    echo "export SPARK_LOCAL_DIRS=\"$work/spark-local\""
    [[ $role == worker ]] && echo "export SPARK_WORKER_DIR=\"$work/spark-worker\""
    echo "export SPARK_DAEMON_MEMORY=\"512m\""
    echo "export SPARK_DAEMON_JAVA_OPTS=\"-XX:-UsePerfData -Djava.io.tmpdir=$work/tmp\""
    echo "export SPARK_LAUNCHER_OPTS=\"-XX:-UsePerfData\""
    echo "export TMPDIR=\"$work/tmp\""
} >"$conf/spark-env.sh"
{
    echo '<?xml version="1.0"?>'; echo '<configuration>'
    prop fs.defaultFS "hdfs://$leader:8020"; prop hadoop.tmp.dir "$work/hadoop-tmp"
    echo '</configuration>'
} >"$conf/core-site.xml"
{
    echo '<?xml version="1.0"?>'; echo '<configuration>'
    prop dfs.replication "$replication"
    prop dfs.namenode.rpc-address "$leader:8020"
    prop dfs.namenode.http-address "$leader:9870"
    [[ $role == leader ]] && prop dfs.namenode.name.dir "file://$work/hdfs/name"
    prop dfs.namenode.datanode.registration.ip-hostname-check false
    prop dfs.namenode.safemode.extension 0
    if [[ $role == worker ]]; then
        prop dfs.datanode.data.dir "file://$work/hdfs/data"
        prop dfs.datanode.address "$addr:9866"
        prop dfs.datanode.http.address "$addr:9864"
        prop dfs.datanode.ipc.address "$addr:9867"
        prop dfs.datanode.du.reserved 0
    fi
    echo '</configuration>'
} >"$conf/hdfs-site.xml"

export SPARK_CONF_DIR=$conf HADOOP_CONF_DIR=$conf SPARK_LOCAL_IP=$addr SPARK_LOG_DIR=$logs \
    SPARK_NO_DAEMONIZE=1 TMPDIR=$work/tmp
cd "$work" || exit 1
pids=()
stop() {
    kill -TERM "${pids[@]}" 2>/dev/null
    wait
    cd / && rm -rf "$work"
    exit 0
}
trap stop TERM INT HUP
if [[ $role == leader ]]; then
    HADOOP_OPTS="-Xmx1g -XX:-UsePerfData" hdfs namenode -format -nonInteractive >"$logs/$host-hdfs-namenode-format.log" 2>&1
    echo "t_format_done $(date +%s.%N)" >>"$rundir/events"
    HADOOP_OPTS="-Xmx1g -XX:-UsePerfData" hdfs namenode >"$logs/$host-hdfs-namenode.log" 2>&1 &
    pids+=($!)
    # The baseline being measured: a fixed wait for HDFS, as Magpie's scripts do.
    [[ $start == sequential ]] && sleep "${SEQUENTIAL_SLEEP:-30}"
    spark-class org.apache.spark.deploy.master.Master --host "$addr" --port 7077 --webui-port 8080 \
        >"$logs/$host-spark-master.log" 2>&1 &
    pids+=($!)
else
    HADOOP_OPTS="-Xmx512m -XX:-UsePerfData" hdfs datanode >"$logs/$host-hdfs-datanode.log" 2>&1 &
    pids+=($!)
    [[ $start == sequential ]] && sleep "${SEQUENTIAL_SLEEP:-30}"
    if [[ $start == staged ]]; then
        until curl -sf --max-time 2 "http://$leader:8080/json/" 2>/dev/null | grep -q '"status" : "ALIVE"'; do
            sleep 0.25
        done
        echo "t_worker_saw_master_$host $(date +%s.%N)" >>"$rundir/events"
    fi
    spark-class org.apache.spark.deploy.worker.Worker --host "$addr" --webui-port 8081 --cores "$cores" \
        --memory "${mem}m" --work-dir "$work/spark-worker" "spark://$leader:7077" >"$logs/$host-spark-worker.log" 2>&1 &
    pids+=($!)
fi
# wait returns early when a trapped signal arrives; the trap then runs stop().
while :; do wait; sleep 1; done
