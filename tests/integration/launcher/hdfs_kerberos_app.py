"""The Spark application of hdfs_kerberos.sh: executors (which hold no Kerberos ticket, only the
job's HDFS delegation token) read the test's file from HDFS and write and read back a result;
the marker file's distinct lines go through a shuffle and back to the driver."""
import sys

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("hdfs-kerberos-check").getOrCreate()
sc = spark.sparkContext
numbers = sc.textFile(sys.argv[1], minPartitions=4).map(int)
lines, total = numbers.count(), numbers.sum()
sc.parallelize(range(1000), 4).map(str).saveAsTextFile(sys.argv[2])
written = sc.textFile(sys.argv[2]).map(int).sum()
hosts = sorted(set(sc.parallelize(range(8), 8).map(lambda _: __import__("socket").gethostname()).collect()))
markers = sc.textFile(sys.argv[3], 4).distinct().collect()
print(f"MARKERS {len(markers)}")
print(f"KERBEROS-CHECK lines={lines} total={total} written={written} executor_hosts={','.join(hosts)}")
spark.stop()
