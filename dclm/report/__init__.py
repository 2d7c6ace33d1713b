"""``dclm report``: one static, self-contained HTML page about a stage output, a training run or a comparison.

What a directory holds decides what the page shows; one directory may be
several kinds at once (a comparison directory is also read for the curated
stage directories and runs it names):

* a stage output (``data/`` shards; ``.dclm/`` with ``stats.json``,
  ``ledger/``, ``dropped/`` and ``work/NN_*`` segments for recipes with
  global steps): the funnel of
  documents and words per step, dropped documents per filter with samples,
  languages, quality scores, document lengths, dedup cluster sizes;
* a training run (``config.json`` and ``metrics.jsonl`` from ``dclm train``,
  ``eval_<set>.json`` from ``dclm eval``): the loss curve and eval scores;
* a comparison (``comparison.json`` from ``dclm compare``): each recipe's
  metrics with 95% intervals, paired differences, and each recipe's curated
  data and runs where they are found.

The page loads nothing from anywhere and runs no script.
"""
from __future__ import annotations

from typing import Optional

from fsspec.core import url_to_fs

from dclm.errors import UsageError
from dclm.io.atomic_files import write_bytes_atomic
from dclm.io.output_layout import meta_dir

REPORT_NAME = "report.html"


def _subtitle(path: str, kinds: list[str], stage=None) -> list[str]:
    from dclm.report.html_page import plural

    lines = [f"{path} · {', '.join(kinds)}"]
    if stage is not None:
        first = stage.segments[0].stats.get("params") or {}
        last = stage.segments[-1].stats
        if first.get("recipe"):
            lines.append(f"recipe {first['recipe']} (sha256 {str(first.get('recipe_sha256', '?'))[:12]}…), "
                         f"stage {stage.segments[0].stats.get('stage', '?')}")
        lines.append(f"{plural(last.get('shards_done', 0), 'shard')}; {plural(len(stage.segments), 'segment')}")
    return lines


def render_report(path: str) -> str:
    """The HTML page for ``path``; UsageError when it is none of the known kinds of directory."""
    from dclm.report.collect import collect_stage, is_stage_dir
    from dclm.report.comparison import collect_comparison
    from dclm.report.html_page import page
    from dclm.report.html_runs import comparison_sections, run_sections
    from dclm.report.html_stage import stage_sections
    from dclm.report.run_facts import collect_run, is_run_dir

    fs, real = url_to_fs(path)
    if not fs.isdir(real):
        raise UsageError(f"{path}: no such directory")
    sections, kinds, stage = [], [], None
    comparison = collect_comparison(path)
    if comparison is not None:
        kinds.append("comparison")
        sections += comparison_sections(comparison)
    if is_stage_dir(path):
        kinds.append("stage output")
        stage = collect_stage(path)
        sections += stage_sections(stage)
    if is_run_dir(path):
        kinds.append("training run")
        sections += run_sections(collect_run(path))
    if not kinds:
        raise UsageError(f"{path}: not a stage output (no .dclm/stats.json), a training run (no config.json and "
                         f"metrics.jsonl) or a comparison (no comparison.json)")
    name = path.rstrip("/").rpartition("/")[2] or path
    return page(f"DCLM report: {name}", _subtitle(path, kinds, stage), sections)


def write_report(path: str, output: Optional[str] = None) -> str:
    """Render ``path`` and write the page; returns where it went.

    The default is ``path/report.html``, or ``path/.dclm/report.html`` for a
    stage output, whose top folder holds only its documents.
    """
    from dclm.report.collect import is_stage_dir

    folder = meta_dir(path) if is_stage_dir(path) else path.rstrip("/")
    target = output or f"{folder}/{REPORT_NAME}"
    write_bytes_atomic(target, render_report(path).encode("utf-8"))
    return target
