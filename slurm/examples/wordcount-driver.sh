#!/bin/bash
# The driver command of the word-count test: put the input into HDFS, run the Spark job.
set -euo pipefail
echo "HDFS_URL=$HDFS_URL SPARK_SLURM_WORKERS=$SPARK_SLURM_WORKERS"
hdfs dfs -mkdir -p /wordcount
hdfs dfs -put -f input.txt /wordcount/input.txt
spark-submit wordcount.py "$HDFS_URL/wordcount/input.txt" "$HDFS_URL/wordcount/counts" counts.tsv
