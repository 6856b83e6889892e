"""A Spark Connect client as a login-node user runs it: pyspark-client only (no JVM, no full
pyspark), the cluster given by SPARK_REMOTE alone (set by `eval "$(spark-slurm env)"`).

    connect_groupby.py            runs a groupBy on the cluster, checks it against the same
                                  count made here in plain Python, prints CONNECT-GROUPBY ok
    connect_groupby.py --expect-refused URL
                                  connects to URL and expects the server to refuse it
                                  (wrong or missing token): prints CONNECT-REFUSED <reason>
"""
import collections
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

ROWS = 100_000
BUCKETS = 7


def expected_counts():
    counts = collections.Counter((i * i) % BUCKETS for i in range(ROWS))
    return dict(counts)


def run_groupby():
    remote = os.environ.get("SPARK_REMOTE")
    if not remote:
        sys.exit("SPARK_REMOTE is not set: eval \"$(spark-slurm env)\" first")
    spark = SparkSession.builder.remote(remote).getOrCreate()
    frame = spark.range(ROWS).select(((F.col("id") * F.col("id")) % BUCKETS).alias("k"))
    got = {row["k"]: row["count"] for row in frame.groupBy("k").count().collect()}
    spark.stop()
    want = expected_counts()
    if got != want:
        sys.exit(f"CONNECT-GROUPBY wrong: got {sorted(got.items())}, want {sorted(want.items())}")
    print(f"CONNECT-GROUPBY ok {len(got)} groups over {ROWS} rows")


def expect_refused(url):
    try:
        spark = SparkSession.builder.remote(url).getOrCreate()
        spark.range(3).count()
    except Exception as error:  # the refusal is the expected outcome
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"CONNECT-REFUSED {first}")
        return
    sys.exit(f"CONNECT-ACCEPTED: {url} was let in")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--expect-refused":
        expect_refused(sys.argv[2])
    else:
        run_groupby()
