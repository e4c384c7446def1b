#!/usr/bin/python3
"""A real server for the SwiftLVS namespace test bed (Python 3 standard library only).

Runs inside one real-server namespace and answers in a way that lets a test tell which
real server it reached and whether the bytes survived the trip through the director:

HTTP (all addresses, so both the RS's own IP and the VIP on lo):
    GET  /            -> "<name>\\n"
    GET  /blob/<N>    -> N deterministic pseudo-random bytes, identical on every server
                         for the same N; header X-Blob-SHA256 carries their digest when
                         N <= the cache limit, so a client can check without a reference
    GET  /status      -> "<name> <code>\\n" with the HTTP status written in --status-file
                         (200 when the file is absent or unreadable): HTTP_GET tests
                         change a server's health by writing that file
    POST /upload      -> "<name> <sha256 hex> <length>\\n" of the request body
    PUT  /upload         (Content-Length or chunked; streamed, never held in memory)
    every response carries "X-Server: <name>"

UDP (bound to the VIP itself, so replies leave with the VIP as source address, as a
DR real server must answer):
    datagram "<payload>" -> "<name> <payload>"

Exits with status 0 on SIGTERM or SIGINT.
"""

import argparse
import hashlib
import http.server
import random
import re
import signal
import socket
import sys
import threading
from collections import OrderedDict

# Blob content is generated in fixed chunks so that the streamed form (large N) and
# the cached form (small N) are the same bytes by construction.
BLOB_CHUNK = 64 * 1024
# Blobs up to this size are built once, hashed and kept (tests fetch the same N many
# times); bigger ones are streamed without a digest header.
BLOB_CACHE_LIMIT = 64 * 1024 * 1024
BLOB_CACHE_ENTRIES = 4
# A sanity bound: a typo in a test should not keep a server busy for an hour.
BLOB_MAX = 1 << 32
IO_CHUNK = 256 * 1024


def blob_chunks(n):
    """Yields the N bytes of blob N. Seeded by N only, so every server agrees."""
    rng = random.Random(n)
    left = n
    while left > 0:
        chunk = rng.randbytes(BLOB_CHUNK)
        if left < BLOB_CHUNK:
            chunk = chunk[:left]
        left -= len(chunk)
        yield chunk


class BlobCache:
    """A tiny thread-safe LRU of (bytes, sha256 hex) keyed by N."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = OrderedDict()

    def get(self, n):
        with self._lock:
            item = self._items.get(n)
            if item is not None:
                self._items.move_to_end(n)
                return item
        # Build outside the lock: two threads may build the same blob once each,
        # which is cheaper than making every other request wait.
        data = b"".join(blob_chunks(n))
        item = (data, hashlib.sha256(data).hexdigest())
        with self._lock:
            self._items[n] = item
            while len(self._items) > BLOB_CACHE_ENTRIES:
                self._items.popitem(last=False)
        return item


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 so clients may keep connections alive (benchmarks and multi-request tests).
    protocol_version = "HTTP/1.1"
    server_version = "lvs-rs-server"
    # A buffered writer (flushed by the base class after each request) puts a small
    # response's headers and body into one segment, and TCP_NODELAY sends it at once.
    # Unbuffered, headers and body left as two segments, and Nagle held the second
    # until the client's delayed ACK: ~40 ms per keep-alive request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    # Set on the class by main().
    rs_name = "rs"
    verbose = False
    status_file = None
    blobs = BlobCache()

    def log_message(self, format, *args):  # noqa: A002 (signature fixed by the base class)
        if self.verbose:
            sys.stderr.write("%s %s - %s\n" % (self.rs_name, self.address_string(), format % args))

    def _start_response(self, code):
        self.send_response(code)
        self.send_header("X-Server", self.rs_name)
        # Say so when we will close (the client asked for it): HTTP/1.1 clients such
        # as wrk otherwise expect keep-alive and count our FIN as a read error.
        if self.close_connection:
            self.send_header("Connection", "close")

    def _send(self, code, body, extra_headers=()):
        self._start_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra_headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_found(self):
        # The body of an unexpected request may still be in flight: close rather than
        # try to resynchronise the keep-alive stream.
        self.close_connection = True
        self._send(404, b"not found\n")

    def do_GET(self):
        if self.path == "/":
            self._send(200, (self.rs_name + "\n").encode())
            return
        if self.path == "/status":
            code = 200
            try:
                with open(self.status_file or "", encoding="ascii") as f:
                    code = int(f.read().strip())
            except (OSError, ValueError):
                pass
            if not 100 <= code <= 599:
                code = 500
            self._send(code, ("%s %d\n" % (self.rs_name, code)).encode())
            return
        match = re.fullmatch(r"/blob/(\d{1,10})", self.path)
        if match:
            self._send_blob(int(match.group(1)))
            return
        self._not_found()

    do_HEAD = do_GET

    def _send_blob(self, n):
        if n > BLOB_MAX:
            self.close_connection = True
            self._send(400, b"blob too large\n")
            return
        self._start_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        if n <= BLOB_CACHE_LIMIT:
            data, digest = self.blobs.get(n)
            self.send_header("X-Blob-SHA256", digest)
            self.end_headers()
            if self.command != "HEAD":
                view = memoryview(data)
                for off in range(0, n, IO_CHUNK):
                    self.wfile.write(view[off:off + IO_CHUNK])
        else:
            self.end_headers()
            if self.command != "HEAD":
                for chunk in blob_chunks(n):
                    self.wfile.write(chunk)

    def do_POST(self):
        if self.path != "/upload":
            self._not_found()
            return
        digest = hashlib.sha256()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            length = self._read_chunked(digest)
        else:
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self._send(400, b"bad Content-Length\n")
                return
            left = length
            while left > 0:
                chunk = self.rfile.read(min(IO_CHUNK, left))
                if not chunk:
                    # Client went away mid-body: nothing sensible to answer.
                    self.close_connection = True
                    return
                digest.update(chunk)
                left -= len(chunk)
        if length is None:
            self.close_connection = True
            return
        self._send(200, ("%s %s %d\n" % (self.rs_name, digest.hexdigest(), length)).encode())

    do_PUT = do_POST

    def _read_chunked(self, digest):
        """Reads a chunked body into digest; returns its length, or None if it broke off."""
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                return None
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                # Trailers (normally none) end with an empty line.
                while True:
                    trailer = self.rfile.readline(1024)
                    if trailer in (b"\r\n", b"\n", b""):
                        return total
            left = size
            while left > 0:
                chunk = self.rfile.read(min(IO_CHUNK, left))
                if not chunk:
                    return None
                digest.update(chunk)
                left -= len(chunk)
            total += size
            self.rfile.readline(16)  # the CRLF after the chunk data


class Server(http.server.ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops SYNs under wrk -c50.
    request_queue_size = 1024
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that resets or goes away mid-response is normal under load tests
        # (and when a test kills a transfer on purpose): no traceback in the log.
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, TimeoutError)) and not Handler.verbose:
            return
        super().handle_error(request, client_address)


def udp_echo(sock, name, stop):
    prefix = name.encode() + b" "
    while not stop.is_set():
        try:
            payload, peer = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except OSError:
            return  # socket closed during shutdown
        try:
            sock.sendto(prefix + payload, peer)
        except OSError as err:
            # A full socket buffer under load must not kill the echo thread.
            if Handler.verbose:
                sys.stderr.write("%s udp sendto %s: %s\n" % (name, peer, err))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True, help="server name, echoed in every answer (rs1)")
    parser.add_argument("--vip", default="10.200.0.100", help="VIP the UDP socket binds to")
    parser.add_argument("--http-bind", default="0.0.0.0", help="HTTP listen address")
    parser.add_argument("--http-port", type=int, default=80, help="HTTP port (0: no HTTP)")
    parser.add_argument("--udp-port", type=int, default=9000, help="UDP echo port on the VIP (0: no UDP)")
    parser.add_argument("--status-file", help="file holding the status GET /status answers (default 200)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args()

    Handler.rs_name = args.name
    Handler.verbose = args.verbose
    Handler.status_file = args.status_file
    stop = threading.Event()

    # SIGTERM is how the test bed stops us; turn it into an orderly exit.
    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # The signal mask survives fork and exec. Started from a Swift test (Foundation's
    # Process on a Dispatch worker thread), we inherit a mask with SIGTERM and SIGINT
    # blocked and would never see them. Unblock before any thread starts so that every
    # thread inherits the open mask.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

    threads = []
    udp = None
    if args.udp_port:
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # IP_FREEBIND: the VIP may not be on the host yet (a bed with LVS_TESTBED_RS_SETUP=none,
        # where lvs-realserver adds it later); the socket receives once it is.
        udp.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_FREEBIND", 15), 1)
        udp.bind((args.vip, args.udp_port))
        udp.settimeout(0.5)
        threads.append(threading.Thread(target=udp_echo, args=(udp, args.name, stop), daemon=True))

    httpd = None
    if args.http_port:
        httpd = Server((args.http_bind, args.http_port), Handler)
        # serve_forever runs in a thread: shutdown() blocks until it returns, so it
        # must not be called from the thread that is serving.
        threads.append(threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True))

    for thread in threads:
        thread.start()
    sys.stderr.write("rs-server %s: ready http=%s:%s udp=%s:%s\n"
                     % (args.name, args.http_bind, args.http_port or "-", args.vip, args.udp_port or "-"))
    sys.stderr.flush()

    # Event.wait with a timeout keeps the main thread able to run signal handlers.
    while not stop.wait(1.0):
        pass

    if httpd is not None:
        httpd.shutdown()
        httpd.server_close()
    if udp is not None:
        udp.close()
    sys.stderr.write("rs-server %s: stopped\n" % args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
