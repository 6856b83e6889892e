#!/bin/bash
# job.sh JOBS_DIR METHOD WORKERS WORKLOADS PI_SAMPLES DFSIO_MB CONVENTIONAL_SLEEP: one benchmark job
# (sbatch -N WORKERS+1 --exclusive, cwd = the run's own directory in the shared dir). Writes
# "name value" lines to ./events. Every time is `date +%s.%N` on the same machine (the test
# cluster's nodes share one clock).
#   launcher:     srun (one task per node) spark-slurm run --workers W -- driver.sh WORKLOADS
#   launcher-nocds: the same with --no-cds (the Spark daemons without class-data sharing archives)
#   launcher-encrypted: the same with --wire-encryption on (Spark's and HDFS's traffic encrypted)
#   launcher-apptainer: the launcher with the daemons in the test image (--runtime apptainer,
#                   SPARK_SLURM_IMAGE); launcher-apptainer-nocds: the same with --no-cds;
#                   launcher-apptainer-image: with the image's own Python (the job user's venv,
#                   bound over the image's Spark, would change its jars), so that the daemons,
#                   the driver and the executors map the archives built into the image
#   floor:          srun steps start the same daemons by hand, workers as soon as the master is ALIVE
#                   (node-daemons.sh staged); readiness polled like the launcher does
#   floor-parallel: the same, every daemon at once (node-daemons.sh parallel)
#   conventional:   everything at once, then a fixed sleep (what HPC guides document), no check
#   sequential:     Magpie's order: HDFS, a fixed sleep, then Spark, a fixed sleep; no check
jobs=$1 method=$2 workers=$3 workloads=$4 pi_samples=$5 dfsio_mb=$6 conv_sleep=$7
ev() { echo "$1 $2" >>events; }
now() { date +%s.%N; }
echo "$workers" >workers
mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
leader=${nodes[0]}
ev method "$method"
ev nodes "${#nodes[*]}"

if [[ $method == launcher* ]]; then
    cds=() runtime=none
    [[ $method == *-nocds ]] && cds=(--no-cds)
    [[ $method == launcher-encrypted ]] && cds=(--wire-encryption on)
    # The image sees the run's directory (the submit dir), not this one with the driver.
    [[ $method == launcher-apptainer* ]] && runtime=apptainer cds+=(--bind "$jobs")
    [[ $method == launcher-apptainer-image ]] && unset PYSPARK_PYTHON
    ev t_start "$(now)"
    srun --ntasks-per-node=1 --cpus-per-task="$SLURM_CPUS_ON_NODE" --mpi=pmix \
        "$jobs/rank-wrap.sh" "$PWD" spark-slurm run --runtime "$runtime" "${cds[@]}" --workers "$workers" --ready-timeout 240 \
        --events "$PWD/launcher-events.jsonl" \
        -- "$jobs/driver.sh" "$workloads" "$pi_samples" "$dfsio_mb"
    ev srun_rc $?
    ev t_end "$(now)"
    exit 0
fi

# floor / conventional: by hand, no launcher.
leader_addr=$(getent ahostsv4 "$leader" | awk 'NR == 1 { print $1 }')
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >secret
chmod 600 secret
# The worker offer the launcher would compute (hwloc cores, memory minus its reserve).
read -r cores mem < <(spark-slurm plan --nodes "${#nodes[*]}" --workers "$workers" --json |
    python3 -c 'import json,sys; p=json.load(sys.stdin); print(p["worker_cores"], p["worker_memory"] >> 20)')
worker_nodes=$(IFS=,; echo "${nodes[*]:1:$workers}")
start=parallel
[[ $method == floor ]] && start=staged
[[ $method == sequential ]] && start=sequential
export SEQUENTIAL_SLEEP=$conv_sleep
ev t_start "$(now)"
srun -N1 -n1 -w "$leader" --cpus-per-task="$SLURM_CPUS_ON_NODE" --overlap \
    "$jobs/node-daemons.sh" leader "$leader_addr" "$cores" "$mem" "$PWD" "$start" &
leader_step=$!
srun -N"$workers" -n"$workers" --ntasks-per-node=1 -w "$worker_nodes" --cpus-per-task="$SLURM_CPUS_ON_NODE" --overlap \
    "$jobs/node-daemons.sh" worker "$leader_addr" "$cores" "$mem" "$PWD" "$start" &
worker_step=$!
poll=("$jobs/poll_ready.py" "http://$leader_addr:8080" "http://$leader_addr:9870" "$workers")
if [[ $method != conventional && $method != sequential ]]; then
    read -r what when _ < <("${poll[@]}" --timeout 240)
    ev t_ready "$when"
    [[ $what == ready ]] || ev error "not ready within 240 s"
else
    # The baselines' fixed sleeps: one for everything, or one for HDFS (on the nodes) and one
    # for Spark.
    sleep "$([[ $method == sequential ]] && echo $((2 * conv_sleep)) || echo "$conv_sleep")"
    ev t_ready "$(now)"
    # Was it really ready when the fixed sleep ended? (the conventional script never checks)
    read -r what when why < <("${poll[@]}" --once)
    ev ready_after_sleep "$([[ $what == ready ]] && echo 1 || echo 0)"
    [[ $what == ready ]] || ev not_ready_why "$why"
fi
"$jobs/driver.sh" none
# SIGTERM to the tasks of both steps (steps 0 and 1 are the only steps of this job); srun
# itself, signalled, would cancel the steps with SIGKILL, which is not a clean stop.
scancel --signal=TERM "$SLURM_JOB_ID.0" "$SLURM_JOB_ID.1"
wait "$leader_step" "$worker_step"
ev t_end "$(now)"
