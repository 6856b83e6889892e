#!/usr/bin/env python3
"""hostile-client.py HOST PORT [REPLAY_FILE]: what a stranger on the network can send to a
launcher's control port, each on its own connection: the line that once crashed a leader, an
old-style hello, random bytes, an endless line, a well-formed hello with a forged MAC, a genuine
worker's hello seen on the wire (the first line of REPLAY_FILE) replayed, a message before the
handshake, and a crowd of connections that never speak. Prints one line per attempt; exits 0 when every
attempt was sent (the launcher's survival is judged by the caller). Bounded: every socket has a
timeout, and everything goes only to HOST:PORT."""
import json
import os
import random
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261127)


def connect():
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(5)
    return s


def read_line(s):
    data = b""
    try:
        while not data.endswith(b"\n") and len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def closed_by_peer(s, within=8.0):
    """True when the launcher closes the connection (EOF or reset) within the bound."""
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            s.settimeout(max(0.1, deadline - time.time()))
            if s.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
    return False


def attempt(name, payload=None, handshake=False):
    s = connect()
    challenge = read_line(s)
    if handshake:
        nonce = json.loads(challenge)["nonce"]
        assert len(nonce) == 32, challenge
    try:
        if callable(payload):
            payload(s, challenge)
        elif payload is not None:
            s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    dropped = closed_by_peer(s)
    s.close()
    print(f"{name}: {'dropped' if dropped else 'NOT dropped'}")
    return dropped


def endless(s, _):
    chunk = b"x" * 65536
    for _ in range(8):
        s.sendall(chunk)


ok = True
ok &= attempt("the line that crashed a leader", b'{"hello":"x"}\n')
ok &= attempt("an old-style hello", b'{"hello":1,"token":"0123456789abcdef"}\n')
ok &= attempt("random bytes", bytes(rng.getrandbits(8) for _ in range(4096)) + b"\n")
ok &= attempt("an endless line", endless)
forged = {"type": "hello", "rank": 1, "nonce": os.urandom(16).hex(), "mac": os.urandom(32).hex()}
ok &= attempt("a forged hello", (json.dumps(forged) + "\n").encode(), handshake=True)
if len(sys.argv) > 3:
    with open(sys.argv[3], "rb") as replay:
        seen = replay.readline().strip()
    assert b'"hello"' in seen, seen
    ok &= attempt("a replayed hello", seen + b"\n", handshake=True)
ok &= attempt("a stop before the handshake", b'{"type":"stopped"}\n', handshake=True)
crowd = [connect() for _ in range(24)]
silent_dropped = all(closed_by_peer(s, within=12) for s in crowd)
for s in crowd:
    s.close()
print(f"24 silent connections: {'dropped' if silent_dropped else 'NOT all dropped'}")
ok &= silent_dropped
sys.exit(0 if ok else 1)
