"""Retrying remote storage calls that fail for a moment: throttling, 5xx, dropped connections.

Object stores answer a busy prefix with ``503 SlowDown`` and drop long
streaming reads now and then. botocore and s3fs already retry single requests
a few times within about a second; this layer sits above them and covers what
they leave: a read that fails half-way through a 1 GB WARC (the caller's file
is reopened at the same offset, see ``dclm.io.remote_files``) and throttling
that outlasts their short backoff.

The policy is exponential backoff with full jitter (a random wait between 0
and ``min(max_delay_s, base_delay_s * multiplier ** attempt)``), so that many
workers throttled at once do not come back in step. Errors that would fail
again (missing object, no permission, bad request) are raised at once.

Every retry is logged and counted: ``collect_retries()`` gathers the counts of
the calls made while it is open, which the shard stages store in their ledger
as ``remote_retries``.

Environment overrides (read when a policy is built with ``from_env``, so Ray
workers honour them when the driver's environment is forwarded):
``DCLM_REMOTE_RETRY_ATTEMPTS``, ``DCLM_REMOTE_RETRY_BASE_S``,
``DCLM_REMOTE_RETRY_MAX_S``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, TypeVar

log = logging.getLogger("dclm.remote")
T = TypeVar("T")

# S3 and GCS error codes that mean "later", not "never".
TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
    "RequestThrottled", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500",
})
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Exception class names (looked up along the MRO, so neither botocore nor
# aiohttp has to be importable) that mean the connection, not the request, failed.
TRANSIENT_TYPES = frozenset({
    "ConnectionError", "TimeoutError", "IncompleteRead", "RemoteDisconnected", "ProtocolError",
    "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError", "ConnectTimeoutError",
    "ResponseStreamingError", "HTTPClientError", "ClientPayloadError", "ClientConnectionError",
    "ServerDisconnectedError", "FSTimeoutError",
})
# Never worth a retry, whatever the chain below them says.
PERMANENT_TYPES = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed remote call is tried again.

    ``attempts`` counts the first try: 6 means up to 5 retries. With the
    defaults the waits are drawn from [0, 0.5], [0, 1], [0, 2], [0, 4] and
    [0, 8] seconds, at most about 15 s in all before the error is raised.
    """

    attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    multiplier: float = 2.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number ``retry`` (0-based), with full jitter."""
        cap = min(self.max_delay_s, self.base_delay_s * self.multiplier ** retry)
        return rng.uniform(0.0, cap)

    @classmethod
    def from_env(cls) -> "RetryPolicy":
        env = os.environ
        default = cls()
        try:
            return cls(attempts=int(env.get("DCLM_REMOTE_RETRY_ATTEMPTS", default.attempts)),
                       base_delay_s=float(env.get("DCLM_REMOTE_RETRY_BASE_S", default.base_delay_s)),
                       max_delay_s=float(env.get("DCLM_REMOTE_RETRY_MAX_S", default.max_delay_s)))
        except ValueError as exc:
            raise ValueError(f"dclm/io/remote_retry.py: bad DCLM_REMOTE_RETRY_* setting: {exc}") from exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _response_says_transient(exc: BaseException) -> bool:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):              # botocore ClientError
        error = response.get("Error") or {}
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return error.get("Code") in TRANSIENT_CODES or status in TRANSIENT_STATUS
    code = getattr(exc, "code", None)           # gcsfs HttpError and similar
    return isinstance(code, int) and code in TRANSIENT_STATUS


def is_transient(exc: BaseException) -> bool:
    """True when the same call may well succeed if tried again a little later."""
    for link in _chain(exc):
        if isinstance(link, PERMANENT_TYPES):
            return False
        if _response_says_transient(link):
            return True
        if any(cls.__name__ in TRANSIENT_TYPES for cls in type(link).__mro__):
            return True
        text = str(link)
        if "SlowDown" in text or "reduce your request rate" in text:
            return True
    return False


# Open collectors of this process. Not a context variable: Arrow reads Parquet
# through Python file objects from its own I/O threads, where a context
# variable set by the task's thread is not visible. A Ray worker runs one task
# at a time, so a process-wide list counts exactly that task's retries.
_COLLECTORS: list[Counter] = []
_LOCK = threading.Lock()


@contextlib.contextmanager
def collect_retries() -> Iterator[Counter]:
    """Count the retries of this process's calls while the block runs, by kind of failure."""
    counts: Counter = Counter()
    with _LOCK:
        _COLLECTORS.append(counts)
    try:
        yield counts
    finally:
        with _LOCK:
            _COLLECTORS.remove(counts)


def _record(what: str, exc: BaseException, retry: int, wait: float) -> None:
    with _LOCK:
        for counts in _COLLECTORS:
            counts[type(exc).__name__] += 1
    log.warning("%s failed (%s: %s); retry %d in %.2f s", what, type(exc).__name__, str(exc)[:200], retry + 1, wait)


def retry_call(func: Callable[[], T], what: str, policy: Optional[RetryPolicy] = None,
               on_retry: Optional[Callable[[], None]] = None, rng: Optional[random.Random] = None,
               sleep: Callable[[float], None] = time.sleep) -> T:
    """``func()``, tried again on transient failures under ``policy``.

    ``what`` names the call in log lines. ``on_retry`` runs before each new
    attempt (a reader uses it to drop its broken connection). The last error
    is raised when the attempts run out; a permanent error is raised at once.
    """
    policy = policy or RetryPolicy.from_env()
    rng = rng or random.Random()
    for attempt in range(policy.attempts):
        try:
            return func()
        except Exception as exc:
            if attempt + 1 >= policy.attempts or not is_transient(exc):
                raise
            wait = policy.delay(attempt, rng)
            _record(what, exc, attempt, wait)
            sleep(wait)
            if on_retry is not None:
                on_retry()
    raise AssertionError("unreachable: the loop returns or raises")
