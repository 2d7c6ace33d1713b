"""Reading WARC/ARC records robustly with warcio.

A crawl archive is large, old and sometimes damaged. The promise here is that
every good record is read, and every bad stretch of bytes is reported with its
byte offset instead of ending the shard:

* a record warcio cannot parse is reported as ``Malformed`` and reading resumes
  at the next gzip member (or the next ``WARC/`` line in a plain file);
* a file gzipped as one stream instead of one member per record (warcio
  refuses those outright) is re-read through a streaming decompressor;
* a file that holds no record at all raises ``ShardError``, so the shard is
  reported as failed by name.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import warnings
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, Optional, Union

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from dclm.errors import ShardError
from dclm.io.remote_files import open_input

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_LINE = b"WARC/1."
# Common Crawl truncates payloads at 1 MiB; anything far beyond that is junk we
# should not hold in memory whole.
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
_RESYNC_WINDOW = 1 << 20


@dataclass
class Record:
    """One parsed archive record: headers plus the (dechunked, decoded) payload."""

    offset: int
    rec_type: str
    headers: list[tuple[str, str]]
    http_status: Optional[int]
    content_type: Optional[str]
    payload: bytes
    truncated: bool = False      # longer than MAX_PAYLOAD_BYTES: the rest was not read
    clipped_bytes: int = 0       # the file ended this many bytes short of Content-Length

    def header(self, name: str) -> Optional[str]:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


@dataclass
class Malformed:
    """A stretch of the file that is not a readable record."""

    offset: int
    reason: str
    warnings: list[str] = field(default_factory=list)


ReadEvent = Union[Record, Malformed]


def undo_transfer_codings(payload: bytes, transfer_encoding: Optional[str]) -> bytes:
    """The body with its ``Transfer-Encoding`` compressions undone (warcio undoes only ``chunked``).

    Output stops past MAX_PAYLOAD_BYTES + 1 bytes, so a small compressed body cannot
    inflate without bound; a stream cut short (a truncated record) gives what it holds.
    Raises ValueError for a coding that is not gzip or deflate, or a corrupt stream.
    """
    codings = [c.strip().lower() for c in (transfer_encoding or "").split(",")]
    for coding in reversed([c for c in codings if c not in ("", "chunked", "identity")]):
        if coding in ("gzip", "x-gzip"):
            windows = (16 + zlib.MAX_WBITS,)
        elif coding == "deflate":
            windows = (zlib.MAX_WBITS, -zlib.MAX_WBITS)    # zlib-wrapped, as specified, or raw, as sent
        else:
            raise ValueError(f"Transfer-Encoding {coding!r} is not supported")
        for index, window in enumerate(windows):
            try:
                payload = zlib.decompressobj(window).decompress(payload, MAX_PAYLOAD_BYTES + 1)
                break
            except zlib.error as exc:
                if index == len(windows) - 1:
                    raise ValueError(f"Transfer-Encoding {coding}: {exc}") from None
    return payload


def _to_record(rec, offset: int) -> Union[Record, Malformed]:
    http_status = None
    content_type = None
    if rec.http_headers is not None:
        try:
            http_status = int(rec.http_headers.get_statuscode() or 0) or None
        except (TypeError, ValueError):
            http_status = None
        content_type = rec.http_headers.get_header("Content-Type")
    try:
        payload = rec.content_stream().read(MAX_PAYLOAD_BYTES + 1)
        if rec.http_headers is not None:
            payload = undo_transfer_codings(payload, rec.http_headers.get_header("Transfer-Encoding"))
    except Exception as exc:  # a broken chunked or gzip transfer encoding
        return Malformed(offset, f"payload unreadable: {type(exc).__name__}: {exc}")
    truncated = len(payload) > MAX_PAYLOAD_BYTES
    clipped = 0 if truncated else int(getattr(rec.raw_stream, "limit", 0) or 0)
    return Record(
        offset=offset,
        rec_type=rec.rec_type or "unknown",
        headers=list(rec.rec_headers.headers),
        http_status=http_status,
        content_type=content_type,
        payload=payload[:MAX_PAYLOAD_BYTES],
        truncated=truncated,
        clipped_bytes=clipped,
    )


@contextlib.contextmanager
def _quiet_warcio():
    """warcio prints its complaints straight to stderr; the ledger counts damage instead."""
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _find_next_start(fh: BinaryIO, start: int, gzipped: bool) -> Optional[int]:
    """Byte position of the next plausible record start at or after ``start``."""
    marker = GZIP_MAGIC if gzipped else WARC_LINE
    pos = start
    fh.seek(pos)
    tail = b""
    while True:
        chunk = fh.read(_RESYNC_WINDOW)
        if not chunk:
            return None
        buf = tail + chunk
        base = pos - len(tail)
        idx = buf.find(marker)
        while idx != -1:
            if gzipped or idx == 0 or buf[idx - 1:idx] == b"\n":
                return base + idx
            idx = buf.find(marker, idx + 1)
        tail = buf[-(len(marker) - 1):]
        pos += len(chunk)


def _sniff_format(fh: BinaryIO, gzipped: bool) -> bytes:
    """The first bytes of the first record, decompressed when gzipped."""
    fh.seek(0)
    head = fh.read(4096)
    fh.seek(0)
    if gzipped:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 64)
        except zlib.error:
            return b""
    return head.lstrip(b"\r\n")[:64]


def looks_like_archive(head: bytes) -> bool:
    """WARC files start with a ``WARC/`` version line, ARC files with ``filedesc://``.

    warcio itself accepts almost any text as an ARC header line, so without this
    check a JSON or HTML file would be read as a stream of junk records.
    """
    return head.startswith(b"WARC/") or head.startswith(b"filedesc://")


def _is_gzipped(fh: BinaryIO) -> bool:
    fh.seek(0)
    head = fh.read(3)
    fh.seek(0)
    return head == GZIP_MAGIC


def _iterate_from(fh: BinaryIO, start: int, gzipped: bool) -> Iterator[ReadEvent]:
    """Records from ``start`` on; yields one Malformed per damaged stretch."""
    position = start
    in_damage = False
    while position is not None:
        fh.seek(position)
        iterator = ArchiveIterator(fh, arc2warc=True)
        yielded_here = False
        try:
            with _quiet_warcio():
                for rec in iterator:
                    # The payload must be read before asking for the offset:
                    # warcio finds the offset by reading to the record's end.
                    event = _to_record(rec, 0)
                    event.offset = position + iterator.get_record_offset()
                    yield event
                    yielded_here = True
                    in_damage = False
            return
        except ArchiveLoadFailed as exc:
            if "non-chunked gzip" in str(exc):
                raise _NonChunkedGzip(position) from exc
            failure = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        except Exception as exc:  # zlib errors, truncated members, bad headers
            failure = f"{type(exc).__name__}: {exc}"
        # warcio's ``offset`` is where the record it failed on began.
        damaged_at = position + iterator.offset if yielded_here else position
        if not in_damage:
            yield Malformed(damaged_at, failure)
            in_damage = True
        position = _find_next_start(fh, max(damaged_at, position) + 1, gzipped)


class _NonChunkedGzip(Exception):
    """Signal that the file is one gzip stream holding many records."""

    def __init__(self, position: int):
        super().__init__(position)
        self.position = position


def _iterate_whole_gzip_stream(fh: BinaryIO, skip: int) -> Iterator[ReadEvent]:
    """Re-read a single-stream gzip file; offsets are then uncompressed offsets."""
    fh.seek(0)
    stream = gzip.GzipFile(fileobj=fh)
    iterator = ArchiveIterator(stream, arc2warc=True)
    seen = 0
    try:
        with _quiet_warcio():
            for rec in iterator:
                seen += 1
                if seen <= skip:
                    continue
                event = _to_record(rec, 0)
                event.offset = iterator.get_record_offset()
                yield event
    except Exception as exc:
        yield Malformed(iterator.get_record_offset() if seen else 0,
                        f"{type(exc).__name__} in single-stream gzip: {exc}")


def _drop_invented_id(record: Record) -> None:
    record.headers = [(key, value) for key, value in record.headers if key.lower() != "warc-record-id"]


def iter_archive(url: str) -> Iterator[ReadEvent]:
    """Every record and every damaged stretch of one WARC/ARC file, in file order.

    Raises ShardError when the file cannot be opened or holds no readable record.
    """
    try:
        fh = open_input(url)          # remote reads resume after a dropped connection
    except (OSError, ValueError) as exc:
        raise ShardError(f"{url}: cannot open: {exc}") from exc
    with fh:
        size = fh.size if hasattr(fh, "size") else None
        gzipped = _is_gzipped(fh)
        if size == 0 or not fh.read(1):
            raise ShardError(f"{url}: empty file")
        head = _sniff_format(fh, gzipped)
        if not looks_like_archive(head):
            raise ShardError(f"{url}: not a WARC/ARC file (it starts with {head[:40]!r})")
        produced = 0
        events: list[Malformed] = []
        # warcio gives each ARC record a fresh random WARC-Record-ID on every
        # read; without it, a document's id is its file and offset, the same each run.
        from_arc = head.startswith(b"filedesc://")
        try:
            for event in _iterate_from(fh, 0, gzipped):
                if isinstance(event, Record):
                    produced += 1
                    if from_arc:
                        _drop_invented_id(event)
                    # Damage before the first good record is only known to be
                    # damage (not a wrong file type) once a record follows it.
                    yield from events
                    events.clear()
                    yield event
                else:
                    events.append(event)
        except _NonChunkedGzip:
            yield from events
            events.clear()
            for event in _iterate_whole_gzip_stream(fh, produced):
                produced += isinstance(event, Record)
                if from_arc and isinstance(event, Record):
                    _drop_invented_id(event)
                yield event
        if produced == 0:
            reason = events[0].reason if events else "no record found"
            raise ShardError(f"{url}: not a readable WARC/ARC file ({reason})")
        yield from events
