"""Why a shard failed, and whether running the same command again can fix it.

A rerun retries every failed shard, but only some failures go away on their
own: a timeout, a worker or node that died, a storage error on the way. A
file that is not a WARC, or is in a format no reader takes, fails the same
way every time; telling the user to "rerun to retry" would send them in
circles, so the summary says which kind each failure is.

The exception's cause chain (``raise ShardError(...) from OSError``) only
exists in the worker: Ray pickles the exception without ``__cause__``. So the
worker marks the exception (``mark_retriable``) before it travels, and the
driver reads the mark (``is_retriable``); failures of Ray itself (a dead
worker) are classified on the driver by their type.
"""
from __future__ import annotations

import gzip
import zlib

RETRIABLE_MARK = "dclm_retriable"
# Ray's own failures: the task did not finish, through no fault of its input.
RAY_TRANSIENT = {"WorkerCrashedError", "NodeDiedError", "ObjectLostError", "ObjectFetchTimedOutError",
                 "OwnerDiedError", "OutOfMemoryError", "RaySystemError", "GetTimeoutError",
                 "LocalRayletDiedError", "ActorDiedError", "ActorUnavailableError"}
# OSErrors that name a problem with the input itself, which a rerun meets again.
PERMANENT_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
                       gzip.BadGzipFile)


def _is_transient(exc: BaseException) -> bool:
    if type(exc).__name__ in RAY_TRANSIENT or type(exc).__name__.endswith("Timeout"):
        return True
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    if isinstance(exc, zlib.error):
        return False
    return isinstance(exc, OSError) and not isinstance(exc, PERMANENT_OS_ERRORS)


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _classify(exc: BaseException) -> bool:
    """Retriable? The first exception in the chain that says so itself (a class attribute
    ``retriable``, e.g. ``dclm.io.document_files.InputFormatError``) decides; otherwise any
    transient exception in the chain makes the failure retriable."""
    links = list(_chain(exc))
    for link in links:
        said = getattr(link, "retriable", None)
        if isinstance(said, bool):
            return said
    return any(_is_transient(link) for link in links)


def mark_retriable(exc: BaseException) -> None:
    """In the worker: record on ``exc`` whether a rerun may fix it, while its cause chain exists."""
    try:
        setattr(exc, RETRIABLE_MARK, _classify(exc))
    except AttributeError:      # an exception type that takes no attributes: leave it unmarked
        pass


def is_retriable(exc: BaseException) -> bool:
    """On the driver: may the same command succeed next time for the shard that raised ``exc``?"""
    cause = getattr(exc, "cause", None) or exc      # RayTaskError wraps the task's exception
    marked = getattr(cause, RETRIABLE_MARK, None)
    if marked is not None:
        return bool(marked)
    return _classify(cause) or _is_transient(exc)


def failure_reason(exc: BaseException) -> str:
    """One line naming the exception type and its message, for the summary and stats.json."""
    cause = getattr(exc, "cause", None) or exc
    text = str(cause).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(cause).__name__}: {first}"[:500]
