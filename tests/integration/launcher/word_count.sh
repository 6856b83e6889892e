#!/bin/bash
# word_count.sh RUNTIME [SPARK_VERSION] [stall]: the PySpark word count on the 3-node test cluster through
# `spark-slurm run`, with the daemons from the host install (none) or the test image (apptainer).
# Checks the counts against a count made here without Spark, that the leader reported 2 workers
# with the planned cores and memory and 2 live datanodes, and that nothing is left behind.
# With SPARK_VERSION (the version matrix), the host install or the image of that Spark
# (tests/images/build-test-image --spark VERSION) is used instead of the default one, and the
# leader must have named that version.
# The default Spark's word count (no SPARK_VERSION) runs on interactive_up.sh's held cluster,
# from the login node (issue 26: one cluster instead of two); this script runs the version matrix.
# With `stall` (issue 27; this was controller_stall.sh run, merged into a matrix run: issue 26,
# one cluster instead of two): slurmctld stops answering for 60 s (stall_checks.sh) from the
# moment the namenode format (or the KDC's start, alongside it) starts until the driver started, so
# the stall covers the format, the moment the leader publishes the cluster (its Slurm comment and
# time limit: libslurm calls) and the driver's start. The cluster must be ready and the driver
# started within the stall, no launcher may report a lost peer, the job is not requeued, and
# the comment slurmctld could not take during the stall is set afterwards (the driver waits for
# the test to have seen it).
runtime=$1
spark_version=${2:-}
mode=${3:-}
[[ -z $mode || $mode == stall ]] || { echo "usage: word_count.sh RUNTIME [SPARK_VERSION] [stall]" >&2; exit 1; }
SMOKE_NAME=word_count_$runtime${spark_version:+_spark_$spark_version}${mode:+_$mode}
if [[ -n $spark_version ]]; then
    # shellcheck source=spark_version.sh
    . "$(dirname "${BASH_SOURCE[0]}")/spark_version.sh"
    use_test_spark "$runtime" "$spark_version"
fi
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ $runtime == apptainer && ! -f $SPARK_SLURM_TEST_IMAGE ]]; then
    fail "the test image $SPARK_SLURM_TEST_IMAGE is missing (singularity/make-offline-archive builds it)"
fi
clean_node_scratch

# A generated text: 20,000 lines over a 500-word vocabulary, deterministic.
"$WORDCOUNTS" make "$WORK/input.txt" --seed 20261125
chown "$SPARK_SLURM_TEST_USER" "$WORK/input.txt"
copy_in "$LAUNCHER_HERE/../../../slurm/examples/wordcount.py" "$LAUNCHER_HERE/../../../slurm/examples/wordcount-driver.sh"
events_args=()
driver=./wordcount-driver.sh
if [[ $mode == stall ]]; then
    # shellcheck source=stall_checks.sh
    . "$LAUNCHER_HERE/stall_checks.sh"
    events_args=(--events "$WORK/events.jsonl")
    # The driver outlasts the stall (the word count may be over within it): on until the test,
    # having seen the comment slurmctld could not take during the stall, lets it go.
    write_script stall-driver.sh <<'EOF'
#!/bin/bash
./wordcount-driver.sh || exit
deadline=$((SECONDS + 600))
until [[ -e stall-over ]]; do
    ((SECONDS < deadline)) || { echo "stall-driver.sh: no stall-over within 600 s" >&2; exit 1; }
    sleep 0.5
done
EOF
    driver=./stall-driver.sh
fi
job_script job.sh -N3 --exclusive -t 15 "-o job-%j.out" -- \
    run --runtime "$runtime" ${events_args[@]+"${events_args[@]}"} --ready-timeout 240 -- "$driver"
submit job.sh
if [[ $mode == stall ]]; then
    # The format runs alongside the KDC's start: the stall begins with whichever is first.
    wait_file_match "$WORK/events.jsonl" '"phase": ?"(starting_kdc|formatting_namespace)"' 400
    # On until the driver started: ready and driver_started must fall inside the stall.
    stall "$WORK/events.jsonl" '"event": ?"driver_started"'
    # What slurmctld could not take during the stall (the cluster's addresses in the job's
    # comment), the leader gives it afterwards, while the cluster serves.
    deadline=$((SECONDS + 90))
    until squeue -h -j "$JOBID" -o %k 2>/dev/null | grep -q 'spark-slurm'; do
        ((SECONDS < deadline)) || fail "the job's comment was not set within 90 s of the stall's end"
        sleep 0.5
    done
    touch "$WORK/stall-over"
fi
wait_done "$JOBID" 600
out=$(job_output "$JOBID")

grep -q 'TOIL-CHECK ok' <<<"$out" || fail "Toil's count() check did not pass"
if [[ -n $spark_version ]]; then
    grep -q "Spark $spark_version from " <<<"$out" || fail "the leader did not name Spark $spark_version"
    # and the driver's own SparkContext ran it
    grep -qx "SPARK-VERSION $spark_version" <<<"$out" || fail "the driver did not run Spark $spark_version"
fi
"$WORDCOUNTS" check "$WORK/input.txt" "$WORK/counts.tsv" || fail "the word counts differ from the reference count"
grep -Eq 'workers 2/2 registered \([0-9]+ cores, [0-9]+ MiB each\)' <<<"$out" || fail "the leader did not report 2/2 workers"
grep -q 'datanodes 2/2 live' <<<"$out" || fail "the leader did not report 2/2 datanodes"
grep -Eq 'cluster ready in [0-9.]+ s' <<<"$out" || fail "no time-to-ready reported"
grep -Eq 'cluster stopped in [0-9.]+ s' <<<"$out" || fail "no teardown reported"
# The workers offer what hwloc saw inside the step: both CPUs of the (exclusive) node.
grep -Eq "workers 2/2 registered \\($SPARK_SLURM_TEST_CPUS_PER_NODE cores" <<<"$out" ||
    fail "the workers do not offer the node's $SPARK_SLURM_TEST_CPUS_PER_NODE cores"
grep -q 'EXECUTORS 2 ' <<<"$out" || fail "the application did not get an executor on each of the 2 workers"
if [[ $mode == stall ]]; then
    # event_time EVENT: the unix time of the leader's first EVENT
    event_time() {
        python3 -c 'import json, sys
for line in open(sys.argv[1]):
    item = json.loads(line)
    if item["event"] == sys.argv[2]:
        print(item["time"]); break' "$WORK/events.jsonl" "$1"
    }
    ready=$(event_time ready)
    started=$(event_time driver_started)
    [[ -n $ready && -n $started ]] || fail "no ready or driver_started event"
    # Published and serving while slurmctld was stopped: the leader did not wait for it.
    python3 -c "import sys; f,r,d,t=map(float,sys.argv[1:]); sys.exit(0 if f < r <= d < t else 1)" \
        "$stall_from" "$ready" "$started" "$stall_to" ||
        fail "the cluster was not ready and the driver not started within the stall ($stall_from..$stall_to: ready $ready, driver $started)"
    no_lost_peers "$out"
    note="; ready $(python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$stall_from" "$ready") s into the stall"
fi
# The secret (64 hex digits) is in no log and no output of the job.
secret_leaks=$(grep -rlE '[0-9a-f]{64}' "$WORK" 2>/dev/null || true)
[[ -z $secret_leaks ]] || fail "the job's secret appears in $secret_leaks"
assert_nothing_left
pass "$(grep -Eo 'cluster ready in [0-9.]+ s' <<<"$out"), $(grep -Eo 'cluster stopped in [0-9.]+ s' <<<"$out")${note:-}"
