"""Hostile tar archives, written block by block the way an attacker would, for the tests and the benchmark.

Python's ``tarfile`` writer refuses to make most of these (or makes them
valid), so headers are built here from their fields: name, size, type,
checksum, as POSIX defines a 512-byte tar header.
"""
from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

BLOCK = 512


def header(name: str, size: int, kind: bytes = b"0") -> bytes:
    """One ustar header block with a valid checksum."""
    block = bytearray(BLOCK)
    block[0:100] = name.encode()[:100].ljust(100, b"\0")
    block[100:108] = b"0000644\0"
    block[108:116] = block[116:124] = b"0000000\0"
    block[124:136] = f"{size:011o}\0".encode()
    block[136:148] = b"00000000000\0"
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def member(name: str, data: bytes, kind: bytes = b"0") -> bytes:
    return header(name, len(data), kind) + padded(data)


END = bytes(2 * BLOCK)


def write(path: Path, raw: "bytes | list[bytes]", compress: bool = True) -> Path:
    """Write an archive from raw blocks (gzip-compressed when ``compress``)."""
    parts = raw if isinstance(raw, list) else [raw]
    with open(path, "wb") as fh:
        stream = gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=6) if compress else fh
        for part in parts:
            stream.write(part)
        if compress:
            stream.close()
    return path


def pax_digits(path: Path, digits: int) -> Path:
    """Case 1: a pax header whose one record holds ``digits`` digits (CVE-2024-6232's quadratic parse)."""
    body = b"9" * digits
    return write(path, member("././@PaxHeader", body, b"x") + member("submission.json", b"{}") + END)


def long_name_claim(path: Path, claimed: int = 256 << 20) -> Path:
    """Case 2: a GNU long-name header claiming ``claimed`` bytes, and all of them: 256 MiB gzip to ~255 KB."""
    chunk = b"a" * (16 << 20)
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=9) as stream:
        stream.write(header("././@LongLink", claimed, b"L"))
        left = claimed
        while left:
            stream.write(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))
        stream.write(bytes(-claimed % BLOCK) + header("x.json", 0) + END)
    return path


def zero_filled_json(path: Path, size: int = 1 << 30) -> Path:
    """Case 4: submission.json of ``size`` zero bytes (about 1 MB compressed for 1 GiB)."""
    chunk = bytes(16 << 20)
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=9) as stream:
        stream.write(header("submission.json", size))
        left = size
        while left:
            stream.write(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))
        stream.write(END)
    return path


def many_random_members(path: Path, count: int, size: int) -> Path:
    """A large, honest-looking archive (incompressible ledgers), slow enough to interrupt mid-extraction."""
    buffer = io.BytesIO()
    for index in range(count):
        buffer.write(member(f"ledger/{index:05d}.json", os.urandom(size)))
    buffer.write(END)
    return write(path, buffer.getvalue(), compress=False)


def warc_of_pages(path: Path, pages: list[tuple[bytes, list[tuple[str, str]]]]) -> Path:
    """A gzipped WARC of HTTP 200 responses, one per (body, HTTP headers), at http://example.com/<n>."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for index, (body, headers) in enumerate(pages):
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"http://example.com/{index}", "response",
                                                      payload=io.BytesIO(body), http_headers=http))
    path.write_bytes(buffer.getvalue())
    return path
