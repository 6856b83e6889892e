# dfsio.py MB FILES: TestDFSIO-style HDFS throughput: write MB MiB as FILES text files (1 KiB
# lines, generated in the executors' JVMs) to HDFS, read them back (every byte is scanned), delete.
import os
import sys
import time

from pyspark.sql import SparkSession

mb, files = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("bench-dfsio").getOrCreate()
sc = spark.sparkContext
base = os.environ.get("HDFS_URL") or sc._jsc.hadoopConfiguration().get("fs.defaultFS")
path = f"{base}/tmp/bench-dfsio-{os.getpid()}"
rows = mb * 1024  # 1023 characters + newline = 1 KiB per line

t = time.time()
(spark.range(0, rows, 1, files)
      .selectExpr("lpad(cast(id as string), 1023, 'x') as value")
      .write.mode("overwrite").text(path))
write_s = time.time() - t

t = time.time()
total = spark.read.text(path).selectExpr("sum(length(value) + 1) as n").collect()[0]["n"]
read_s = time.time() - t
assert total == rows * 1024, (total, rows * 1024)

jvm = sc._jvm
fs = jvm.org.apache.hadoop.fs.FileSystem.get(jvm.java.net.URI(base), sc._jsc.hadoopConfiguration())
fs.delete(jvm.org.apache.hadoop.fs.Path(path), True)
print(f"BENCH dfsio_mb {mb}")
print(f"BENCH dfsio_write_s {write_s:.3f}")
print(f"BENCH dfsio_read_s {read_s:.3f}")
print(f"BENCH dfsio_write_mb_s {mb / write_s:.2f}")
print(f"BENCH dfsio_read_mb_s {mb / read_s:.2f}")
spark.stop()
