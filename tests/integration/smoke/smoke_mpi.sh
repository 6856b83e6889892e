#!/bin/bash
# smoke_mpi: an MPI program (built by CMake) launched with srun --mpi=pmix -N3 --ntasks-per-node=1
# broadcasts a value from rank 0; all 3 ranks must print it.
SMOKE_NAME=smoke_mpi
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bin=${1:?usage: smoke_mpi.sh PATH_TO_mpi_bcast}
[[ -x $bin ]] || fail "MPI test binary $bin not found (build the mpi_bcast target)"

# the repository may not be readable by the job user: copy the binary into the shared dir
install -m 0755 -o "$SPARK_SLURM_TEST_USER" "$bin" "$WORK/mpi_bcast"
token=tok$RANDOM$RANDOM
write_script job.sh <<'JOB'
#!/bin/bash
set -euo pipefail
srun --mpi=pmix -N3 --ntasks-per-node=1 ./mpi_bcast "$1"
JOB
submit -N3 --ntasks-per-node=1 -t 5 -o out.txt -e err.txt job.sh "$token"
wait_done "$JOBID" 120

out=$WORK/out.txt
root_host=$(sed -n 's/^BCAST rank=0 size=3 host=\([^ ]*\) .*/\1/p' "$out")
[[ -n $root_host ]] || fail "rank 0 printed nothing (or the world size is not 3)"
for r in 0 1 2; do
    grep -Eq "^BCAST rank=$r size=3 host=[^ ]+ received=$token@$root_host\$" "$out" ||
        fail "rank $r did not print the broadcast value $token@$root_host"
done
nhosts=$(sed -n 's/^BCAST .* host=\([^ ]*\) .*/\1/p' "$out" | sort -u | wc -l)
[[ $nhosts == 3 ]] || fail "expected the 3 ranks on 3 distinct nodes, got $nhosts"
pass "3 ranks on 3 nodes received $token@$root_host"
