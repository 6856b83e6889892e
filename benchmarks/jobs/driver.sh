#!/bin/bash
# driver.sh WORKLOADS [PI_SAMPLES DFSIO_MB]: the benchmark driver. Prints its start time as its
# first act and its end time as its last act (events go to ./events, the job's run dir).
# WORKLOADS: none, or a comma list of count,pi,dfsio (run with spark-submit on the cluster; count
# is Toil's parallelize(range(10000)).count(), the first result of "sbatch -> first result").
here=$(cd "$(dirname "$0")" && pwd)
ev() { echo "$1 $2" >>events; echo "BENCH $1 $2"; }
ev t_driver_start "$(date +%s.%N)"
workloads=${1:-none}
pi_samples=${2:-4000000}
dfsio_mb=${3:-64}
rc=0
IFS=, read -r -a list <<<"$workloads"
for w in "${list[@]}"; do
    case $w in
        none) ;;
        count)
            spark-submit --conf spark.ui.enabled=false "$here/count.py" >count.out 2>count.err || rc=1
            grep '^BENCH ' count.out | while read -r _ k v; do ev "$k" "$v"; done ;;
        pi)
            t=$(date +%s.%N)
            spark-submit --conf spark.ui.enabled=false "$here/pi.py" "$pi_samples" 8 >pi.out 2>pi.err || rc=1
            ev pi_submit_s "$(awk -v a="$(date +%s.%N)" -v b="$t" 'BEGIN { printf "%.3f", a - b }')"
            grep '^BENCH ' pi.out | while read -r _ k v; do ev "$k" "$v"; done ;;
        dfsio)
            t=$(date +%s.%N)
            spark-submit --conf spark.ui.enabled=false "$here/dfsio.py" "$dfsio_mb" 4 >dfsio.out 2>dfsio.err || rc=1
            ev dfsio_submit_s "$(awk -v a="$(date +%s.%N)" -v b="$t" 'BEGIN { printf "%.3f", a - b }')"
            grep '^BENCH ' dfsio.out | while read -r _ k v; do ev "$k" "$v"; done ;;
        *) echo "driver.sh: unknown workload $w" >&2; rc=2 ;;
    esac
done
ev driver_rc "$rc"
ev t_driver_end "$(date +%s.%N)"
exit "$rc"
