"""Parquet shards: the fixed document schema, streaming atomic writes, reads.

The core columns follow DESIGN §4 (and DCLM's released data, so its tools read
ours). Signal columns added by recipe steps are typed from the first batch of
rows; a dict-valued signal (such as DCLM's ``{"en": 0.93}`` language score)
becomes a ``map<string, …>`` so that rows with different keys share one type.
Files are zstd-compressed and carry no timestamps, so the same rows always give
the same bytes.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from dclm.atomic_files import open_atomic

CORE_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("url", pa.string()),
    ("text", pa.string()),
    ("source", pa.string()),
    ("date", pa.string()),
    ("metadata", pa.map_(pa.string(), pa.string())),
])
CORE_COLUMNS = tuple(CORE_SCHEMA.names)
ROWS_PER_BATCH = 2048
COMPRESSION = "zstd"


def _infer_type(values: list[Any]) -> pa.DataType:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, dict):
        inner = [x for v in values if isinstance(v, dict) for x in v.values()]
        return pa.map_(pa.string(), _infer_type(inner) if inner else pa.string())
    if isinstance(sample, bool):
        return pa.bool_()
    if isinstance(sample, int):
        # A column that mixes ints and floats is a float column.
        return pa.float64() if any(isinstance(v, float) for v in values) else pa.int64()
    if isinstance(sample, float):
        return pa.float64()
    if sample is None:
        return pa.string()
    return pa.array(values).type


def schema_for(rows: list[dict[str, Any]]) -> pa.Schema:
    """Core columns first, then every other key in first-seen order."""
    extra: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in CORE_SCHEMA.names:
                extra.setdefault(key)
    fields = list(CORE_SCHEMA)
    for key in extra:
        fields.append(pa.field(key, _infer_type([row.get(key) for row in rows])))
    return pa.schema(fields)


def _to_arrow_value(value: Any, dtype: pa.DataType) -> Any:
    if isinstance(value, dict) and pa.types.is_map(dtype):
        return list(value.items())
    return value


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    unknown = {key for row in rows for key in row} - set(schema.names)
    if unknown:
        raise ValueError(f"rows carry columns the shard's schema lacks: {sorted(unknown)}")
    columns = []
    for fld in schema:
        values = [_to_arrow_value(row.get(fld.name), fld.type) for row in rows]
        try:
            columns.append(pa.array(values, type=fld.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(f"column {fld.name!r}: values do not fit {fld.type}: {exc}") from exc
    return pa.Table.from_arrays(columns, schema=schema)


class ShardWriter:
    """Streams rows into one Parquet file that appears atomically on ``close()``."""

    def __init__(self, path: str, schema: Optional[pa.Schema] = None, rows_per_batch: int = ROWS_PER_BATCH):
        self.path = path
        self.schema = schema
        self.rows_per_batch = rows_per_batch
        self.rows_written = 0
        self._pending: list[dict[str, Any]] = []
        self._atomic = open_atomic(path)
        self._fh = None
        self._writer: Optional[pq.ParquetWriter] = None

    def __enter__(self) -> "ShardWriter":
        self._fh = self._atomic.__enter__()
        return self

    def write(self, row: dict[str, Any]) -> None:
        self._pending.append(row)
        if len(self._pending) >= self.rows_per_batch:
            self._flush()

    def _flush(self) -> None:
        if self.schema is None:
            self.schema = schema_for(self._pending)
        table = rows_to_table(self._pending, self.schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._fh, self.schema, compression=COMPRESSION)
        self._writer.write_table(table, row_group_size=self.rows_per_batch)
        self.rows_written += len(self._pending)
        self._pending = []

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            if self._pending or self._writer is None:
                if self.schema is None and not self._pending:
                    self.schema = CORE_SCHEMA
                self._flush()
            self._writer.close()
        elif self._writer is not None:
            self._writer.close()
        self._atomic.__exit__(exc_type, exc, tb)


def write_rows(path: str, rows: Iterable[dict[str, Any]], schema: Optional[pa.Schema] = None) -> int:
    with ShardWriter(path, schema) as writer:
        for row in rows:
            writer.write(row)
    return writer.rows_written


def iter_rows(path: str, columns: Optional[list[str]] = None, batch_size: int = ROWS_PER_BATCH) -> Iterator[dict]:
    """Rows of a Parquet shard as page dicts, streamed batch by batch."""
    with fsspec.open(path, "rb") as fh:
        parquet = pq.ParquetFile(fh)
        map_columns = {f.name for f in parquet.schema_arrow if pa.types.is_map(f.type)}
        for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
            for row in batch.to_pylist():
                for name in map_columns & row.keys():
                    if row[name] is not None:
                        row[name] = dict(row[name])
                yield row


def read_table(path: str, columns: Optional[list[str]] = None) -> pa.Table:
    with fsspec.open(path, "rb") as fh:
        return pq.read_table(fh, columns=columns)


def write_table(path: str, table: pa.Table) -> int:
    """Write a whole Arrow table as one shard, atomically."""
    with open_atomic(path) as fh:
        pq.write_table(table, fh, compression=COMPRESSION, row_group_size=ROWS_PER_BATCH)
    return table.num_rows
