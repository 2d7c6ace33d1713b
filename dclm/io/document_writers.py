"""Writing curated documents as Parquet (the default) or as DCLM-style JSONL (``.jsonl.zst``, ``.jsonl.gz``).

The format follows the output path's suffix (``dclm.io.output_layout``), so a
stage picks it once when it plans its jobs. JSONL is DCLM's layout: one
object per line with ``text``, ``url``, ``metadata`` (a JSON object) and the
other columns at the top level, which DCLM's tokenize-shuffle and open_lm
read as they are. Like Parquet shards, a JSONL file is built in a spool file
and appears whole; the compressors are set so that the same rows give the
same bytes (gzip without a time stamp or file name).
"""
from __future__ import annotations

import gzip
import json
from typing import Any, Optional

import pyarrow as pa

from dclm.io.parquet_schema import json_columns
from dclm.io.parquet_shards import ShardWriter, write_table
from dclm.io.remote_files import discard_spool, publish, spool_path

JSONL_SUFFIXES = (".jsonl.zst", ".jsonl.gz")
ZSTD_LEVEL = 3
LINES_PER_WRITE = 512


def is_jsonl_path(path: str) -> bool:
    return path.endswith(JSONL_SUFFIXES)


def _default(value: Any) -> Any:
    # Arrow hands dates and decimals from foreign Parquet; JSON has strings for them.
    return str(value)


def jsonl_line(row: dict[str, Any]) -> bytes:
    return (json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=_default) + "\n").encode("utf-8")


class JsonlShardWriter:
    """Streams rows into one compressed JSONL file that appears whole at ``path`` on a clean exit.

    The same interface as ``ShardWriter`` (``write``, ``rows_accepted``,
    ``rows_written``, ``rewrites``, ``empty_schema``), so a stage writes either.
    """

    def __init__(self, path: str, **_parquet_only: Any):
        self.path = path
        self.rows_written = 0
        self.rewrites = 0
        self.empty_schema: Optional[pa.Schema] = None
        self._pending: list[bytes] = []
        self._spool = spool_path(path)
        raw = open(self._spool, "wb")
        if path.endswith(".zst"):
            import zstandard

            self._stream = zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(raw, closefd=True)
        else:
            self._stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
            self._raw = raw
        self._closed = False

    @property
    def rows_accepted(self) -> int:
        return self.rows_written + len(self._pending)

    def __enter__(self) -> "JsonlShardWriter":
        return self

    def write(self, row: dict[str, Any]) -> None:
        self._pending.append(jsonl_line(row))
        if len(self._pending) >= LINES_PER_WRITE:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._stream.write(b"".join(self._pending))
            self.rows_written += len(self._pending)
            self._pending = []

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stream.close()
        if hasattr(self, "_raw"):
            self._raw.close()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._close()
            discard_spool(self._spool)
            return
        try:
            self._flush()
            self._close()
            publish(self._spool, self.path)
        except BaseException:
            discard_spool(self._spool)
            raise


def open_document_writer(path: str, **parquet_options: Any):
    """A ``ShardWriter`` for ``.parquet`` paths, a ``JsonlShardWriter`` for JSONL ones."""
    if is_jsonl_path(path):
        return JsonlShardWriter(path)
    return ShardWriter(path, **parquet_options)


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of a table as documents: JSON-string columns become objects again."""
    encoded = json_columns(table.schema)
    rows = table.to_pylist()
    for row in rows:
        for name in encoded & row.keys():
            if isinstance(row[name], str):
                row[name] = json.loads(row[name])
    return rows


def write_documents_table(path: str, table: pa.Table) -> int:
    """Write a whole table of documents in the format ``path`` names."""
    if not is_jsonl_path(path):
        return write_table(path, table)
    with JsonlShardWriter(path) as writer:
        for start in range(0, table.num_rows, LINES_PER_WRITE):
            for row in table_rows(table.slice(start, LINES_PER_WRITE)):
                writer.write(row)
    return table.num_rows
