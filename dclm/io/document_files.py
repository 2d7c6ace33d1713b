"""Reading documents from whatever a user has: WARC, Parquet, or JSONL (plain, gzip or zstd).

The format is told by a file's first bytes, never its name: a DCLM-pool
shard renamed ``.json`` or a Parquet file without a suffix still reads.
Documents come out as dicts with every field of the input kept. ``id`` and
``url`` are filled from the usual places when the input has none
(``dclm.io.document_fields``), and ``notes`` records how, for the ledger.
``iter_records``, which ``iter_documents`` is built on, gives the records as
the file has them (nothing filled in, no ``text`` required), for a reader
that builds its documents from other fields (an instruction and its answer).

JSONL lines that are not JSON objects, or that have no string ``text``, are
counted with their line numbers in ``notes`` and skipped; the shard goes on.
A file in no format we read, or a compressed stream that ends early, raises
``InputFormatError`` with one line naming the file: a rerun cannot fix it.
"""
from __future__ import annotations

import gzip
import io
import json
import posixpath
import zlib
from typing import Any, BinaryIO, Iterator, Optional

import pyarrow as pa

from dclm.errors import ShardError
from dclm.io import shard_progress
from dclm.io.document_fields import InputNotes, normalize_document
from dclm.io.parquet_schema import rows_to_table, schema_for
from dclm.io.remote_files import open_input

PARQUET, JSONL, JSONL_GZ, JSONL_ZST, WARC = "parquet", "jsonl", "jsonl.gz", "jsonl.zst", "warc"
DOCUMENT_FORMATS = (PARQUET, JSONL, JSONL_GZ, JSONL_ZST)
ACCEPTED = ("WARC/ARC/WET (plain or gzip), Parquet with a text column, "
            "JSONL with a text field (plain, .gz or .zst)")
_GZIP, _ZSTD, _PARQUET = b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"PAR1"
# Lines longer than this are not documents we can hold (a 64 MiB page).
MAX_LINE_BYTES = 64 * 2**20


class InputFormatError(ShardError):
    """The file is in no format we read, or damaged beyond a record: rerunning cannot help."""

    retriable = False


def _kind_of_text(head: bytes) -> Optional[str]:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return JSONL
    if text.startswith(b"WARC/") or text.startswith(b"filedesc:"):
        return WARC
    return None


def _decompressed_head(raw: BinaryIO, kind: bytes, size: int = 4096) -> bytes:
    """The first bytes inside a gzip or zstd stream; empty when they cannot be read (then no format matches)."""
    try:
        if kind == _GZIP:
            return gzip.GzipFile(fileobj=raw).read(size)
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True).read(size)
    except (OSError, EOFError, zlib.error, ValueError):
        return b""
    except Exception:   # zstandard.ZstdError: magic bytes, but not a zstd stream after all
        return b""


def sniff_format(url: str) -> str:
    """One of ``parquet``, ``jsonl``, ``jsonl.gz``, ``jsonl.zst`` or ``warc``; InputFormatError otherwise."""
    with open_input(url) as fh:
        magic = fh.read(4)
        if magic == _PARQUET:
            return PARQUET
        if magic[:2] == _GZIP or magic == _ZSTD:
            fh.seek(0)
            inner = _kind_of_text(_decompressed_head(fh, magic[:2] if magic[:2] == _GZIP else magic))
            if inner == WARC:
                return WARC
            if inner == JSONL:
                return JSONL_GZ if magic[:2] == _GZIP else JSONL_ZST
        else:
            fh.seek(0)
            kind = _kind_of_text(fh.read(4096))
            if kind:
                return kind
    raise InputFormatError(f"{url}: not a format dclm reads (first bytes {magic!r}); it reads {ACCEPTED}")


def _open_text_stream(raw: BinaryIO, fmt: str) -> BinaryIO:
    if fmt == JSONL_GZ:
        return gzip.GzipFile(fileobj=raw)
    if fmt == JSONL_ZST:
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
    return raw


def _lines(url: str, fmt: str) -> Iterator[tuple[int, bytes]]:
    raw = open_input(url)
    stream = _open_text_stream(raw, fmt)
    number = 0
    try:
        buffered = io.BufferedReader(stream, buffer_size=1 << 20) if fmt == JSONL_ZST else stream
        while True:
            try:
                line = buffered.readline(MAX_LINE_BYTES + 1)
            except (EOFError, OSError, zlib.error) as exc:
                raise InputFormatError(f"{url}: the compressed stream breaks off after line {number} "
                                       f"(truncated or damaged file: {exc})") from None
            except Exception as exc:   # zstandard.ZstdError
                raise InputFormatError(f"{url}: the zstd stream breaks off after line {number} "
                                       f"(truncated or damaged file: {exc})") from None
            if not line:
                return
            number += 1
            yield number, line
    finally:
        stream.close()
        raw.close()          # a GzipFile given a file object leaves it open


def _iter_json_objects(url: str, fmt: str, notes: InputNotes) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each JSON-object line of a JSONL file; other lines are noted and skipped."""
    for number, line in _lines(url, fmt):
        if not line.strip():
            continue
        notes.lines += 1
        if len(line) > MAX_LINE_BYTES:
            notes.bad_line(number, f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            notes.bad_line(number, f"not JSON: {exc}")
            continue
        if not isinstance(record, dict):
            notes.bad_line(number, f"a JSON {type(record).__name__}, not an object")
            continue
        yield number, record


def _refuse_warc(url: str, fmt: str) -> None:
    if fmt == WARC:
        raise InputFormatError(f"{url}: a WARC archive, where documents (Parquet or JSONL) are expected; "
                               "extract it first (`dclm extract` or `dclm run`)")


def iter_records(url: str, notes: Optional[InputNotes] = None, fmt: Optional[str] = None,
                 columns: Optional[list[str]] = None, batch_size: Optional[int] = None
                 ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line or row number, record) of a Parquet or JSONL file, each record as the file has it.

    Unlike ``iter_documents``, nothing is filled in and no ``text`` is
    required: for readers that make a document from other fields (an
    instruction and its answer). Bad JSONL lines are noted and skipped as
    there; ``columns`` and ``batch_size`` apply to Parquet only.
    """
    from dclm.io.parquet_shards import iter_rows

    notes = notes if notes is not None else InputNotes()
    fmt = fmt or sniff_format(url)
    notes.format = fmt
    _refuse_warc(url, fmt)
    if fmt != PARQUET:
        yield from _iter_json_objects(url, fmt, notes)
        return
    rows = iter_rows(url, columns=columns) if batch_size is None else \
        iter_rows(url, columns=columns, batch_size=batch_size)
    for number, row in enumerate(rows, start=1):
        notes.lines += 1
        yield number, row


def iter_documents(url: str, notes: Optional[InputNotes] = None, fmt: Optional[str] = None,
                   columns: Optional[list[str]] = None, batch_size: Optional[int] = None
                   ) -> Iterator[dict[str, Any]]:
    """The documents of a Parquet or JSONL shard, streamed, with ``id`` and ``url`` filled in.

    ``batch_size``: Parquet rows decoded at a time (default ``parquet_shards.ROWS_PER_BATCH``); fewer
    bound the memory of a shard whose rows may be of any length.
    """
    notes = notes if notes is not None else InputNotes()
    source = posixpath.basename(url)
    fmt = fmt or sniff_format(url)
    for number, record in iter_records(url, notes, fmt, columns, batch_size):
        document = normalize_document(record, source, number, notes)
        if document is None:
            continue
        if fmt != PARQUET:
            shard_progress.advance(1)      # live progress (Parquet rows count in iter_rows)
        yield document


def read_documents_table(url: str, columns: Optional[list[str]] = None,
                         notes: Optional[InputNotes] = None) -> pa.Table:
    """A whole shard as an Arrow table (Parquet read as is; JSONL and id-less Parquet through rows)."""
    from dclm.io.parquet_shards import read_table

    fmt = sniff_format(url)
    if fmt == PARQUET:
        schema = read_parquet_schema(url)
        if "id" in schema.names and "text" in schema.names \
                and not any(pa.types.is_map(f.type) or pa.types.is_struct(f.type) for f in schema):
            wanted = None if columns is None else [c for c in columns if c in schema.names]
            return read_table(url, columns=wanted)
    rows = list(iter_documents(url, notes, fmt=fmt))
    if not rows:
        return pa.table({c: pa.array([], pa.string()) for c in (columns or ["id", "text"])})
    if columns is None:
        return rows_to_table(rows, schema_for(rows))
    # In the order asked for, as Parquet's read gives them (the core columns would otherwise come first).
    return _columns_table(rows, list(dict.fromkeys(columns)), as_table=True)


def read_parquet_schema(url: str) -> pa.Schema:
    import pyarrow.parquet as pq

    with open_input(url) as fh:
        return pq.ParquetFile(fh).schema_arrow


def read_documents_schema(url: str) -> Optional[pa.Schema]:
    """The columns a Parquet shard brings (as our writers store them); None for JSONL (told by its rows)."""
    from dclm.io.parquet_shards import read_schema

    return read_schema(url) if sniff_format(url) == PARQUET else None


def iter_document_batches(url: str, columns: list[str], batch_size: int = 2048,
                          notes: Optional[InputNotes] = None) -> Iterator[pa.RecordBatch]:
    """``columns`` of a shard, batch by batch: Parquet's row groups as they are, JSONL through rows."""
    import pyarrow.parquet as pq

    fmt = sniff_format(url)
    if fmt == PARQUET:
        names = read_parquet_schema(url).names
        if all(name in names for name in columns):
            with open_input(url) as fh:
                for batch in pq.ParquetFile(fh, pre_buffer=False).iter_batches(batch_size=batch_size,
                                                                                columns=columns):
                    yield batch
            return
    chunk: list[dict] = []
    for document in iter_documents(url, notes, fmt=fmt):
        chunk.append({name: document.get(name) for name in columns})
        if len(chunk) >= batch_size:
            yield _columns_table(chunk, columns)
            chunk = []
    if chunk:
        yield _columns_table(chunk, columns)


def _columns_table(rows: list[dict], columns: list[str], as_table: bool = False):
    """``columns`` of ``rows``, in that order: a record batch (or a table)."""
    rows = [{name: row.get(name) for name in columns} for row in rows]
    schema = schema_for(rows)
    table = rows_to_table(rows, pa.schema([schema.field(name) for name in columns], metadata=schema.metadata))
    return table if as_table else table.combine_chunks().to_batches()[0]


def document_columns(url: str) -> Optional[list[str]]:
    """A Parquet shard's column names (id and url always count: readers derive them); None for JSONL."""
    schema = read_documents_schema(url)
    return None if schema is None else list(dict.fromkeys(list(schema.names) + ["id", "url"]))
