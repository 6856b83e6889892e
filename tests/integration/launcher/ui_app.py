"""ui_app.py STOP_FILE EXECUTORS: a Spark application for ui_login.sh that keeps its UI up. Waits
until EXECUTORS executors have registered, runs two jobs whose every task prints a line to its
executor's stderr log, prints "UI-APP RUNNING APP_ID UI URL", then waits until STOP_FILE exists
(at most 10 minutes) and stops."""
import os
import sys
import time

from pyspark.sql import SparkSession

stop_file, executors = sys.argv[1], int(sys.argv[2])
spark = SparkSession.builder.appName("ui-login").getOrCreate()
sc = spark.sparkContext

# The test reads one given executor's log: every executor must have run a task. Tasks go to
# the executors registered when a stage starts, so wait for all of them (the driver counts too).
deadline = time.monotonic() + 180
while sc._jsc.sc().getExecutorMemoryStatus().size() < executors + 1:
    if time.monotonic() > deadline:
        sys.exit(f"ui_app.py: fewer than {executors} executors registered within 180 s")
    time.sleep(0.2)


def shout(index, values):
    print("UI-APP-EXECUTOR-LINE partition", index, flush=True)
    return values


# More tasks than the cluster's task slots: the first offer of the stage fills every executor.
total = sc.parallelize(range(1000), 16).mapPartitionsWithIndex(shout).sum()
assert total == sum(range(1000)), total
count = sc.parallelize(range(64), 16).mapPartitionsWithIndex(shout).count()
print(f"UI-APP RUNNING {sc.applicationId} UI {sc.uiWebUrl} SUM {total} COUNT {count}", flush=True)
deadline = time.monotonic() + 600
while not os.path.exists(stop_file) and time.monotonic() < deadline:
    time.sleep(0.5)
spark.stop()
print("UI-APP DONE", flush=True)
