#!/bin/bash
# The driver of the user_data integration test: says what its environment is (working dir,
# SPARK_HOME, the tools on PATH, the user's own PATH and LD_LIBRARY_PATH), then runs the
# application with file:// input and output in the submit directory.
# usage: user_data_driver.sh MODE EXTRA_FILE SITE_FILE|-
set -euo pipefail
mode=$1
tool=$(mytool 2>&1 || echo missing)
echo "DRIVER-ENV $mode pwd=$PWD spark_home=${SPARK_HOME:-} spark_submit=$(command -v spark-submit || true)" \
    "pyspark=$(command -v pyspark || true) hdfs=$(command -v hdfs || true) mytool=$tool" \
    "ld_library_path=${LD_LIBRARY_PATH:-}"
spark-submit user_data_app.py "file://$PWD/input.txt" "file://$PWD/out-$mode" "$mode" "$2" "$3"
