"""Atomic writes: a reader sees either no file or the whole file, never a part.

We write to a temporary name in the destination directory and rename it into
place. On a local disk that rename is atomic; on object stores (where fsspec's
``mv`` is copy + delete) the temporary name still keeps partial objects from
ever carrying the final name.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from fsspec.core import url_to_fs


def _temp_name(path: str) -> str:
    head, _, tail = path.rpartition("/")
    return f"{head}/.{tail}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}" if head else f".{tail}.tmp-{uuid.uuid4().hex[:8]}"


@contextmanager
def open_atomic(path: str) -> Iterator[BinaryIO]:
    """A binary file handle whose contents appear at ``path`` only on success."""
    fs, real = url_to_fs(path)
    parent = real.rpartition("/")[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    temp = _temp_name(real)
    try:
        with fs.open(temp, "wb") as fh:
            yield fh
        if fs.protocol in ("file", ("file", "local")) or "file" in fs.protocol:
            os.replace(temp, real)
        else:
            fs.mv(temp, real)
    except BaseException:
        try:
            fs.rm(temp)
        except (FileNotFoundError, OSError):
            pass
        raise


def write_bytes_atomic(path: str, data: bytes) -> None:
    with open_atomic(path) as fh:
        fh.write(data)


def exists(path: str) -> bool:
    fs, real = url_to_fs(path)
    return fs.exists(real)
