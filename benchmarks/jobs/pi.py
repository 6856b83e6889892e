# pi.py SAMPLES PARTITIONS: Spark Pi (Monte Carlo) as a compute benchmark.
import sys
import time

from pyspark.sql import SparkSession

samples, parts = int(sys.argv[1]), int(sys.argv[2])
spark = SparkSession.builder.appName("bench-pi").getOrCreate()
sc = spark.sparkContext


def inside(seed):
    import random
    rng = random.Random(seed)
    hits = 0
    for _ in range(samples // parts):
        x, y = rng.random(), rng.random()
        hits += x * x + y * y <= 1.0
    return hits


t = time.time()
hits = sc.parallelize(range(parts), parts).map(inside).sum()
elapsed = time.time() - t
print(f"BENCH pi_job_s {elapsed:.3f}")
print(f"BENCH pi_value {4.0 * hits / (samples // parts * parts):.5f}")
print(f"BENCH pi_msamples_per_s {samples / elapsed / 1e6:.3f}")
spark.stop()
