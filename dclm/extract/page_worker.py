"""HTML decoding and extraction in a child process, so a time limit holds for any page.

The SIGALRM limit (``dclm.extract.time_limit``) only fires between Python bytecodes:
resiliparse's C parser on 100,000 nested ``<div>``s ran 489 s under a 10 s
limit. A process can always be killed, so each shard's pages go to one
long-lived child (``python -m dclm.extract.page_worker``), one at a time over a pipe.
Inside the child the SIGALRM limit still ends pages stuck in Python cheaply
(the child replies ``("timeout", ...)`` and goes on); when a page is not done
shortly after the deadline (``_GRACE_SECONDS``), the parser is stuck in C: the
child is killed, the page is counted as ``extraction_timeout``, and a fresh
child takes the next page.
The child runs the same functions as before, so the documents are the same.

Protocol: length-prefixed pickles, parent to child ``(payload, content_type)``,
child to parent ``("ok", text, fell_back, peak_rss_mib)``, ``("error",
message, peak_rss_mib)`` or ``("timeout", peak_rss_mib)``. The child announces
itself with ``("ready",)`` after its imports, so start-up time never counts
against a page.
"""
from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from dclm.extract.time_limit import DocumentTimeout

_LENGTH = struct.Struct("<Q")
_START_SECONDS = 120.0            # imports on a loaded machine; never counted against a page
_GRACE_SECONDS = 0.5              # for the child's own alarm to fire before the parent kills it


class PageError(Exception):
    """The extractor raised on this page (the message says what)."""


class WorkerLost(Exception):
    """The child died or broke the protocol outside a page's deadline."""


def _read_exactly(fd: int, size: int, deadline: Optional[float]) -> Optional[bytes]:
    """``size`` bytes from ``fd``; None when the deadline passes first; WorkerLost at end of file."""
    chunks, left = [], size
    while left:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return None
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise WorkerLost("the page worker exited")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int, deadline: Optional[float]):
    head = _read_exactly(fd, _LENGTH.size, deadline)
    if head is None:
        return None
    body = _read_exactly(fd, _LENGTH.unpack(head)[0], deadline)
    return None if body is None else pickle.loads(body)


def _write_message(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


class PageWorker:
    """One child process extracting pages with ``extractor``, replaced when a page overruns ``seconds``."""

    def __init__(self, extractor: str, seconds: Optional[float]):
        self.extractor = extractor
        self.seconds = seconds if seconds and seconds > 0 else None
        self.process: Optional[subprocess.Popen] = None
        self.peak_rss_mib = 0
        self.restarts = 0

    def _start(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root,
                                                                         os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen([sys.executable, "-m", "dclm.extract.page_worker", self.extractor,
                                         str(self.seconds or 0)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        if _read_message(self.process.stdout.fileno(), time.monotonic() + _START_SECONDS) != ("ready",):
            self._stop()
            raise WorkerLost("the page worker did not start")

    def _stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
        self.process = None

    def extract(self, payload: bytes, content_type: Optional[str]) -> tuple[str, bool]:
        """(text, whether the safety net replaced it); DocumentTimeout past the limit, PageError on failure."""
        if self.process is None:
            self._start()
        deadline = None if self.seconds is None else time.monotonic() + self.seconds + _GRACE_SECONDS
        try:
            _write_message(self.process.stdin, (payload, content_type))
            reply = _read_message(self.process.stdout.fileno(), deadline)
        except (BrokenPipeError, WorkerLost) as exc:
            self._stop()
            self.restarts += 1
            raise PageError(f"the page worker died on this page ({exc})") from None
        if reply is None:                      # past the deadline: only killing stops a C parser
            self._stop()
            self.restarts += 1
            raise DocumentTimeout()
        self.peak_rss_mib = max(self.peak_rss_mib, reply[-1])
        if reply[0] == "timeout":
            raise DocumentTimeout()
        if reply[0] == "error":
            raise PageError(reply[1])
        return reply[1], reply[2]

    def close(self) -> None:
        if self.process is not None:
            self.process.stdin.close()             # the child's loop ends at end of input
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self._stop()

    def __enter__(self) -> "PageWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _peak_rss_mib() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _serve(extractor: str, seconds: float) -> None:
    """The child's loop: one page in, one reply out, until the parent closes the pipe."""
    from dclm.extract.html_text import decode_html, get_checked_extractor
    from dclm.extract.time_limit import time_limit

    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                   # anything a library prints goes to stderr, never into the protocol
    requests = sys.stdin.buffer
    extract = get_checked_extractor(extractor)
    _write_message(replies, ("ready",))
    while True:
        head = requests.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return
        payload, content_type = pickle.loads(requests.read(_LENGTH.unpack(head)[0]))
        try:
            with time_limit(seconds):
                text, fell_back = extract(decode_html(payload, content_type))
            reply = ("ok", text, fell_back, _peak_rss_mib())
        except DocumentTimeout:
            reply = ("timeout", _peak_rss_mib())
        except Exception as exc:   # a page the parser or extractor cannot handle
            reply = ("error", f"{type(exc).__name__}: {exc}"[:300], _peak_rss_mib())
        _write_message(replies, reply)


if __name__ == "__main__":
    _serve(sys.argv[1], float(sys.argv[2]))
