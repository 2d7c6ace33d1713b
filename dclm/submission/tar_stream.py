"""A bounded first pass over an untrusted tar stream, before Python's ``tarfile`` parses any of it.

``tarfile`` trusts the sizes in metadata headers: a GNU long-name header that
claims 256 MiB is read into memory whole, a pax header of 200,000 digits costs
quadratic time in its regular expressions (CVE-2024-6232 on Python < 3.11.10),
and a chain of metadata headers recurses once per header. This pass reads the
same stream block by block, with its own parser and fixed limits:

* the decompressed stream is bounded: declared member data counts against the
  archive's size limit as each header is read, and past a floor the
  decompressed bytes may be at most ``max_ratio`` times the compressed bytes
  read (a zero-filled file compresses about 1000:1; real packages are Parquet
  shards, which do not compress further, and JSON of 5-20:1);
* metadata headers (pax ``x``/``g``/``X``, GNU ``L``/``K``) hold at most
  ``max_header_bytes``, no more than a few follow each other, and a pax header
  must be well-formed records ("LEN key=value\\n", lengths exact, padding NUL)
  with no run of digits longer than a number needs;
* every header's checksum is valid; GNU sparse members, and pax keys that would
  move member boundaries out of this pass's sight, are refused.

Boundaries follow ``tarfile``'s rules exactly (which types carry data, the
pax ``size`` override, a V7 directory written as a regular file with a
trailing slash), so ``tarfile`` then reads only headers this pass has vetted.
"""
from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Optional

BLOCK = 512
_CHUNK = 1 << 20
_DATA_TYPES = (b"0", b"\0", b"7")                    # regular: their data follows the header
_NO_DATA_TYPES = (b"1", b"2", b"3", b"4", b"5", b"6")  # links, devices, folders, FIFOs: tarfile skips nothing
_PAX_TYPES = (b"x", b"g", b"X")
_GNU_NAME_TYPES = (b"L", b"K")
_MAX_CHAINED_METADATA = 4                            # pax + long name + long link is the most real tools write
_LONG_DIGITS = re.compile(rb"[0-9]{33,}")            # no number in a header needs 33 digits
_PAX_GLOBAL_REFUSED = ("path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime")


class StreamError(Exception):
    """The stream breaks a limit or is not a tar stream this pass can vouch for."""


@dataclass(frozen=True)
class StreamLimits:
    max_bytes: int                 # declared member data in all
    max_files: int                 # members (metadata headers not counted)
    max_header_bytes: int          # one pax or GNU long-name header's data
    max_ratio: int                 # decompressed / compressed bytes, past ratio_floor
    ratio_floor: int               # decompressed bytes always allowed, whatever the ratio


def shown(name: str, limit: int = 120) -> str:
    """A member name fit for a one-line message: its repr, cut to ``limit`` characters with the full length."""
    text = repr(name)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(name):,} characters)"


class _CountingFile:
    """The raw file, counting the compressed bytes handed to the decompressor."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.consumed = raw, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data


class _BoundedStream:
    """The decompressed tar stream, refusing to inflate past the ratio bound."""

    def __init__(self, path: Path, limits: StreamLimits):
        self.raw = open(path, "rb")
        self.counter = _CountingFile(self.raw)
        compressed = self.raw.read(2) == b"\x1f\x8b"
        self.raw.seek(0)
        self.stream = gzip.GzipFile(fileobj=self.counter, mode="rb") if compressed else self.counter
        self.compressed = compressed
        self.limits, self.position = limits, 0

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)
        self.position += len(data)
        if self.compressed and self.position > self.limits.ratio_floor \
                and self.position > self.limits.max_ratio * max(self.counter.consumed, 1):
            raise StreamError(f"decompresses to over {self.limits.max_ratio}:1 ({self.position:,} bytes from "
                              f"{self.counter.consumed:,}); refused as a decompression bomb")
        return data

    def exact(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise StreamError(f"the archive ends inside {what}")
        return data

    def skip(self, size: int, what: str) -> None:
        while size:
            got = len(self.read(min(size, _CHUNK)))
            if not got:
                raise StreamError(f"the archive ends inside {what}")
            size -= got

    def close(self) -> None:
        self.raw.close()


def _blocks(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _number(field: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 (first byte 0x80 or 0xff)."""
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return value - 256 ** (len(field) - 1) if field[:1] == b"\xff" else value
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    if not re.fullmatch(rb"[0-7]+", text):
        raise StreamError(f"header field {text[:40]!r} is not an octal number")
    return int(text, 8)


def _checksum_ok(header: bytes) -> bool:
    try:
        stored = _number(header[148:156])
    except StreamError:
        return False
    body = header[:148] + b"        " + header[156:]
    unsigned = sum(body)
    signed = sum(b - 256 if b > 127 else b for b in body)
    return stored in (unsigned, signed)


def _ustar_name(header: bytes) -> str:
    name = header[:100].split(b"\0", 1)[0]
    prefix = header[345:500].split(b"\0", 1)[0] if header[257:262] == b"ustar" else b""
    full = (prefix + b"/" + name if prefix else name).decode("utf-8", "replace")
    return full[2:] if full.startswith("./") else full


def _pax_records(data: bytes, where: str) -> dict[str, bytes]:
    """The records of a pax header, parsed strictly; anything else is refused."""
    if _LONG_DIGITS.search(data):
        raise StreamError(f"{where}: pax header holds a run of over 32 digits")
    records: dict[str, bytes] = {}
    position = 0
    while position < len(data):
        space = data.find(b" ", position, position + 21)
        if space <= position or not data[position:space].isdigit():
            raise StreamError(f"{where}: malformed pax record at byte {position}")
        length = int(data[position:space])
        record = data[position: position + length]
        if length <= space - position + 1 or len(record) != length or not record.endswith(b"\n"):
            raise StreamError(f"{where}: pax record at byte {position} has a wrong length")
        key, equals, value = record[space - position + 1: -1].partition(b"=")
        if not equals or not key:
            raise StreamError(f"{where}: pax record at byte {position} is not key=value")
        records[key.decode("utf-8", "replace")] = value
        position += length
    return records


def _check_pax(kind: bytes, records: dict[str, bytes], where: str) -> Optional[int]:
    """The size a pax header sets for the next member, if any; refuses keys that hide boundaries."""
    for key in records:
        if key.startswith("GNU.sparse") or key == "hdrcharset":
            raise StreamError(f"{where}: pax key {key!r} is not accepted (sparse files and raw-byte "
                              "names are not allowed in a submission)")
        if kind == b"g" and key in _PAX_GLOBAL_REFUSED:
            raise StreamError(f"{where}: a global pax header may not set {key!r} for every member")
    if "size" not in records:
        return None
    size = records["size"]
    if not size.isdigit():
        raise StreamError(f"{where}: pax size {size[:40]!r} is not a number")
    return int(size)


def check_stream(path: "str | Path", limits: StreamLimits,
                 size_rule: Optional[Callable[[str, int], Optional[str]]] = None) -> None:
    """Walk every header of the archive at ``path`` within ``limits``; raises StreamError naming the problem.

    ``size_rule(name, size)``: why a regular member of that name may not be that large, or None.
    """
    stream = _BoundedStream(Path(path), limits)
    members = total = chained = 0
    next_size: Optional[int] = None
    long_name: Optional[str] = None
    try:
        while True:
            offset = stream.position
            header = stream.read(BLOCK)
            if not header or header == bytes(BLOCK):
                if offset == 0:
                    raise StreamError("not a readable tar archive (empty)")
                return                                  # end of archive, as tarfile stops
            if len(header) != BLOCK:
                raise StreamError(f"not a readable tar archive (truncated header at byte {offset:,})")
            where = f"header at byte {offset:,}"
            if not _checksum_ok(header):
                raise StreamError(f"not a readable tar archive (bad checksum in the {where})")
            kind, size = header[156:157], _number(header[124:136])
            if size < 0:
                raise StreamError(f"{where}: negative size")
            if kind in _PAX_TYPES or kind in _GNU_NAME_TYPES:
                chained += 1
                if chained > _MAX_CHAINED_METADATA:
                    raise StreamError(f"{where}: more than {_MAX_CHAINED_METADATA} metadata headers in a row")
                if size > limits.max_header_bytes:
                    raise StreamError(f"{where}: a {kind.decode()!r} metadata header of {size:,} bytes, over the "
                                      f"{limits.max_header_bytes:,}-byte limit for one header")
                data = stream.exact(_blocks(size), f"the {kind.decode()!r} header at byte {offset:,}")
                if any(data[size:]):
                    raise StreamError(f"{where}: the padding after a metadata header is not zero")
                if kind in _PAX_TYPES:
                    records = _pax_records(data[:size], where)
                    pax_size = _check_pax(kind, records, where)
                    next_size = pax_size if pax_size is not None else next_size
                    if "path" in records:
                        long_name = records["path"].decode("utf-8", "replace")
                elif kind == b"L":
                    long_name = data[:size].split(b"\0", 1)[0].decode("utf-8", "replace")
                continue
            chained = 0
            if kind == b"S":
                raise StreamError(f"{where}: sparse file; only regular files and folders are allowed")
            members += 1
            if members > limits.max_files:
                raise StreamError(f"more than {limits.max_files} members (file-count limit); refused before "
                                  "extracting")
            name = long_name or _ustar_name(header)
            size = next_size if next_size is not None else size
            next_size = long_name = None
            old_style_folder = kind == b"\0" and header[:100].split(b"\0", 1)[0].endswith(b"/")
            if kind in _NO_DATA_TYPES or old_style_folder:
                continue
            # Regular files, and types tarfile does not know (it skips their data as a file's).
            refusal = size_rule(name, size) if size_rule else None
            if refusal:
                raise StreamError(f"member {shown(name)}: {refusal}; refused before extracting")
            total += size
            if total > limits.max_bytes:
                raise StreamError(f"member {shown(name)}: declares {size:,} bytes, bringing the archive to "
                                  f"{total:,}, over the {limits.max_bytes:,}-byte size limit; refused before "
                                  "extracting")
            stream.skip(_blocks(size), f"member {shown(name)}'s {size:,} declared bytes")
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise StreamError(f"not a readable tar archive (cannot be decompressed: {exc})") from exc
    finally:
        stream.close()
