#!/usr/bin/env python3
"""Sends a bounded stream of numbered UDP datagrams to HOST:PORT at a fixed rate and counts the
echoes that come back (the test bed's real servers echo VIP:9000 straight to the client).
Prints `sent=N received=M lost=K`. Used by scripts/bench-lvsadm.sh to show that table changes
made while traffic flows lose no packet. Bounded: at most --count datagrams, at most --seconds
of sending plus a 2 s drain."""
import argparse
import socket
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rate", type=int, default=5000, help="datagrams per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="hard limit on the sending time")
    parser.add_argument("--sources", type=int, default=64, help="client ports to spread over")
    args = parser.parse_args()

    sockets = []
    for _ in range(args.sources):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("0.0.0.0", 0))
        sockets.append(s)
    seen = set()

    def drain():
        for s in sockets:
            while True:
                try:
                    data = s.recv(2048)
                except BlockingIOError:
                    break
                seen.add(data.split(b" ")[-1].strip())

    start = time.monotonic()
    sent = 0
    while sent < args.count and time.monotonic() - start < args.seconds:
        due = start + sent / args.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        sockets[sent % len(sockets)].sendto(b"seq %d" % sent, (args.host, args.port))
        sent += 1
        if sent % 256 == 0:
            drain()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and len(seen) < sent:
        drain()
        time.sleep(0.01)
    print("sent=%d received=%d lost=%d" % (sent, len(seen), sent - len(seen)))


if __name__ == "__main__":
    main()
