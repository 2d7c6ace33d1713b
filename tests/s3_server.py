"""A real S3 API on loopback for tests: moto's standalone server, and a faulty HTTP proxy before it.

``MotoServer`` runs ``python -m moto.server`` as a subprocess on a free port.
``FaultProxy`` is a small HTTP/1.1 relay in a background thread: every request
goes to moto unchanged, except that every ``every``-th request the ``select``
predicate accepts is answered with a real failure on the wire instead:

* ``"slowdown"``: ``503`` with S3's ``SlowDown`` error document, what S3
  sends a client that reads or writes one prefix too fast;
* ``"internal"``: ``500 InternalError``, which S3 asks clients to retry;
* ``"cut"``: the real status line and headers with the full Content-Length,
  then half of the body, then the connection is closed, which is how a
  dropped connection looks half-way through a long read.
"""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}
# The error documents S3 sends with a 503 throttle and a 500.
ERRORS = {
    "slowdown": (503, b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
                      b'<Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>'),
    "internal": (500, b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
                      b'<Message>We encountered an internal error. Please try again.</Message>'
                      b'<RequestId>FAULT</RequestId></Error>'),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """moto's S3 server in a subprocess of its own."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen] = None

    def __enter__(self) -> "MotoServer":
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"tests/s3_server.py: moto server exited with "
                                       f"{self.process.returncode}") from None
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("tests/s3_server.py: moto server did not start within 30 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def object_get(method: str, path: str) -> bool:
    """A GET of an object's bytes (not a bucket listing or an upload's bookkeeping)."""
    parsed = urllib.parse.urlsplit(path)
    parts = [p for p in parsed.path.split("/") if p]
    return method == "GET" and len(parts) >= 2 and "list-type" not in parsed.query


def any_request(method: str, path: str) -> bool:
    return True


class FaultProxy:
    """Relays HTTP to ``upstream``, failing every ``every``-th selected request.

    ``faults`` are used in turn: with ``("slowdown", "cut")`` the first
    injected failure is a 503, the second a cut body, and so on.
    """

    def __init__(self, upstream_port: int, every: int = 0, faults: tuple[str, ...] = ("slowdown",),
                 select: Callable[[str, str], bool] = any_request):
        self.upstream_port = upstream_port
        self.every = every
        self.faults = faults
        self.select = select
        self.selected = 0
        self.injected = 0
        self.injected_kinds: Counter = Counter()
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def _fault_for(self, method: str, path: str) -> Optional[str]:
        with self._lock:
            self.requests += 1
            if not self.every or not self.select(method, path):
                return None
            self.selected += 1
            if self.selected % self.every:
                return None
            fault = self.faults[self.injected % len(self.faults)]
            self.injected += 1
            self.injected_kinds[fault] += 1
            return fault

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):   # keep pytest's output clean
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunk = self.rfile.read(size)
                        self.rfile.readline()
                        if not size:
                            return b"".join(chunks)
                        chunks.append(chunk)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _relay(self) -> None:
                body = self._body()
                fault = proxy._fault_for(self.command, self.path)
                if fault in ERRORS:
                    status, document = ERRORS[fault]
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(document)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(document)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    reply = upstream.getresponse()
                    data = reply.read()
                    self.send_response(reply.status, reply.reason)
                    for key, value in reply.getheaders():
                        if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                            self.send_header(key, value)
                    length = reply.getheader("Content-Length") if self.command == "HEAD" else len(data)
                    self.send_header("Content-Length", str(length or 0))
                    self.end_headers()
                    if self.command == "HEAD":
                        return
                    if fault == "cut" and len(data) > 1:
                        self.wfile.write(data[: len(data) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay

        return Handler

    def __enter__(self) -> "FaultProxy":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def s3_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment of a ``dclm`` process that talks to ``endpoint`` (this process's, plus S3)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_"))}
    env.update(CREDENTIALS, AWS_ENDPOINT_URL=endpoint, **extra)
    return env
