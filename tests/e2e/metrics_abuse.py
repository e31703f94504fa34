#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile scrapers for tests/e2e/test_metrics.sh, run against metrics_listen.

  metrics_abuse.py HOST PORT SECONDS

For SECONDS, at once: 300 slowloris connections (a request trickled out a
byte at a time, never finished), 1000 idle connections (opened, nothing
sent), one request with a 1 MiB header, and a loop of complete scrapes.
Prints one line per attacker; exits 0 (the test judges the victim, not us).
"""
import resource
import socket
import sys
import threading
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
end = time.monotonic() + seconds
out = {}


def connect(timeout=2.0):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def slowloris(n=300):
    socks, refused = [], 0
    for _ in range(n):
        try:
            socks.append(connect())
        except OSError:
            refused += 1
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
    i = 0
    while time.monotonic() < end:
        for s in list(socks):
            try:
                s.send(req[i:i + 1])
            except OSError:
                socks.remove(s)
        i = (i + 1) % len(req)
        time.sleep(0.5)
    out["slowloris"] = f"opened {n - refused}, refused {refused}, still open {len(socks)}"
    for s in socks:
        s.close()


def idle(n=1000):
    socks, refused = [], 0
    for _ in range(n):
        try:
            socks.append(connect(0.5))
        except OSError:
            refused += 1
    while time.monotonic() < end:
        time.sleep(0.2)
    out["idle"] = f"opened {n - refused}, refused {refused}"
    for s in socks:
        s.close()


def huge():
    try:
        s = connect(5.0)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (1 << 20) + b"\r\n\r\n")
        reply = s.recv(100)
        out["huge"] = "answered " + reply.split(b"\r\n")[0].decode(errors="replace")
    except OSError as e:
        out["huge"] = f"closed ({e.__class__.__name__})"


def hammer():
    ok = bad = 0
    while time.monotonic() < end:
        try:
            s = connect(2.0)
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            s.close()
            ok += data.startswith(b"HTTP/1.0 200") or data.startswith(b"HTTP/1.1 200")
        except OSError:
            bad += 1
    out["hammer"] = f"{ok} scrapes answered, {bad} failed"


threads = [threading.Thread(target=f) for f in (slowloris, idle, huge, hammer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for k in sorted(out):
    print(f"{k}: {out[k]}")
