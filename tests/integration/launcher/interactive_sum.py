"""A plain PySpark application, submitted from the host (the login node) with no --master after
eval "$(spark-slurm env)": sums i*i over 1..N on the cluster with DataFrame work only (no
Python on the executors, so the same program serves host-install and image clusters), and
reports how many distinct hosts ran its executors."""
import sys
import time

from pyspark.sql import SparkSession

N = int(sys.argv[1])
WORKERS = int(sys.argv[2])
spark = SparkSession.builder.appName("interactive-sum").getOrCreate()


def executor_hosts():
    """Hosts of the executors registered with this driver (its own block manager excluded)."""
    status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus()
    hosts = set()
    iterator = status.keysIterator()
    while iterator.hasNext():
        hosts.add(iterator.next().rsplit(":", 1)[0])
    hosts.discard(spark.conf.get("spark.driver.host"))
    return hosts


# Each worker starts an executor for the application; wait for them (bounded), so that the
# count below is spread over all of them.
deadline = time.monotonic() + 90
while len(executor_hosts()) < WORKERS and time.monotonic() < deadline:
    time.sleep(0.5)
total = spark.range(1, N + 1, numPartitions=8).selectExpr("sum(id * id) AS s").first()["s"]
hosts = executor_hosts()
print(f"INTERACTIVE-SUM {total} HOSTS {len(hosts)} MASTER {spark.sparkContext.master}")
spark.stop()
