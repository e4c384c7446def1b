#!/usr/bin/python3
"""Long-lived HTTP/1.1 keep-alive streams through the VIP, for the sync failover test.

Opens FIRST connections, touches DIR/phase1, waits for DIR/go, opens SECOND more, touches
DIR/ready, then every connection sends "GET /" every 100 ms until DIR/stop appears or
MAX_SECONDS pass (a hard bound). Each response body is the real server's name. Writes
DIR/result.json: per connection the local port, the servers seen, the error if any, and the
longest gap between two answers.
"""
import json
import os
import socket
import sys
import threading
import time

vip, first, second, d, max_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
deadline = time.monotonic() + max_seconds
stop = threading.Event()
results = []
lock = threading.Lock()


def request(sock, buf):
    sock.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\n\r\n")
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer mid-body")
        rest += chunk
    return rest[:length].decode().strip(), rest[length:]


def stream(sock):
    port = sock.getsockname()[1]
    servers, error, gap, buf = [], None, 0.0, b""
    last = time.monotonic()
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            name, buf = request(sock, buf)
            now = time.monotonic()
            gap = max(gap, now - last)
            last = now
            if not servers or servers[-1] != name:
                servers.append(name)
            time.sleep(0.1)
    except Exception as e:  # noqa: BLE001 - every failure is a finding
        error = "%s: %s" % (type(e).__name__, e)
    with lock:
        results.append({"port": port, "servers": servers, "error": error, "gap": round(gap, 3)})
    sock.close()


def open_streams(n):
    threads = []
    for _ in range(n):
        s = socket.create_connection((vip, 80), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # One request at once, so the connection is ESTABLISHED on the director.
        t = threading.Thread(target=stream, args=(s,), daemon=True)
        t.start()
        threads.append(t)
    return threads


def touch(name):
    open(os.path.join(d, name), "w").close()


def wait_for(name):
    while not os.path.exists(os.path.join(d, name)) and time.monotonic() < deadline:
        time.sleep(0.05)


threads = open_streams(first)
touch("phase1")
wait_for("go")
threads += open_streams(second)
touch("ready")
wait_for("stop")
stop.set()
for t in threads:
    t.join(timeout=10)
with open(os.path.join(d, "result.json.tmp"), "w") as f:
    json.dump(results, f)
os.rename(os.path.join(d, "result.json.tmp"), os.path.join(d, "result.json"))
