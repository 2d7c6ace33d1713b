"""What the report needs from Parquet shards: word and byte counts, languages, scores, dropped samples.

Only the columns a measure needs are read, one file at a time, so a report
over many shards holds per-document numbers (a few bytes each), never texts.

Words are Python's ``str.split()`` words: runs of characters that are not
``str.isspace()``. They stand in for tokens because the stage outputs carry
no token counts and the report runs no tokenizer; the page says so.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dclm.errors import UsageError
from dclm.io.document_writers import JSONL_SUFFIXES

# Every code point Python's str.split() treats as a separator; none lies above
# U+3000. RE2's own \s is ASCII-only, so the class is spelled out.
_SPACES = "".join(f"\\x{{{code:04x}}}" for code in range(0x3001) if chr(code).isspace())
WORD_PATTERN = f"[^{_SPACES}]+"

SAMPLE_TEXT_CHARS = 600
SAMPLE_SIGNAL_CHARS = 400
LANGUAGE_PREFIXES = ("language_id", "language", "lid")


def word_counts(texts: pa.ChunkedArray) -> np.ndarray:
    """Whitespace words per document (0 for a null text)."""
    counts = pc.count_substring_regex(texts, WORD_PATTERN)
    return np.asarray(pc.fill_null(counts, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def byte_counts(texts: pa.ChunkedArray) -> np.ndarray:
    counts = pc.binary_length(pc.cast(texts, pa.large_string()))
    return np.asarray(pc.fill_null(counts, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _read(fs, path: str, columns: list[str]) -> pa.Table:
    if path.endswith(JSONL_SUFFIXES):       # a stage's --output-format JSONL
        from dclm.io.document_files import InputFormatError, read_documents_table

        try:
            table = read_documents_table(fs.unstrip_protocol(path))
        except InputFormatError as exc:
            raise UsageError(str(exc)) from exc
        return table.select([name for name in columns if name in table.column_names])
    try:
        with fs.open(path, "rb") as fh:
            parquet = pq.ParquetFile(fh)
            present = [name for name in columns if name in parquet.schema_arrow.names]
            return parquet.read(columns=present)
    except (OSError, pa.ArrowInvalid) as exc:
        raise UsageError(f"{path}: not a readable Parquet file ({exc})") from exc


def _jsonl_schema(fs, path: str) -> pa.Schema:
    from dclm.io.document_files import read_documents_table

    return read_documents_table(fs.unstrip_protocol(path)).schema


def read_schema(fs, path: str) -> pa.Schema:
    if path.endswith(JSONL_SUFFIXES):
        return _jsonl_schema(fs, path)
    try:
        with fs.open(path, "rb") as fh:
            return pq.ParquetFile(fh).schema_arrow
    except (OSError, pa.ArrowInvalid) as exc:
        raise UsageError(f"{path}: not a readable Parquet file ({exc})") from exc


def top_language(value: Any) -> Optional[str]:
    """The language of one stored value: ``{"en": 0.9}`` (also as its JSON string), ``[("en", 0.9)]``
    (a read map) or ``"en"``."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.startswith("{"):
            return value or None
        try:
            value = json.loads(value)
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        try:
            pairs = [(k, v) for k, v in value]
        except (TypeError, ValueError):
            return None
    pairs = [(str(k), float(v)) for k, v in pairs if v is not None]
    return max(pairs, key=lambda kv: kv[1])[0] if pairs else None


def language_column(names: Iterable[str]) -> Optional[str]:
    """The column holding a language tag, if any (DCLM's ``language_id_whole_page_fasttext`` first)."""
    names = list(names)
    for name in names:
        if name.startswith("language_id"):
            return name
    for name in names:
        if name in ("language", "lid", "lang"):
            return name
    return None


def score_columns(schema: pa.Schema) -> list[str]:
    """Numeric model-score columns such as ``fasttext_hq_prob`` (language probabilities excluded)."""
    return [f.name for f in schema if pa.types.is_floating(f.type) and f.name.endswith("_prob")
            and not f.name.startswith(LANGUAGE_PREFIXES)]


@dataclass
class KeptFacts:
    """Per-document numbers of a directory's kept shards."""

    documents: int = 0
    words: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bytes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    languages: Counter = field(default_factory=Counter)
    scores: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def total_words(self) -> int:
        return int(self.words.sum())

    @property
    def total_bytes(self) -> int:
        return int(self.bytes.sum())


def read_kept(fs, files: list[str]) -> KeptFacts:
    facts = KeptFacts()
    words, sizes, scores = [], [], {}
    for path in files:
        schema = read_schema(fs, path)
        lang = language_column(schema.names)
        wanted = ["text"] + ([lang] if lang else []) + score_columns(schema)
        table = _read(fs, path, wanted)
        if "text" not in table.column_names:
            raise UsageError(f"{path} has no 'text' column (columns: {', '.join(schema.names)})")
        facts.documents += table.num_rows
        words.append(word_counts(table.column("text")))
        sizes.append(byte_counts(table.column("text")))
        if lang:
            facts.languages.update(top_language(v) or "unknown" for v in table.column(lang).to_pylist())
        for name in score_columns(schema):
            values = table.column(name).to_numpy(zero_copy_only=False).astype(float)
            scores.setdefault(name, []).append(values[~np.isnan(values)])
    if words:
        facts.words, facts.bytes = np.concatenate(words), np.concatenate(sizes)
    facts.scores = {name: np.concatenate(parts) for name, parts in scores.items()}
    return facts


@dataclass
class DroppedStep:
    """The dropped rows one step left in ``dropped/``."""

    step: str
    rows: int = 0
    words: int = 0
    bytes: int = 0
    samples: list[dict] = field(default_factory=list)
    lengths: list[np.ndarray] = field(default_factory=list)
    languages: Counter = field(default_factory=Counter)
    duplicate_of: Counter = field(default_factory=Counter)


def _signals(raw: Optional[str]) -> dict:
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _clip(text: Optional[str], limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "…"


def read_dropped(fs, files: list[str], samples_per_step: int) -> dict[str, DroppedStep]:
    """Dropped rows by ``dropped_step``; files without that column (no drops written) add nothing."""
    steps: dict[str, DroppedStep] = {}
    for path in files:
        if "dropped_step" not in read_schema(fs, path).names:
            continue
        table = _read(fs, path, ["url", "text", "dropped_step", "dropped_reason", "dropped_signals"])
        words, sizes = word_counts(table.column("text")), byte_counts(table.column("text"))
        step_names = table.column("dropped_step").to_pylist()
        texts = table.column("text").to_pylist()
        urls = table.column("url").to_pylist() if "url" in table.column_names else [None] * table.num_rows
        reasons = table.column("dropped_reason").to_pylist()
        raw_signals = table.column("dropped_signals").to_pylist()
        for name in sorted(set(step_names), key=step_names.index):
            rows = np.flatnonzero(np.asarray([s == name for s in step_names]))
            entry = steps.setdefault(name, DroppedStep(name))
            entry.rows += len(rows)
            entry.words += int(words[rows].sum())
            entry.bytes += int(sizes[rows].sum())
            entry.lengths.append(words[rows])
            for row in rows.tolist():
                signals = _signals(raw_signals[row])
                lang_key = language_column(signals)
                if lang_key:
                    language = top_language(signals[lang_key])
                    if language:
                        entry.languages[language] += 1
                if signals.get("duplicate_of"):
                    entry.duplicate_of[str(signals["duplicate_of"])] += 1
                if len(entry.samples) < samples_per_step:
                    entry.samples.append({
                        "url": urls[row] or "", "reason": reasons[row] or "",
                        "words": int(words[row]), "text": _clip(texts[row], SAMPLE_TEXT_CHARS),
                        "signals": _clip(raw_signals[row], SAMPLE_SIGNAL_CHARS)})
    return steps
