#!/bin/bash
# mpi-cost.sh REPEAT RANKS...: inside a 1-node exclusive allocation, time (wall, from outside)
# `mpirun -np N --oversubscribe spark-slurm plan --json` and the bare MPI program at each N.
# Runs alternate (launcher, bare) so that both see the same machine state.
repeat=$1
shift
bare=$PWD/mpi_bare
for n in "$@"; do
    for ((r = 1; r <= repeat; r++)); do
        for what in launcher bare; do
            if [[ $what == launcher ]]; then cmd=(spark-slurm plan --json); else cmd=("$bare"); fi
            t=$(date +%s.%N)
            mpirun -np "$n" --oversubscribe "${cmd[@]}" >"out-$what-$n-$r.txt" 2>&1
            rc=$?
            t2=$(date +%s.%N)
            echo "$what $n $r $rc $(awk -v a="$t2" -v b="$t" 'BEGIN { printf "%.6f", a - b }')" >>mpi-cost.txt
        done
    done
done
