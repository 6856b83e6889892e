#!/bin/bash
# issue 16's event logs and `spark-slurm history` (history_checks.sh): a job runs two small Spark
# applications in one run; its leader keeps their event logs in the job dir and records where
# they are, and `spark-slurm history JOBID` serves both afterwards. The requeued case (the first
# run's log kept next to the second run's) is checked by preempt_requeue.sh.
SMOKE_NAME=history
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=history_checks.sh
. "$LAUNCHER_HERE/history_checks.sh"
clean_node_scratch

write_history_app
write_script driver.sh <<'EOF'
#!/bin/bash
set -euo pipefail
spark-submit app.py history-app-one
spark-submit app.py history-app-two
EOF
job_script job.sh -N2 --exclusive -t 15 "-o job-%j.out" -- \
    run --runtime none --no-hdfs --ready-timeout 240 -- ./driver.sh
submit job.sh
wait_done "$JOBID" 600
check_history plain
