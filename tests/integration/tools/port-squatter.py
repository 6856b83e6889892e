#!/usr/bin/env python3
"""port-squatter.py STOP_FILE REPORT [MAX_SECONDS [SPARED_PORTS]]: another user on a node who
watches /proc/net/unix for the abstract sockets by which launchers claim their ports
("@spark-slurm/port/N") and takes each such port on 127.0.0.1 first (issue 27), except the
comma-separated SPARED_PORTS (to let a start get as far as a later port). It accepts every
connection and counts the bytes each port receives, until STOP_FILE exists or MAX_SECONDS (default
300) pass, then writes REPORT: one line "PORT bound|busy|spared CONNECTIONS BYTES" per claimed
port. Bounded in time; it listens only on the loopback."""
import os
import re
import select
import socket
import sys
import time

stop_file, report = sys.argv[1], sys.argv[2]
max_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 300
spared = {int(port) for port in sys.argv[4].split(",") if port} if len(sys.argv) > 4 else set()
claim = re.compile(r"@spark-slurm/port/(\d+)$")
listeners, peers, stats = {}, {}, {}
started = time.monotonic()
while time.monotonic() - started < max_seconds and not os.path.exists(stop_file):
    with open("/proc/net/unix") as table:
        for line in table:
            match = claim.search(line.strip())
            if not match or int(match.group(1)) in stats:
                continue
            port = int(match.group(1))
            if port in spared:
                stats[port] = ["spared", 0, 0]
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(16)
                listeners[s] = port
                stats[port] = ["bound", 0, 0]
            except OSError:
                s.close()
                stats[port] = ["busy", 0, 0]
    readable, _, _ = select.select(list(listeners) + list(peers), [], [], 0.01)
    for s in readable:
        if s in listeners:
            conn, _ = s.accept()
            peers[conn] = listeners[s]
            stats[listeners[s]][1] += 1
        else:
            data = s.recv(65536)
            stats[peers[s]][2] += len(data)
            if not data:
                del peers[s]
                s.close()
with open(report, "w") as out:
    for port, (state, connections, received) in sorted(stats.items()):
        out.write(f"{port} {state} {connections} {received}\n")
