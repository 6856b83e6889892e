# count.py: Toil's Spark service check, parallelize(range(10000)).count(), as a driver's first
# result: the time it is printed is the end of "sbatch -> first result".
import time

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("bench-count").getOrCreate()
count = spark.sparkContext.parallelize(range(10000)).count()
print(f"BENCH t_first_result {time.time():.3f}")
print(f"BENCH count_value {count}")
spark.stop()
