"""ui_app.py STOP_FILE: a Spark application for ui_login.sh that keeps its UI up. Runs two jobs
(its executors print lines to their stdout logs), prints "UI-APP RUNNING APP_ID UI URL", then
waits until STOP_FILE exists (at most 10 minutes) and stops."""
import os
import sys
import time

from pyspark.sql import SparkSession

stop_file = sys.argv[1]
spark = SparkSession.builder.appName("ui-login").getOrCreate()
sc = spark.sparkContext


def shout(x):
    if x % 100 == 0:
        print("UI-APP-EXECUTOR-LINE", x, flush=True)
    return x


total = sc.parallelize(range(1000), 8).map(shout).sum()
assert total == sum(range(1000)), total
count = sc.parallelize(range(64), 8).map(shout).count()
print(f"UI-APP RUNNING {sc.applicationId} UI {sc.uiWebUrl} SUM {total} COUNT {count}", flush=True)
deadline = time.monotonic() + 600
while not os.path.exists(stop_file) and time.monotonic() < deadline:
    time.sleep(0.5)
spark.stop()
print("UI-APP DONE", flush=True)
