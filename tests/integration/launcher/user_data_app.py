"""The application of the user_data integration test (issue 12): a word count from file:// input
to file:// output on the shared filesystem, executors that import a package found only in the
user's venv, and files read by executors from directories bound with --bind / APPTAINER_BIND.

usage: user_data_app.py INPUT_URL OUTPUT_URL MODE EXTRA_FILE SITE_FILE|-
Prints one line per fact for the test to check; any failed expectation raises.
"""
import os
import sys
import time
from operator import add

from pyspark.sql import SparkSession

source, target, mode, extra_file, site_file = sys.argv[1:6]
spark = SparkSession.builder.appName(f"spark-slurm user data ({mode})").getOrCreate()
sc = spark.sparkContext

# Executors on both workers before anything is measured (they register a moment after start).
deadline = time.time() + 60
while sc._jsc.sc().getExecutorMemoryStatus().size() - 1 < 2 and time.time() < deadline:
    time.sleep(0.5)

counts = (sc.textFile(source)
          .flatMap(lambda line: line.split())
          .map(lambda word: (word, 1))
          .reduceByKey(add))
counts.map(lambda pair: f"{pair[0]}\t{pair[1]}").saveAsTextFile(target)
print(f"WORDCOUNT {mode} written to {target}", flush=True)


def on_executor(i):
    import socket
    import sys

    import tinypkg  # installed only in the user's venv

    return (socket.gethostname(), sys.executable, "%d.%d" % sys.version_info[:2],
            os.environ.get("SPARK_HOME", ""), tinypkg.double(i))


rows = sc.parallelize(range(64), 16).map(on_executor).collect()
assert [row[4] for row in rows] == [2 * i for i in range(64)], "tinypkg.double gave wrong values"
hosts = ",".join(sorted({row[0] for row in rows}))
pythons = ",".join(sorted({row[1] for row in rows}))
versions = ",".join(sorted({row[2] for row in rows}))
homes = ",".join(sorted({row[3] for row in rows}))
print(f"EXECUTORS {mode} hosts={hosts} python={pythons} version={versions} "
      f"spark_home={homes} tinypkg=ok", flush=True)
print(f"DRIVER {mode} python={sys.executable} version={sys.version_info[0]}.{sys.version_info[1]} "
      f"spark_home={os.environ.get('SPARK_HOME', '')}", flush=True)
print(f"BIND {mode} lines={sc.textFile('file://' + extra_file).count()}", flush=True)
if mode == "no-hdfs":
    # Without HDFS a path without a scheme is local, relative to the driver's working directory.
    print(f"RELATIVE {mode} lines={sc.textFile('input.txt').count()}", flush=True)
if site_file != "-":
    print(f"SITEBIND {mode} lines={sc.textFile('file://' + site_file).count()}", flush=True)
spark.stop()
