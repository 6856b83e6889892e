"""A word count on a spark-slurm cluster (the quickstart demo and an integration test).

Reads a text file from HDFS, counts its words across the workers, writes the counts back to
HDFS, reads them again and writes them to a local TSV the test compares with its own count.
Also runs Toil's own check of a Spark service: parallelize(range(10000), 10).count() == 10000.
"""
import os
import sys

from pyspark.sql import SparkSession

source, target, local_result = sys.argv[1:4]
spark = SparkSession.builder.appName("spark-slurm word count").getOrCreate()
sc = spark.sparkContext

print(f"SPARK-VERSION {spark.version}", flush=True)
assert sc.parallelize(range(10000), 10).count() == 10000
print("TOIL-CHECK ok", flush=True)

counts = (sc.textFile(source)
          .flatMap(lambda line: line.split())
          .map(lambda word: (word, 1))
          .reduceByKey(lambda a, b: a + b))
counts.map(lambda pair: f"{pair[0]}\t{pair[1]}").saveAsTextFile(target)

read_back = sc.textFile(target).map(lambda line: line.split("\t")).collect()
executors = sc._jsc.sc().getExecutorMemoryStatus().size() - 1  # minus the driver
with open(local_result, "w") as out:
    for word, count in sorted(read_back):
        out.write(f"{word}\t{count}\n")
print(f"WORDS {len(read_back)} EXECUTORS {executors} MASTER {os.environ['SPARK_MASTER_URL']}", flush=True)
spark.stop()
