"""The Spark application of hdfs_kerberos.sh: executors (which hold no Kerberos ticket, only the
job's HDFS delegation token) read the test's file from HDFS and write and read back a result."""
import sys

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("hdfs-kerberos-check").getOrCreate()
sc = spark.sparkContext
numbers = sc.textFile(sys.argv[1], minPartitions=4).map(int)
lines, total = numbers.count(), numbers.sum()
sc.parallelize(range(1000), 4).map(str).saveAsTextFile(sys.argv[2])
written = sc.textFile(sys.argv[2]).map(int).sum()
hosts = sorted(set(sc.parallelize(range(8), 8).map(lambda _: __import__("socket").gethostname()).collect()))
print(f"KERBEROS-CHECK lines={lines} total={total} written={written} executor_hosts={','.join(hosts)}")
spark.stop()
