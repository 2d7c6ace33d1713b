"""Validation of one untrusted submission in a child process, with a time and a memory limit.

Every limit the validator knows of is checked where the data is read; this is
the net under them, for the case nobody foresaw. The child is forked (it
inherits the registered scales and task sets, which tests extend), lowers its
own limits with ``setrlimit`` (address space: what it has now plus the memory
budget; CPU seconds: the time budget), validates, and sends the result back
as JSON through a pipe. The parent waits at most the time budget by the wall
clock and kills the child past it.

The parent owns the scratch folder the child extracts into, and removes it
whatever happened: a child killed by the limits cannot clean up after itself.
``terminate_as_exit`` turns SIGTERM into SystemExit, so the same ``finally``
runs when a service stops the command.
"""
from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import resource
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from typing import Iterator, Optional

from dclm.submission.safe_archive import Limits
from dclm.submission.validate import Result, validate

_EXIT_MEMORY, _EXIT_CRASH = 3, 4
_MAX_REPLY = 256 << 20
_TOO_LONG = b"\0"                  # a reply past _MAX_REPLY: the child is stopped, its result refused


@dataclass(frozen=True)
class WorkerLimits:
    seconds: float = 1800.0
    memory_bytes: int = 4 << 30


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit(143), so ``finally`` clauses run (main thread only)."""
    def stop(signum, frame):
        raise SystemExit(128 + signal.SIGTERM)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:                  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _virtual_size() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_self(worker: WorkerLimits) -> None:
    seconds = max(1, int(worker.seconds + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    if os.path.exists("/proc/self/status"):
        ceiling = _virtual_size() + worker.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))


def _send(fd: int, payload: dict) -> None:
    data = json.dumps(payload).encode("utf-8")
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _child(fd: int, path: str, known_scales: Optional[dict], limits: Limits, worker: WorkerLimits,
           scratch: str) -> None:
    code = 0
    try:
        faulthandler.disable()         # a C-level abort at the memory limit is reported by the parent
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _limit_self(worker)
        result = validate(path, known_scales, limits, scratch=scratch)
        _send(fd, {"problems": result.problems, "notes": result.notes, "submission": result.submission,
                   "scores": result.scores})
    except MemoryError:
        code = _EXIT_MEMORY
    except BaseException as exc:        # a validator bug: reported as such, never a hang or a traceback
        code = _EXIT_CRASH
        with contextlib.suppress(BaseException):
            _send(fd, {"crash": f"{type(exc).__name__}: {exc}"[:2000]})
    finally:
        os._exit(code)               # no atexit handlers of the parent (Ray, pytest) in the child


def _read_reply(fd: int, deadline: float) -> Optional[bytes]:
    """The child's whole reply; None when the deadline passes first, _TOO_LONG past _MAX_REPLY bytes."""
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > _MAX_REPLY:
            return _TOO_LONG
        chunks.append(chunk)


def _outcome(source: str, status: int, reply: bytes, worker: WorkerLimits) -> Result:
    gigabytes = worker.memory_bytes / (1 << 30)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        try:
            data = json.loads(reply)
            return Result(source, problems=data["problems"], notes=data["notes"], submission=data["submission"],
                          scores=data["scores"])
        except (ValueError, KeyError, TypeError):
            pass
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == _EXIT_MEMORY:
        return Result(source, problems=[f"{source}: validation needed more than {gigabytes:g} GB of memory "
                                        "(memory limit); refused"])
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
        return Result(source, problems=[f"{source}: validation did not finish within {worker.seconds:g} s "
                                        "(time limit); refused"])
    detail = ""
    with contextlib.suppress(ValueError, KeyError, TypeError):
        detail = f": {json.loads(reply)['crash']}"
    how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.WEXITSTATUS(status)}")
    return Result(source, problems=[f"{source}: the validator stopped ({how}{detail}); it may have run out of "
                                    f"memory (limit {gigabytes:g} GB); refused"])


def validate_isolated(path: "str | os.PathLike", known_scales: Optional[dict] = None, limits: Limits = Limits(),
                      worker: WorkerLimits = WorkerLimits()) -> Result:
    """``validate`` in a child process bounded by ``worker``; never raises for a bad submission."""
    source = str(path)
    scratch = tempfile.mkdtemp(prefix="dclm-validate-")
    pid = None
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(write_fd, source, known_scales, limits, worker, scratch)
        os.close(write_fd)
        write_fd = -1
        reply = _read_reply(read_fd, time.monotonic() + worker.seconds)
        if reply is None or reply is _TOO_LONG:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        pid = None
        if reply is None:
            return Result(source, problems=[f"{source}: validation did not finish within {worker.seconds:g} s "
                                            "(time limit); refused"])
        if reply is _TOO_LONG:
            return Result(source, problems=[f"{source}: the validator's report is over {_MAX_REPLY:,} bytes; "
                                            "refused"])
        return _outcome(source, status, reply, worker)
    finally:
        if pid is not None:             # interrupted (SIGTERM, Ctrl-C): the child must not outlive us
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        for fd in (read_fd, write_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)
