"""A stage output directory as plain data: its segments, the step funnel, and what the shards hold.

A stage directory (``dclm.io.output_layout``) holds ``.dclm/stats.json`` (the
run's step counts), ``.dclm/ledger/<shard>.json``, the kept
``data/<shard>.parquet`` and ``.dclm/dropped/<shard>.parquet``. A recipe
with global steps runs in segments: ``OUTPUT/.dclm/work/NN_label/`` are
complete stage directories of their own, run in name order, and ``OUTPUT``
itself is the last one (its own counts in ``.dclm/segment_stats.json``);
the funnel chains them in that order.

Counts come from the ledgers (``stats.json`` is their sum; a disagreement is
reported, not hidden). Words come from the Parquet text, see
``words_through_steps``.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from fsspec.core import url_to_fs

from dclm.errors import UsageError
from dclm.io.document_writers import JSONL_SUFFIXES
from dclm.io.output_layout import data_dir, dropped_dir, ledger_dir, stats_path, work_dir
from dclm.report.parquet_facts import DroppedStep, KeptFacts, read_dropped, read_kept
from dclm.runtime.ledger import ShardLedger, StepCounts
from dclm.runtime.recipe_stats import segment_stats_path
from dedup.cluster_stats import size_bin

SAMPLES_PER_STEP = 3
_SEGMENT_NAME = re.compile(r"^\d+_")
# The extract step drops WARC records that never had text (requests, metadata,
# non-HTML, empty extractions), so it removes no words.
TEXTLESS_DROP_STEPS = ("extract",)


def read_json(fs, path: str) -> dict:
    try:
        with fs.open(path, "rb") as fh:
            data = json.loads(fh.read())
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: not found") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _parquet_files(fs, folder: str) -> list[str]:
    if not fs.isdir(folder):
        return []
    names = [p for p in fs.ls(folder, detail=False) if p.endswith((".parquet",) + JSONL_SUFFIXES)]
    # Hidden names are the temporary files of interrupted atomic writes.
    return sorted(p for p in names if not p.rpartition("/")[2].startswith("."))


@dataclass
class StepRow:
    """One step of the funnel, with documents from the ledgers and words from the shards."""

    segment: str
    counts: StepCounts
    words_in: Optional[int] = None
    words_out: Optional[int] = None
    bytes_in: Optional[int] = None
    bytes_out: Optional[int] = None
    in_is_lower_bound: bool = False
    dropped_rows_found: int = 0


@dataclass
class ClusterSizes:
    segment: str
    step: str
    histogram: dict[str, int]
    clusters: int
    largest: int
    source: str


@dataclass
class Segment:
    label: str
    path: str
    stats: dict
    steps: list[StepCounts]
    kept: KeptFacts
    dropped: dict[str, DroppedStep]
    rows: list[StepRow] = field(default_factory=list)


@dataclass
class StageData:
    root: str
    segments: list[Segment]
    warnings: list[str]
    clusters: list[ClusterSizes]

    @property
    def rows(self) -> list[StepRow]:
        return [row for segment in self.segments for row in segment.rows]

    @property
    def final(self) -> KeptFacts:
        return self.segments[-1].kept

    def thresholds(self) -> dict[str, float]:
        """Score cut-offs a top-fraction step recorded, by score column."""
        found = {}
        for segment in self.segments:
            params = segment.stats.get("params") or {}
            if params.get("by") and isinstance(params.get("threshold"), (int, float)):
                found[params["by"]] = float(params["threshold"])
        return found


def is_stage_dir(path: str) -> bool:
    fs, real = url_to_fs(path)
    return fs.isfile(stats_path(real))


def _own_stats(fs, folder: str) -> dict:
    """A folder's own counts: the last segment of a recipe keeps them apart from the recipe's."""
    own = segment_stats_path(folder)
    return read_json(fs, own if fs.isfile(own) else stats_path(folder))


def _summed_steps(fs, folder: str, stats: dict, label: str, warnings: list[str]) -> list[StepCounts]:
    ledgers = ledger_dir(folder)
    ledger_files = sorted(p for p in (fs.ls(ledgers, detail=False) if fs.isdir(ledgers) else [])
                          if p.endswith(".json") and not p.rpartition("/")[2].startswith("."))
    from_stats = [StepCounts.from_dict(step) for step in stats.get("steps", [])]
    if not ledger_files:
        warnings.append(f"{label}: no ledger files in {ledgers}; counts are taken from stats.json")
        return from_stats
    totals: dict[str, StepCounts] = {}
    for path in ledger_files:
        try:
            ledger = ShardLedger.from_dict(read_json(fs, path))
        except KeyError as exc:
            raise UsageError(f"{path}: ledger has no field {exc}") from exc
        for counts in ledger.steps:
            totals.setdefault(counts.step, StepCounts(counts.step)).add(counts)
    steps = list(totals.values())
    if [s.to_dict() | {"seconds": 0} for s in steps] != [s.to_dict() | {"seconds": 0} for s in from_stats]:
        warnings.append(f"{label}: the ledgers in {ledgers} and its stats.json disagree "
                        f"(a run interrupted after its ledgers?); the ledgers are shown")
    return steps


def _segment_dirs(fs, root: str) -> list[tuple[str, str]]:
    work = work_dir(root)
    found = []
    if fs.isdir(work):
        for path in sorted(fs.ls(work, detail=False)):
            name = path.rstrip("/").rpartition("/")[2]
            if _SEGMENT_NAME.match(name) and fs.isfile(stats_path(path.rstrip("/"))):
                found.append((name, path.rstrip("/")))
    return found


def words_through_steps(segment: Segment, previous: Optional[Segment]) -> None:
    """Fill each row's words and bytes in and out, walking back from the measured output.

    A step's output is the next step's input; what a step removed is the text
    of the rows it wrote to ``dropped/``. Where that is not known exactly (a
    step modified text, or not every dropped row was written) the input is a
    lower bound, and so is every input before it. The first step of a later
    segment reads the previous segment's output, which is measured.
    """
    words, sizes, lower = segment.kept.total_words, segment.kept.total_bytes, False
    rows = [StepRow(segment.label, counts) for counts in segment.steps]
    for row in reversed(rows):
        counts = row.counts
        row.words_out, row.bytes_out = words, sizes
        gone = segment.dropped.get(counts.step)
        row.dropped_rows_found = gone.rows if gone else 0
        if counts.step in TEXTLESS_DROP_STEPS:
            complete = True
        else:
            complete = row.dropped_rows_found == sum(counts.dropped.values())
        words += gone.words if gone else 0
        sizes += gone.bytes if gone else 0
        lower = lower or not complete or counts.modified > 0
        row.words_in, row.bytes_in, row.in_is_lower_bound = words, sizes, lower
    if previous is not None and rows:
        rows[0].words_in, rows[0].bytes_in = previous.kept.total_words, previous.kept.total_bytes
        rows[0].in_is_lower_bound = False
    segment.rows = rows


def _clusters(segment: Segment) -> list[ClusterSizes]:
    found = []
    facts = segment.stats.get("global") or {}
    sizes = facts.get("cluster_sizes")
    if isinstance(sizes, dict) and isinstance(sizes.get("histogram"), dict):
        step = segment.steps[0].step if segment.steps else segment.stats.get("stage", "")
        found.append(ClusterSizes(segment.label, step, dict(sizes["histogram"]), int(sizes.get("clusters", 0)),
                                  int(sizes.get("largest", 0)), "stats.json (MinHash connected components)"))
    for step, gone in segment.dropped.items():
        if not gone.duplicate_of or sizes:
            continue
        counts = next((c for c in segment.steps if c.step == step), None)
        complete = counts is not None and gone.rows == sum(counts.dropped.values())
        histogram: Counter = Counter(size_bin(n + 1) for n in gone.duplicate_of.values())
        ordered = dict(sorted(histogram.items(), key=lambda kv: int(kv[0].split("-")[0])))
        source = "dropped/ rows: each group is a kept document plus the copies naming it in duplicate_of"
        if not complete:
            source += " (only some dropped rows were written, so groups are undercounted)"
        found.append(ClusterSizes(segment.label, step, ordered, len(gone.duplicate_of),
                                  max(gone.duplicate_of.values()) + 1, source))
    return found


def collect_stage(path: str, samples_per_step: int = SAMPLES_PER_STEP) -> StageData:
    """Everything the report shows about one stage directory (UsageError if it is not one)."""
    fs, root = url_to_fs(path)
    root = root.rstrip("/")
    if not fs.isfile(stats_path(root)):
        raise UsageError(f"{path}: no .dclm/stats.json, so not a stage output directory")
    read_json(fs, stats_path(root))         # damaged, it is named even when a segment's copy is what is shown
    warnings: list[str] = []
    places = _segment_dirs(fs, root)
    final_label = "final" if places else _own_stats(fs, root).get("stage", "output")
    places.append((final_label, root))
    segments, previous = [], None
    for label, folder in places:
        stats = _own_stats(fs, folder)
        if stats.get("shards_failed"):
            warnings.append(f"{label}: shards failed: {', '.join(sorted(stats['shards_failed']))}")
        for problem in stats.get("invariant_problems") or []:
            warnings.append(f"{label}: ledger mismatch: {problem}")
        segment = Segment(label, folder, stats, _summed_steps(fs, folder, stats, label, warnings),
                          read_kept(fs, _parquet_files(fs, data_dir(folder))),
                          read_dropped(fs, _parquet_files(fs, dropped_dir(folder)), samples_per_step))
        if previous is not None and segment.steps and previous.steps:
            passed, received = previous.steps[-1].docs_out, segment.steps[0].docs_in
            if passed != received:
                warnings.append(f"{label}: received {received} documents but {previous.label} passed {passed}")
        words_through_steps(segment, previous)
        segments.append(segment)
        previous = segment
    clusters = [c for segment in segments for c in _clusters(segment)]
    return StageData(path, segments, warnings, clusters)
