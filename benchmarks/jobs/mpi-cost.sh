#!/bin/bash
# mpi-cost.sh REPEAT RANKS...: inside a 1-node exclusive allocation, time (wall, from outside)
# `mpirun -np N --oversubscribe spark-slurm plan --json` (the dry run: MPI, node probe,
# rendezvous, planning; the leader prints the plan) and the bare MPI program at each N, once with
# its default tiny messages (the floor) and once moving the launcher's message sizes ("sized").
# Runs alternate so that all three see the same machine state.
repeat=$1
shift
bare=$PWD/mpi_bare
for n in "$@"; do
    for ((r = 1; r <= repeat; r++)); do
        for what in launcher bare bare-sized; do
            case $what in
                launcher) cmd=(spark-slurm plan --json) ;;
                bare) cmd=("$bare") ;;
                bare-sized) cmd=("$bare" $((4096 + 1024 * n)) 1024) ;;
            esac
            t=$(date +%s.%N)
            mpirun -np "$n" --oversubscribe "${cmd[@]}" >"out-$what-$n-$r.txt" 2>&1
            rc=$?
            t2=$(date +%s.%N)
            echo "$what $n $r $rc $(awk -v a="$t2" -v b="$t" 'BEGIN { printf "%.6f", a - b }')" >>mpi-cost.txt
        done
    done
done
