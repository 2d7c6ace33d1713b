"""`dclm leaderboard rank`: validate every submission in a folder, rank the valid ones, render the boards.

A board holds the submissions of one scale evaluated on one task set (nothing
else is comparable). Order: Core, higher first; ties by held-out bits per
byte, lower first (a submission without it comes after those with it); then
by name, then by file name, so the order is total and reruns agree. The
numbers shown are the ones recomputed by the validator, not the claims.

Outputs (deterministic, no timestamps): leaderboard.json, leaderboard.md and
a static leaderboard.html (inline style, no scripts or external resources,
every submitted string HTML-escaped). Invalid submissions are listed with
every reason found.

Each submission is validated in its own child process with a time and a
memory limit (``isolated``), so one hostile package is listed as invalid with
its reason and the others are still ranked. A submission is the same as an
earlier one when it has the same dataset (data_sha256) and either the same
model weights or the same evaluation results, whatever its name: only the
earliest takes a place, the others are listed as duplicates. Earliest means
received first: the oldest modification time of the file or folder in DIR,
then the file name.
"""
from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path
from typing import Optional

from dclm.errors import UsageError
from dclm.io.atomic_files import write_bytes_atomic
from dclm.submission.isolated import WorkerLimits, validate_isolated
from dclm.submission.safe_archive import Limits, is_archive_name
from dclm.submission.validate import Result

FORMAT = "dclm-leaderboard-v1"
OUTPUTS = ("leaderboard.json", "leaderboard.md", "leaderboard.html")


def discover(directory: "str | os.PathLike") -> list[Path]:
    """Submissions in ``directory``: folders and .tar.gz/.tgz/.tar files (hidden names and links skipped)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a directory of submissions")
    found = [entry for entry in sorted(folder.iterdir(), key=lambda p: p.name)
             if not entry.name.startswith(".") and not entry.is_symlink()
             and (entry.is_dir() or (entry.is_file() and is_archive_name(entry)))]
    if not found:
        raise UsageError(f"{folder}: no submissions (folders or .tar.gz/.tgz/.tar archives)")
    return found


def _order_key(entry: dict) -> tuple:
    bpb = entry["bits_per_byte"]
    return (-entry["Core"], math.inf if bpb is None else bpb, entry["name"] or "", entry["source"])


def _content_keys(result: Result) -> list[tuple]:
    """What makes two submissions the same, whatever their names: one dataset, and one model or one result."""
    doc = result.submission or {}
    data = (doc.get("dataset") or {}).get("data_sha256")
    weights = (doc.get("model") or {}).get("weights_sha256")
    scores = {k: v for k, v in (result.scores or {}).items() if k != "uuid"}
    if not data:
        return []
    return ([("weights", data, weights)] if weights else []) + \
        [("results", data, json.dumps(scores, sort_keys=True))]


def _received(result: Result) -> tuple:
    """When a submission arrived in the leaderboard's folder: its modification time, then its name."""
    try:
        return os.lstat(result.source).st_mtime_ns, os.path.basename(result.source.rstrip("/"))
    except OSError:
        return 0, os.path.basename(result.source.rstrip("/"))


def _mark_duplicates(results: list[Result]) -> None:
    first_of: dict[tuple, str] = {}          # content key -> the file that holds it first
    for result in sorted(results, key=_received):
        source = os.path.basename(result.source.rstrip("/"))
        if result.valid:
            uuid = (result.submission or {}).get("uuid")
            keys = ([("uuid", uuid)] if uuid else []) + _content_keys(result)
            earlier = next((first_of[key] for key in keys if key in first_of), None)
            if earlier is not None:
                # The same package twice (as a folder and an archive, or copied under a new name)
                # must not take two places.
                result.problems.append(f"{source}: the same submission as {earlier} (same dataset, and the same "
                                       "model or evaluation results); only the one received first is ranked")
            else:
                first_of.update({key: source for key in keys})


def build_leaderboard(results: list[Result]) -> dict:
    boards: dict[tuple[str, str], list[dict]] = {}
    invalid = []
    _mark_duplicates(results)
    for result in results:
        source = os.path.basename(result.source.rstrip("/"))
        if result.valid:
            entry = result.summary()
            boards.setdefault((entry["scale"], entry["task_set"]), []).append(entry)
        else:
            name = (result.submission or {}).get("name")
            invalid.append({"source": source, "name": name, "problems": result.problems})
    ranked = []
    for (scale, task_set), entries in sorted(boards.items()):
        entries.sort(key=_order_key)
        ranked.append({"scale": scale, "task_set": task_set,
                       "entries": [{"rank": i, **e} for i, e in enumerate(entries, start=1)]})
    return {"format": FORMAT, "boards": ranked, "invalid": invalid}


def rank_directory(directory: "str | os.PathLike", known_scales: Optional[dict] = None,
                   limits: Limits = Limits(), progress=None, worker: WorkerLimits = WorkerLimits()) -> dict:
    results = []
    for path in discover(directory):
        result = validate_isolated(path, known_scales, limits, worker)
        if progress:
            progress(result)
        results.append(result)
    return build_leaderboard(results)


# ---------------------------------------------------------------- rendering

_COLUMNS = (("rank", "rank"), ("name", "name"), ("Core", "Core"), ("Extended", "Extended"),
            ("bits_per_byte", "bits/byte"), ("num_tokens", "tokens"), ("recipe", "recipe"), ("seed", "seed"),
            ("source", "file"))


def _cell(key: str, value) -> str:
    if value is None:
        return "n/a"
    if key in ("Core", "Extended", "bits_per_byte"):
        return f"{value:.4f}"
    if key == "num_tokens":
        return f"{value:,}"
    return str(value)


def _md(text: str) -> str:
    """Text safe in a Markdown table cell: no HTML, no column breaks, one line."""
    text = html.escape(text, quote=False).replace("|", "\\|")
    return " ".join(text.split())


def render_markdown(board: dict) -> str:
    lines = ["# Leaderboard", ""]
    if not board["boards"]:
        lines += ["No valid submissions.", ""]
    for section in board["boards"]:
        lines += [f"## Scale `{_md(str(section['scale']))}`, task set `{_md(str(section['task_set']))}`", "",
                  "| " + " | ".join(title for _, title in _COLUMNS) + " |",
                  "|" + "|".join("---:" if k in ("rank", "Core", "Extended", "bits_per_byte", "num_tokens", "seed")
                                 else "---" for k, _ in _COLUMNS) + "|"]
        for entry in section["entries"]:
            lines.append("| " + " | ".join(_md(_cell(k, entry[k])) for k, _ in _COLUMNS) + " |")
        lines.append("")
    if board["invalid"]:
        lines += ["## Invalid submissions", ""]
        for item in board["invalid"]:
            lines.append(f"- {_md(item['source'])}" + (f" ({_md(item['name'])})" if item["name"] else ""))
            lines += [f"  - {_md(problem)}" for problem in item["problems"]]
        lines.append("")
    return "\n".join(lines)


_STYLE = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin-bottom:2rem}th,td{border:1px solid #ccc;padding:.3rem .6rem}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
li.problem{font-family:monospace;font-size:.9em}"""


def render_html(board: dict) -> str:
    esc = html.escape
    numeric = {"rank", "Core", "Extended", "bits_per_byte", "num_tokens", "seed"}
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>Leaderboard</title>", f"<style>{_STYLE}</style>", "</head>", "<body>", "<h1>Leaderboard</h1>"]
    if not board["boards"]:
        parts.append("<p>No valid submissions.</p>")
    for section in board["boards"]:
        parts.append(f"<h2>Scale <code>{esc(str(section['scale']))}</code>, task set "
                     f"<code>{esc(str(section['task_set']))}</code></h2>")
        parts.append("<table><thead><tr>" + "".join(f"<th>{esc(t)}</th>" for _, t in _COLUMNS) + "</tr></thead><tbody>")
        for entry in section["entries"]:
            cells = "".join(f'<td class="num">{esc(_cell(k, entry[k]))}</td>' if k in numeric
                            else f"<td>{esc(_cell(k, entry[k]))}</td>" for k, _ in _COLUMNS)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
    if board["invalid"]:
        parts.append("<h2>Invalid submissions</h2><ul>")
        for item in board["invalid"]:
            label = esc(item["source"]) + (f" ({esc(item['name'])})" if item["name"] else "")
            problems = "".join(f'<li class="problem">{esc(p)}</li>' for p in item["problems"])
            parts.append(f"<li>{label}<ul>{problems}</ul></li>")
        parts.append("</ul>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_leaderboard(board: dict, output: "str | os.PathLike") -> list[Path]:
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"leaderboard.json": json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
             "leaderboard.md": render_markdown(board), "leaderboard.html": render_html(board)}
    written = []
    for name in OUTPUTS:
        write_bytes_atomic(str(folder / name), texts[name].encode("utf-8"))
        written.append(folder / name)
    return written
