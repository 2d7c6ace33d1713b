"""What an untrusted Parquet shard may cost to read, checked on its footer before any page is decoded.

A 1,351-byte zstd shard can hold 100 MB of text: Parquet compresses a
repeated value to almost nothing. So before the validator recounts tokens,
the shard's footer must be small, each row group's declared uncompressed size
must fit in memory, and all declared text must be plausible for the file's
size (a compression ratio bound, past a floor). The footer's figures are the
submitter's claims, so the recount also stops once the text it actually reads
passes the same budget (``text_budget``).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Optional

MAX_FOOTER_BYTES = 8 << 20            # thrift metadata of a shard with a few columns is a few KB
MAX_ROW_GROUP_BYTES = 256 << 20       # our writer cuts row groups at 32 MiB of text
MAX_RATIO = 100                       # zstd gives 3-5x on web text
RATIO_FLOOR = 8 << 20                 # text always allowed, whatever the ratio (~15 s to tokenize)


@dataclass(frozen=True)
class ShardBudget:
    file_bytes: int

    @property
    def text_bytes(self) -> int:
        """The most uncompressed bytes a shard of this size may hold."""
        return max(RATIO_FLOOR, MAX_RATIO * self.file_bytes)


def _footer_length(path: "str | os.PathLike") -> int:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() < 12:
            raise ValueError("too short to be a Parquet file")
        fh.seek(-8, os.SEEK_END)
        tail = fh.read(8)
    if tail[4:] != b"PAR1":
        raise ValueError("no Parquet footer (the file does not end with PAR1)")
    return struct.unpack("<I", tail[:4])[0]


def shard_problem(path: "str | os.PathLike") -> Optional[str]:
    """Why reading this shard could cost more than its size justifies, or None."""
    import pyarrow.parquet as pq

    try:
        footer = _footer_length(path)
        if footer > MAX_FOOTER_BYTES:
            return f"a Parquet footer of {footer:,} bytes, over the {MAX_FOOTER_BYTES:,}-byte limit"
        metadata = pq.ParquetFile(path).metadata
    except Exception as exc:        # pyarrow raises many types for a corrupt file; all mean "unreadable"
        return f"not a readable Parquet shard ({type(exc).__name__}: {exc})"
    budget = ShardBudget(os.path.getsize(path))
    total = 0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        declared = max(group.total_byte_size,
                       sum(group.column(c).total_uncompressed_size for c in range(group.num_columns)))
        if declared > MAX_ROW_GROUP_BYTES:
            return (f"row group {index} declares {declared:,} uncompressed bytes, over the "
                    f"{MAX_ROW_GROUP_BYTES:,}-byte limit for one row group")
        total += declared
    if total > budget.text_bytes:
        return (f"declares {total:,} uncompressed bytes in a {budget.file_bytes:,}-byte file, over "
                f"{MAX_RATIO}:1; refused as a decompression bomb")
    return None
