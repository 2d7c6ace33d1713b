"""Filling a foreign document's ``id`` and ``url`` from the fields such corpora use, and noting how.

DCLM's pool and DCLM-Baseline keep the WARC headers under ``metadata``
(``metadata["WARC-Record-ID"]``, ``url`` at the top); FineWeb has ``id`` and
``url`` columns; other dumps put the WARC headers at the top level. A
document with none of these gets ``<file>:<line>`` (or row number) as its id,
which is stable for the same file. ``InputNotes`` counts which source each
document's id and url came from, and the lines that could not be read, so
a shard's ledger says how its input was understood.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

# First match wins. A dotted name looks inside ``metadata``.
ID_SOURCES = ("id", "metadata.WARC-Record-ID", "WARC-Record-ID", "warc_record_id", "doc_id", "uuid")
URL_SOURCES = ("url", "metadata.WARC-Target-URI", "WARC-Target-URI", "warc_target_uri", "metadata.url")
LINE_ID = "file:line"
# How many bad lines a ledger lists one by one (all are counted).
LISTED_PROBLEMS = 100


@dataclass
class InputNotes:
    """How one input file was read: its format, what was derived, and the lines skipped."""

    format: str = ""
    lines: int = 0                                  # records seen (non-blank lines, or rows)
    id_from: Counter = field(default_factory=Counter)
    url_from: Counter = field(default_factory=Counter)
    bad_lines: Counter = field(default_factory=Counter)   # reason kind -> count
    listed: list = field(default_factory=list)            # the first LISTED_PROBLEMS: {line, reason}

    def bad_line(self, number: int, reason: str) -> None:
        kind = "missing_text" if reason.startswith("no ") else reason.split(":")[0].split(" (")[0]
        self.bad_lines["jsonl_" + kind.replace(" ", "_")] += 1
        if len(self.listed) < LISTED_PROBLEMS:
            self.listed.append({"line": number, "reason": reason[:300]})

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "records": self.lines,
                "id_from": dict(sorted(self.id_from.items())), "url_from": dict(sorted(self.url_from.items())),
                "skipped": dict(sorted(self.bad_lines.items())), "skipped_lines": self.listed}


def _lookup(record: dict, name: str) -> Any:
    if name.startswith("metadata."):
        metadata = record.get("metadata")
        return metadata.get(name[len("metadata."):]) if isinstance(metadata, dict) else None
    return record.get(name)


def _first(record: dict, names: tuple[str, ...]) -> tuple[Optional[str], Optional[Any]]:
    for name in names:
        value = _lookup(record, name)
        if value not in (None, ""):
            return name, value
    return None, None


def normalize_document(record: dict, source: str, number: int, notes: InputNotes) -> Optional[dict]:
    """``record`` with ``id`` and ``url`` set (every other field kept); None, noted, without a string text."""
    text = record.get("text")
    if not isinstance(text, str):
        what = "no text field" if "text" not in record else f"no string text (a {type(text).__name__})"
        notes.bad_line(number, what)
        return None
    found, value = _first(record, ID_SOURCES)
    if found is None:
        found, value = LINE_ID, f"{source}:{number}"
    notes.id_from[found] += 1
    if found != "id":
        record["id"] = str(value)
    elif not isinstance(value, str):
        record["id"] = str(value)
    found, value = _first(record, URL_SOURCES)
    notes.url_from[found or "none"] += 1
    if found is not None and found != "url":
        record["url"] = str(value)
    return record
