#!/usr/bin/env python3
"""flood-client.py HOST PORT STOP_FILE [RATE] [MAX_SECONDS]: a stranger flooding a launcher's
control port from the moment it listens (issue 27): RATE connections a second (default 200),
alternately silent (held open, the 300 newest, the oldest closed past that) and garbage (random
bytes, then closed), until STOP_FILE exists or MAX_SECONDS (default 240) pass. Bounded in count
and time; everything goes only to HOST:PORT. Prints what it did; exits 0."""
import collections
import os
import random
import socket
import sys
import time

host, port, stop_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rate = int(sys.argv[4]) if len(sys.argv) > 4 else 200
max_seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 240
rng = random.Random(20261207)
held = collections.deque()
counts = collections.Counter()
started = time.monotonic()
next_at = started
while time.monotonic() - started < max_seconds and not os.path.exists(stop_file):
    now = time.monotonic()
    if now < next_at:
        time.sleep(next_at - now)
    next_at += 1.0 / rate
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(0.5)
        s.connect((host, port))
    except OSError as error:
        counts["refused or timed out: " + type(error).__name__] += 1
        s.close()
        continue
    if counts["connected"] % 2 == 0:
        held.append(s)
        if len(held) > 300:
            held.popleft().close()
    else:
        try:
            s.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))))
        except OSError:
            counts["garbage not sent"] += 1
        s.close()
    counts["connected"] += 1
for s in held:
    s.close()
seconds = time.monotonic() - started
print(f"flood: {counts['connected']} connections in {seconds:.1f} s "
      f"({counts['connected'] / max(seconds, 0.001):.0f}/s); {dict(counts)}")
