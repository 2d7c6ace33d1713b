"""Documents done so far in each running shard, sent from the workers to the driver.

A stage's progress would otherwise move once per finished shard: a run of
one large WARC sits at "0/1 shard" until the end. So each shard task reports,
while it runs, how many documents it has read and which share of its input
that is; the driver polls the totals (``dclm.runtime.progress_display``) and shows
documents, documents per second and an ETA.

* The board (``dclm.runtime.progress_board``): a tiny Ray actor holding the latest
  report of every shard; the driver asks it for a snapshot.
* Worker side, this module: ``reporting(board, shard)`` around a shard's
  work, and ``advance()`` from the loops that read documents. ``advance`` is a counter
  increment and a clock read; a report goes out at most every
  ``REPORT_EVERY_S`` seconds. Outside ``reporting`` (no board: tests, local
  calls, the dedup phases) it does nothing.

Reports never touch a shard's output, so progress cannot change what a run writes.
This module needs no Ray (a board is any object with ``update.remote``), so
the readers at the bottom of the house can count what they read.
"""
from __future__ import annotations

import contextlib
import time
from typing import Optional

REPORT_EVERY_S = 0.5


class _Reporter:
    def __init__(self, board, shard: str):
        self.board, self.shard = board, shard
        self.documents = 0
        self.total: Optional[float] = None
        self.done: Optional[float] = None
        self._next = 0.0

    def send(self) -> None:
        fraction = None
        if self.total and self.done is not None:
            fraction = min(max(self.done / self.total, 0.0), 1.0)
        self.board.update.remote(self.shard, self.documents, fraction)
        self._next = time.monotonic() + REPORT_EVERY_S


_reporter: Optional[_Reporter] = None


@contextlib.contextmanager
def reporting(board, shard: str):
    """Report this worker's ``advance`` calls for ``shard`` to ``board`` (None: report nothing)."""
    global _reporter
    if board is None:
        yield
        return
    _reporter = _Reporter(board, shard)
    try:
        yield
        _reporter.send()    # the final count (a failed shard's count does not matter)
    finally:
        _reporter = None


def track_input(url: str) -> None:
    """Count ``advance(done=byte offset)`` against the size of the file at ``url`` (one stat, when reporting)."""
    if _reporter is not None:
        _reporter.total = input_size(url)


def set_total(total: Optional[float]) -> None:
    """The size of the input being read (bytes, rows): ``advance(done=...)`` counts against it."""
    if _reporter is not None:
        _reporter.total = total


def advance(documents: int = 1, done: Optional[float] = None) -> None:
    """``documents`` more were read; ``done``: how far into the input (same unit as ``set_total``)."""
    reporter = _reporter
    if reporter is None:
        return
    reporter.documents += documents
    if done is not None:
        reporter.done = done
    if time.monotonic() >= reporter._next:
        reporter.send()


def input_size(url: str) -> Optional[int]:
    """Bytes of an input file, or None when its store will not say."""
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
        return int(fs.size(path))
    except Exception:   # progress is a nicety: an unknown size only hides the ETA
        return None
