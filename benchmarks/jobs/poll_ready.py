#!/usr/bin/python3
# poll_ready.py MASTER_UI NAMENODE_HTTP WORKERS [--once] [--timeout S]: the launcher's readiness
# test, done from outside: the master's /json/ says ALIVE with WORKERS alive workers, and the
# namenode's FSNamesystemState says NumLiveDataNodes >= WORKERS and FSState Operational. Polls every
# 0.25 s (the launcher's kProbeInterval). Prints "ready <epoch>" (or "not_ready <epoch> <why>").
import json
import sys
import time
import urllib.request

master, namenode, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
once = "--once" in sys.argv
timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else 300.0


def get(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.load(r)


def state():
    try:
        m = get(master + "/json/")
    except Exception as e:  # not up yet
        return False, f"master: {type(e).__name__}"
    alive = sum(1 for w in m.get("workers", []) if w.get("state") == "ALIVE")
    if m.get("status") != "ALIVE" or alive < workers:
        return False, f"master {m.get('status')} workers {alive}/{workers}"
    try:
        b = get(namenode + "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState")["beans"][0]
    except Exception as e:
        return False, f"namenode: {type(e).__name__}"
    if b.get("NumLiveDataNodes", 0) < workers or b.get("FSState") != "Operational":
        return False, f"datanodes {b.get('NumLiveDataNodes')}/{workers} {b.get('FSState')}"
    return True, "ok"


deadline = time.time() + timeout
while True:
    ok, why = state()
    if ok:
        print(f"ready {time.time():.6f}", flush=True)
        sys.exit(0)
    if once or time.time() > deadline:
        print(f"not_ready {time.time():.6f} {why.replace(' ', '_')}", flush=True)
        sys.exit(1)
    time.sleep(0.25)
