#!/bin/bash
# `srun --mpi=pmix spark-slurm plan --json --every-rank` on the 3-node cluster: every rank prints
# the plan it received; all must agree on one leader, one port set and one secret, with the right
# roles, and the cores/memory each node reports must be what that node really has inside the step.
SMOKE_NAME=plan_agreement
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cpus=$SPARK_SLURM_TEST_CPUS_PER_NODE
# Work and job dirs so long (3.5 KB) that every report overflows its 1 KiB slot in the gather and
# the plan (> 64 KiB) its first broadcast block (7 KiB for 3 ranks): the rendezvous'
# point-to-point and second-broadcast paths.
long_dir=/tmp/$(python3 -c 'print("/".join(["w" * 250] * 14))')
write_script job.sh <<JOB
#!/bin/bash
#SBATCH -N3 --exclusive -t 5 -o job-%j.out
# One file per task: srun cuts long lines of a shared output stream into pieces.
srun --ntasks-per-node=1 --cpus-per-task=$cpus --mpi=pmix -o plan-%t.json spark-slurm plan --json --every-rank
cat plan-*.json > plans.jsonl
srun --ntasks-per-node=1 --cpus-per-task=$cpus --mpi=pmix -o long-%t.json spark-slurm plan --json --every-rank --work-dir $long_dir --job-dir $long_dir
# Without --every-rank only the leader prints (a dry run of 'run' prints one plan, not N).
srun --ntasks-per-node=1 --cpus-per-task=$cpus --mpi=pmix -o once-%t.txt spark-slurm plan
# What each node really has inside an identical step, measured without the launcher.
srun --ntasks-per-node=1 --cpus-per-task=$cpus sh -c 'echo "\$(hostname) \$(nproc) \$(hostname -I | cut -d" " -f1) \${SLURM_MEM_PER_NODE:-0}"' > facts.txt
JOB
submit job.sh
wait_done "$JOBID" 120
for rank in 1 2; do
    [[ -f $WORK/once-$rank.txt && ! -s $WORK/once-$rank.txt ]] ||
        fail "rank $rank printed a plan without --every-rank: $(head -c 300 "$WORK/once-$rank.txt" 2>&1)"
done
grep -q "leader" "$WORK/once-0.txt" || fail "the leader printed no plan: $(head -c 300 "$WORK/once-0.txt")"
python3 - "$WORK" "$long_dir" <<'PY' || fail "plans too long for one gather slot or broadcast block disagree"
import json, sys
plans = [json.load(open(f"{sys.argv[1]}/long-{rank}.json")) for rank in range(3)]
size = len(json.dumps(plans[0]))
assert size > 64 * 1024, f"the plan is only {size} bytes: the second broadcast is not exercised"
for p in plans[1:]:
    assert {**p, "rank": 0} == {**plans[0], "rank": 0}, f"rank {p['rank']} received a different long plan"
assert [n["work_dir"] for n in plans[0]["nodes"]] == [f"{sys.argv[2]}/spark-slurm-{plans[0]['job_id']}-{r}" for r in range(3)]
print(f"long plans agree: {size} bytes")
PY
python3 - "$WORK/plans.jsonl" "$WORK/facts.txt" <<'PY' || fail "the ranks' plans disagree or do not match the nodes"
import json, sys
plans = [json.loads(line) for line in open(sys.argv[1])]
facts = {host: (int(cpus), address, int(mem_mb)) for host, cpus, address, mem_mb in
         (line.split() for line in open(sys.argv[2]))}
assert sorted(p["rank"] for p in plans) == [0, 1, 2], [p["rank"] for p in plans]
def shared(p):
    q = dict(p); q.pop("rank"); return q
first = shared(plans[0])
for p in plans[1:]:
    assert shared(p) == first, f"rank {p['rank']} received a different plan"
for key in ("leader_address", "master_url", "hdfs_url", "control_port", "secret_fingerprint"):
    assert first[key], key
nodes = first["nodes"]
assert [n["role"] for n in nodes] == ["leader", "worker", "worker"], [n["role"] for n in nodes]
assert first["leader_address"] == facts[nodes[0]["hostname"]][1], (first["leader_address"], facts)
assert first["master_url"] == f"spark://{first['leader_address']}:7077", first["master_url"]
meminfo = int(open("/proc/meminfo").read().split("MemTotal:")[1].split()[0]) * 1024
for n in nodes:
    cpus, address, mem_mb = facts[n["hostname"]]
    assert n["address"] == address, (n["hostname"], n["address"], address)
    assert n["detected_cpus"] == cpus, (n["hostname"], n["detected_cpus"], cpus)
    if mem_mb:
        assert n["detected_memory"] == min(mem_mb * 2**20, n["detected_memory"]), (n["hostname"], n["detected_memory"], mem_mb)
        assert n["detected_memory"] <= mem_mb * 2**20
    assert 0 < n["detected_memory"] <= meminfo, n["detected_memory"]
assert len({n["hostname"] for n in nodes}) == 3
print("plans agree:", first["leader_address"], first["secret_fingerprint"],
      [(n["hostname"], n["detected_cpus"], n["detected_memory"]) for n in nodes])
PY
assert_nothing_left
pass
