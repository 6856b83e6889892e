#!/bin/bash
# A missing image, a file that is not a SIF, and an image without Spark: one line saying what to
# do, exit status 2, nothing started on any node.
SMOKE_NAME=bad_image
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
clean_node_scratch
echo "not an image" | write_script not-a-sif.sif
# An image without Spark: a real SIF of a tiny root filesystem (the apptainer smoke test's kind).
build_image_without_spark

check() {  # check NAME IMAGE REGEX
    local name=$1 image=$2 regex=$3
    job_script "$name.sh" -N2 --exclusive -t 5 "-o $name-%j.out" -- run --runtime apptainer --image "$image" -- true
    submit "$name.sh"
    wait_state "$JOBID" 200 "${TERMINAL_STATES[@]}"
    local ec errors
    ec=$(ssc_job_field "$JOBID" ExitCode)
    [[ $ec == 2:0 ]] || fail "$name: job ExitCode $ec, expected 2:0"
    errors=$(grep -c '^spark-slurm run: ' "$WORK/$name-$JOBID.out" || true)
    grep -Eq "$regex" "$WORK/$name-$JOBID.out" || fail "$name: no message matching /$regex/"
    [[ $errors == 1 ]] || fail "$name: expected one message, got $errors"
    grep -q 'started' "$WORK/$name-$JOBID.out" && fail "$name: something was started"
    assert_nothing_left
}
check missing "$WORK/nonexistent.sif" 'does not exist; check the path'
check not_sif "$WORK/not-a-sif.sif" 'is not a SIF image'
check no_spark "$WORK/no-spark.sif" 'does not provide spark'
pass
