#!/bin/bash
# Two jobs that share nodes (a job array, no --exclusive, one core and 3.2 GB per node each) start at
# the same moment on the same 3 nodes: every job comes up and counts its words right, and jobs
# that ran at the same time were given different ports (port claims, network/network.hpp).
SMOKE_NAME=shared_nodes
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
tasks=2
for task in $(seq 1 "$tasks"); do
    install -d -o "$SPARK_SLURM_TEST_USER" "$WORK/task-$task"
    "$WORDCOUNTS" make "$WORK/task-$task/input.txt" --seed "$task" --lines 2000 --vocabulary 100 --max-words 8
    chown "$SPARK_SLURM_TEST_USER" "$WORK/task-$task/input.txt"
done
copy_in "$LAUNCHER_HERE/../../../slurm/examples/wordcount.py" "$LAUNCHER_HERE/../../../slurm/examples/wordcount-driver.sh"
write_script task-driver.sh <<'DRIVER'
#!/bin/bash
cd "task-$SLURM_ARRAY_TASK_ID" && exec ../wordcount-driver.sh
DRIVER
# wordcount-driver.sh expects wordcount.py next to input.txt.
for task in $(seq 1 "$tasks"); do ln -s ../wordcount.py "$WORK/task-$task/wordcount.py"; done
write_script job.sh <<EOF2
#!/bin/bash
#SBATCH -N3 --ntasks-per-node=1 --cpus-per-task=1 --mem=3200M -t 15 -o job-%A_%a.out --array=1-$tasks
srun --ntasks-per-node=1 --cpus-per-task=1 --mpi=pmix spark-slurm run --runtime none \\
    --events "task-\$SLURM_ARRAY_TASK_ID/events.jsonl" --ready-timeout 300 -- ./task-driver.sh
EOF2
submit job.sh
array=$JOBID
for task in $(seq 1 "$tasks"); do
    wait_done "${array}_$task" 900
    out=$(cat "$WORK/job-${array}_$task.out")
    grep -q 'TOIL-CHECK ok' <<<"$out" || fail "task $task: Toil's count() check did not pass"
    "$WORDCOUNTS" check "$WORK/task-$task/input.txt" "$WORK/task-$task/counts.tsv" ||
        fail "task $task: wrong word counts"
done
python3 - "$WORK" "$tasks" <<'PY' || fail "jobs that overlapped shared ports, or none overlapped"
import json, sys, itertools
work, tasks = sys.argv[1], int(sys.argv[2])
jobs = {}
for task in range(1, tasks + 1):
    events = [json.loads(l) for l in open(f"{work}/task-{task}/events.jsonl")]
    ready = next(e for e in events if e["event"] == "ready")
    end = next(e for e in events if e["event"] == "exit")
    jobs[task] = (events[0]["time"], end["time"], ready["master_url"], ready["hdfs_url"],
                  ready["master_webui_url"], ready["namenode_webui_url"])
overlapping = 0
for a, b in itertools.combinations(jobs, 2):
    (s1, e1, *ports1), (s2, e2, *ports2) = jobs[a], jobs[b]
    if s1 < e2 and s2 < e1:
        overlapping += 1
        shared = set(ports1) & set(ports2)
        assert not shared, f"tasks {a} and {b} ran together on {shared}"
        print(f"tasks {a} and {b} ran together: {ports1[:2]} vs {ports2[:2]}")
assert overlapping, "no two jobs ran at the same time: the test proved nothing"
PY
assert_nothing_left
pass
