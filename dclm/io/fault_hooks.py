"""Fault injection for the fault-tolerance tests; inert unless its variables are set.

A test cannot kill a process "in the middle of a shard" by timing alone: on
a fast machine the shard is done before the signal lands, on a slow one it
has not started. These hooks make the moment deterministic:

* ``DCLM_TEST_PAUSE_BEFORE_PUBLISH=SUFFIX`` (with ``DCLM_TEST_FAULT_DIR=DIR``):
  the first process about to publish a file whose path ends with ``/SUFFIX``
  (e.g. ``out/data/CC-MAIN-DEV-00010.parquet``, which ``out/.dclm/dropped/…`` does not
  match; its temporary copy is complete, the rename has not happened) writes
  its pid to ``DIR/<SUFFIX with / as _>.attempt-1.pid`` and sleeps
  ``DCLM_TEST_PAUSE_S`` seconds (default 300), so the test can kill it right
  there. Later attempts (Ray's retry of the shard) only leave
  ``….attempt-2.pid``, … and go on.
* ``DCLM_TEST_KILL_AFTER_PHASE=PHASE``: the driver SIGKILLs itself right
  after the checkpoint of ``PHASE`` is stored (see ``pipelines.deduplication.stage``),
  which is a driver death between two phases.

Without these variables every hook is one dictionary lookup.
"""
from __future__ import annotations

import os
import signal
import time

PAUSE_ENV = "DCLM_TEST_PAUSE_BEFORE_PUBLISH"
FAULT_DIR_ENV = "DCLM_TEST_FAULT_DIR"
PAUSE_SECONDS_ENV = "DCLM_TEST_PAUSE_S"
KILL_AFTER_PHASE_ENV = "DCLM_TEST_KILL_AFTER_PHASE"
DEFAULT_PAUSE_S = 300.0


def _claim_attempt(folder: str, name: str) -> int:
    """The number of this attempt at ``name``; its marker holds our pid.

    O_EXCL makes the numbering safe when attempts race on several workers.
    """
    os.makedirs(folder, exist_ok=True)
    attempt = 1
    while True:
        marker = os.path.join(folder, f"{name}.attempt-{attempt}.pid")
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            attempt += 1
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        return attempt


def marker_name(suffix: str) -> str:
    """The file-name stem of the pid markers for ``suffix``."""
    return suffix.strip("/").replace("/", "_")


def before_publish(path: str) -> None:
    """Called by ``open_atomic`` between writing the temporary file and renaming it."""
    suffix = os.environ.get(PAUSE_ENV)
    if not suffix or not f"/{path.lstrip('/')}".endswith(f"/{suffix.strip('/')}"):
        return
    folder = os.environ.get(FAULT_DIR_ENV)
    if not folder:
        raise RuntimeError(f"{PAUSE_ENV} is set but {FAULT_DIR_ENV} is not")
    if _claim_attempt(folder, marker_name(suffix)) == 1:
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, DEFAULT_PAUSE_S)))


def after_phase(phase: str) -> None:
    """Called by a driver once ``phase``'s checkpoint is stored."""
    if os.environ.get(KILL_AFTER_PHASE_ENV) == phase:
        os.kill(os.getpid(), signal.SIGKILL)
