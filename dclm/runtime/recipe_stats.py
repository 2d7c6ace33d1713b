"""One ``stats.json`` for a whole recipe that ran in segments.

A recipe with global steps runs as segments (``pipelines.recipe_plan``), each
a stage folder with its own ``stats.json``; the last segment writes the
run's output folder. Afterwards the output's ``.dclm/stats.json`` is
rewritten to cover the recipe: every segment's steps in order, each marked
with its segment, the documents that entered the first segment and left the
last, every failure and every ledger problem. The last segment's own stats
stay beside it as ``segment_stats.json``, so a reader that wants one
segment at a time (the HTML report) still has it. Dropped documents of
every segment are listed under ``dropped_folders``.
"""
from __future__ import annotations

import json

from dclm.io.atomic_files import exists, write_bytes_atomic
from dclm.io.output_layout import dropped_dir, meta_dir, stats_path

SEGMENT_STATS = "segment_stats.json"
# Facts of the last segment that its resume reads back (a dedup's global phase).
CARRIED = ("global", "stage_seconds", "params", "shards_resumed", "shards_retried", "nodes_used",
           "extract_fallbacks")


def segment_stats_path(output_dir: str) -> str:
    return f"{meta_dir(output_dir)}/{SEGMENT_STATS}"


def read_stats(folder: str) -> dict:
    import fsspec

    for path in (segment_stats_path(folder), stats_path(folder)):
        if exists(path):
            with fsspec.open(path, "rb") as fh:
                return json.loads(fh.read())
    return {}


def combine_segments(segments: list[tuple[str, str, dict]]) -> dict:
    """The recipe's stats from ``(label, folder, stats)`` of each segment, in run order."""
    steps, problems, failed, retriable = [], [], {}, []
    for label, _folder, stats in segments:
        for step in stats.get("steps", []):
            steps.append({**step, "segment": label})
        problems += stats.get("invariant_problems", [])
        failed.update({f"{label}/{name}": reason for name, reason in stats.get("shards_failed", {}).items()})
        retriable += [f"{label}/{name}" for name in stats.get("shards_failed_retriable", [])]
    first, last = segments[0][2], segments[-1][2]
    combined = {
        "version": last.get("version", 1),
        "stage": first.get("stage"),
        "recipe_segments": [{"segment": label, "folder": folder, "stage": stats.get("stage"),
                             "documents_in": stats.get("documents_in", 0),
                             "documents_out": stats.get("documents_out", 0),
                             "wall_seconds": stats.get("wall_seconds", 0.0)}
                            for label, folder, stats in segments],
        "shards_done": last.get("shards_done", 0),
        "shards_failed": failed,
        "shards_failed_retriable": retriable,
        "documents_in": first.get("documents_in", 0),
        "documents_out": last.get("documents_out", 0),
        "wall_seconds": round(sum(stats.get("wall_seconds", 0.0) for _, _, stats in segments), 3),
        "shard_seconds": round(sum(stats.get("shard_seconds", 0.0) for _, _, stats in segments), 3),
        "steps": steps,
        "invariant_ok": not problems and all(stats.get("invariant_ok", True) for _, _, stats in segments),
        "invariant_problems": problems,
        "dropped_folders": [dropped_dir(folder) for _, folder, _ in segments],
    }
    combined.update({key: last[key] for key in CARRIED if key in last})
    return combined


def write_recipe_stats(output_dir: str, folders: list[str], labels: list[str]) -> dict:
    """Rewrite ``OUTPUT/.dclm/stats.json`` to cover every segment (the last one's is kept aside)."""
    if len(folders) < 2:
        return {}
    import fsspec

    output_dir = output_dir.rstrip("/")
    with fsspec.open(stats_path(output_dir), "rb") as fh:
        last = json.loads(fh.read())
    if "recipe_segments" in last:       # a rerun that found everything done: already combined
        last = read_stats(output_dir)
    else:
        write_bytes_atomic(segment_stats_path(output_dir), json.dumps(last, indent=2).encode())
    segments = []
    for label, folder in zip(labels, folders, strict=True):
        stats = last if folder == output_dir else read_stats(folder)
        relative = folder[len(output_dir) + 1:] if folder != output_dir else "."
        segments.append((label, relative if relative != "." else ".", stats))
    combined = combine_segments(segments)
    write_bytes_atomic(stats_path(output_dir), json.dumps(combined, indent=2).encode())
    return combined

