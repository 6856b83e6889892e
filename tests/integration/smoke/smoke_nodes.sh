#!/bin/bash
# smoke_nodes: a 3-node job runs one task per node on 3 distinct hostnames and 3 distinct addresses.
SMOKE_NAME=smoke_nodes
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

write_script job.sh <<'JOB'
#!/bin/bash
set -euo pipefail
srun -N3 --ntasks-per-node=1 bash -c \
    'echo "TASK rank=$SLURM_PROCID host=$(hostname) addr=$(getent hosts "$(hostname)" | cut -d" " -f1) ifaddr=$(hostname -I | tr -d " ") tmp=$(stat -c %i /tmp)"'
JOB
submit -N3 --ntasks-per-node=1 -t 5 -o out.txt -e err.txt job.sh
wait_done "$JOBID" 120

out=$WORK/out.txt
[[ $(grep -c '^TASK ' "$out") == 3 ]] || fail "expected 3 TASK lines in $out"
hosts=$(sed -n 's/^TASK .* host=\([^ ]*\) .*/\1/p' "$out" | sort -u)
addrs=$(sed -n 's/^TASK .* ifaddr=\([^ ]*\) .*/\1/p' "$out" | sort -u)
tmps=$(sed -n 's/^TASK .* tmp=\([^ ]*\)$/\1/p' "$out" | sort -u)
[[ $(wc -l <<<"$hosts") == 3 ]] || fail "expected 3 distinct hostnames, got: ${hosts//$'\n'/ }"
[[ $(wc -l <<<"$addrs") == 3 ]] || fail "expected 3 distinct addresses, got: ${addrs//$'\n'/ }"
[[ $(wc -l <<<"$tmps") == 3 ]] || fail "expected 3 distinct (node-private) /tmp, got inodes: ${tmps//$'\n'/ }"
# each task's interface address is the one its hostname resolves to
while read -r line; do
    a=$(sed -n 's/.* addr=\([^ ]*\) .*/\1/p' <<<"$line")
    i=$(sed -n 's/.* ifaddr=\([^ ]*\) .*/\1/p' <<<"$line")
    [[ -n $a && $a == "$i" ]] || fail "hostname resolves to '$a' but the task's address is '$i': $line"
done < <(grep '^TASK ' "$out")
pass "hosts ${hosts//$'\n'/ }, addresses ${addrs//$'\n'/ }"
