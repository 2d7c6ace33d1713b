"""Atomic writes: a reader sees either no file or the whole file, never a part.

On a local disk we write to a temporary name in the destination directory and
rename it into place, which is atomic. Object stores have no rename; there the
object is uploaded in one PUT or multipart upload that only completes, making
the object visible, once it is whole (``dclm.io.remote_files.write_object``).

Temporary names are ``.<name>.tmp-<pid>-<random>``: hidden, and without the
final suffix, so no ``*.parquet`` listing picks them up. A process killed
between write and rename (a dead Ray worker, a killed driver) leaves one
behind; stages sweep their directories with ``remove_stale_temps`` when they
start and finish.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from fsspec.core import url_to_fs

from dclm.io import fault_hooks

TEMP_MARK = ".tmp-"


def _temp_name(path: str) -> str:
    head, _, tail = path.rpartition("/")
    return f"{head}/.{tail}{TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}" if head \
        else f".{tail}{TEMP_MARK}{uuid.uuid4().hex[:8]}"


def is_temp_name(name: str) -> bool:
    """Whether a file name (no folder) is one of ``open_atomic``'s temporary names."""
    return name.startswith(".") and TEMP_MARK in name


def _is_local(fs) -> bool:
    return fs.protocol in ("file", ("file", "local")) or "file" in fs.protocol


@contextmanager
def open_atomic(path: str) -> Iterator[BinaryIO]:
    """A binary file handle whose contents appear at ``path`` only on success."""
    fs, real = url_to_fs(path)
    if not _is_local(fs):
        # Object stores have no rename (fsspec's mv is copy + delete): the object is
        # written in one upload that completes, or is aborted, at the end.
        from dclm.io.remote_files import write_object

        with write_object(fs, real) as fh:
            yield fh
        return
    parent = real.rpartition("/")[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    temp = _temp_name(real)
    try:
        with fs.open(temp, "wb") as fh:
            yield fh
        fault_hooks.before_publish(real)
        os.replace(temp, real)      # local only: remote paths returned above
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


def remove_stale_temps(folder: str) -> list[str]:
    """Delete the temporary files left in ``folder`` (not below it); their names.

    Only safe while no other process writes into ``folder``: a stage calls it
    for its own output directory, which one run owns at a time.
    """
    fs, real = url_to_fs(folder)
    try:
        names = fs.ls(real, detail=False)
    except (FileNotFoundError, NotADirectoryError):
        return []
    stale = [name for name in names if is_temp_name(name.rstrip("/").rpartition("/")[2])]
    for name in stale:
        try:
            fs.rm(name)
        except FileNotFoundError:   # its writer renamed or removed it meanwhile
            pass
    return stale
