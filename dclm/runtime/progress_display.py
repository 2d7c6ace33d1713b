"""The progress line of a stage, drawn from shard counts and the workers' live document counts.

On a terminal: one line redrawn in place (``\\r``) a few times a second,
with a bar, shards done, documents, documents per second and an ETA. When
stderr is not a terminal (CI, a log file, ``2> run.log``), redraws would
pile up as one endless line of carriage returns, so a plain line is printed
every ``DCLM_PROGRESS_EVERY_S`` seconds (default 10) instead, and one at the end.

The ETA assumes the work left goes at the pace of the work done: the share
done counts finished shards as whole and running shards by how much of their
input they have read.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Optional, TextIO

REDRAW_EVERY_S = 0.25
PLAIN_EVERY_S = 10.0
BAR_WIDTH = 20


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class StageProgress:
    """What a stage has done so far, shown on ``stream`` (stderr by default)."""

    def __init__(self, desc: str, total_shards: int, already_done: int = 0, *, enabled: bool = True,
                 stream: Optional[TextIO] = None, plain_every_s: Optional[float] = None):
        self.desc, self.total, self.already_done = desc, total_shards, already_done
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interactive = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        if plain_every_s is None:
            plain_every_s = float(os.environ.get("DCLM_PROGRESS_EVERY_S", PLAIN_EVERY_S))
        self.every_s = REDRAW_EVERY_S if self.interactive else plain_every_s
        self.started = time.monotonic()
        self.finished: dict[str, int] = {}          # shard -> documents, once its task returned
        self.running: dict[str, tuple[int, Optional[float]]] = {}
        self.failed = 0
        self.reported = False       # whether any worker has counted documents (select does not)
        # A terminal line appears at once; log lines only once there is something to say.
        self._last_drawn = float("-inf") if self.interactive else self.started
        self._width = 0

    # -- what happened --------------------------------------------------------
    def update_running(self, snapshot: dict[str, tuple[int, Optional[float]]]) -> None:
        """The workers' latest counts; shards already finished keep their final count."""
        self.reported = self.reported or bool(snapshot)
        for name, (documents, fraction) in snapshot.items():
            if name in self.finished:
                self.finished[name] = max(self.finished[name], documents)
            else:
                self.running[name] = (documents, fraction)

    def shard_finished(self, name: str, documents: Optional[int] = None, failed: bool = False) -> None:
        reported = self.running.pop(name, (0, None))[0]
        self.finished[name] = max(reported, documents or 0)
        self.failed += failed

    # -- figures -------------------------------------------------------------
    @property
    def documents(self) -> int:
        return sum(self.finished.values()) + sum(d for d, _ in self.running.values())

    def share_done(self) -> float:
        """Share of this run's work done (shards finished by an earlier run are not this run's work)."""
        todo = self.total - self.already_done
        if todo <= 0:
            return 1.0
        partial = sum(f for _, f in self.running.values() if f is not None)
        return min((len(self.finished) + partial) / todo, 1.0)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        done_shards = self.already_done + len(self.finished)
        share = self.share_done()
        rate = self.documents / elapsed if elapsed > 0 else 0.0
        parts = [f"{done_shards:,}/{plural(self.total, 'shard')}"]
        if self.reported or self.documents:
            parts += [plural(self.documents, "doc"), f"{rate:,.0f} docs/s"]
        if 0 < share < 1:
            parts.append(f"ETA {format_duration(elapsed * (1 - share) / share)}")
        parts.append(f"elapsed {format_duration(elapsed)}")
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        text = ", ".join(parts)
        if self.interactive:
            filled = int(round(share * BAR_WIDTH))
            text = f"|{'#' * filled}{'.' * (BAR_WIDTH - filled)}| {share:4.0%} {text}"
        else:
            text = f"{share:.0%} {text}"
        return f"{self.desc}: {text}"

    def begin(self) -> None:
        """The shards are submitted: rates and the ETA count from now."""
        self.started = time.monotonic()
        if not self.interactive:
            self._last_drawn = self.started
        self.refresh(force=self.interactive)

    # -- drawing -------------------------------------------------------------
    def status(self, text: str) -> None:
        """A passing state before there are counts (a terminal only: a log needs no such line)."""
        if self.enabled and self.interactive:
            self.stream.write(f"\r{self.desc}: {text}")
            self._width = len(self.desc) + 2 + len(text)
            self.stream.flush()

    def refresh(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_drawn < self.every_s:
            return
        self._last_drawn = now
        text = self.line()
        if self.interactive:
            columns = shutil.get_terminal_size((100, 20)).columns - 1
            text = text[:columns]
            # Pad over the longer line drawn before, then return to the start.
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        self.refresh(force=True)
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
