#!/bin/bash
# A mistake found on one node only — here, no apptainer on that node's PATH — stops every rank at
# once with one message that names the node, instead of that rank exiting alone while the others
# wait at the rendezvous until --ready-timeout.
SMOKE_NAME=rank_usage_error
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[[ -f $SPARK_SLURM_TEST_IMAGE ]] || fail "the test image $SPARK_SLURM_TEST_IMAGE is missing"
clean_node_scratch
write_script rank.sh <<'RANK'
#!/bin/bash
# Rank 2's node has no apptainer: its PATH holds only the launcher.
launcher=$(command -v spark-slurm)
[[ $SLURM_PROCID == 2 ]] && export PATH=$(dirname "$launcher")
exec "$launcher" "$@"
RANK
write_script job.sh <<EOF2
#!/bin/bash
#SBATCH -N3 --exclusive -t 10 -o job-%j.out
srun --ntasks-per-node=1 --mpi=pmix ./rank.sh run --runtime apptainer --image "$SPARK_SLURM_TEST_IMAGE" \\
    --ready-timeout 300 -- true
EOF2
submit job.sh
started=$SECONDS
wait_state "$JOBID" 200 "${TERMINAL_STATES[@]}"
took=$((SECONDS - started))
out=$(job_output "$JOBID")
[[ $STATE == FAILED ]] || fail "the job ended $STATE, expected FAILED"
grep -q 'on node3 (rank 2): .*apptainer' <<<"$out" || fail "no message naming node3 and apptainer"
((took < 120)) || fail "the job took $took s to fail; the ranks waited for the rendezvous deadline"
assert_nothing_left
pass "failed in $took s"
