"""A wall-clock limit for one document's processing.

One pathological page (a 15 MB table, a regex-hostile script blob) must not
stall a whole shard. The limit uses SIGALRM, so it applies where the work runs
on a process's main thread (the CLI and Ray task workers both do); elsewhere it
is a no-op rather than an error. Python checks for the signal between bytecodes,
so a long call inside a C extension ends at its next return to Python.
"""
from __future__ import annotations

import contextlib
import signal
import threading


class DocumentTimeout(Exception):
    """Raised inside the protected block when the limit has passed."""


def _on_alarm(signum, frame):
    raise DocumentTimeout()


@contextlib.contextmanager
def time_limit(seconds: float):
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
