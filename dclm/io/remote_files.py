"""Shard files on local disk or object storage: retried streaming reads, single-step publishing.

Reading: ``open_input(url)`` gives a seekable binary file. Local paths are
plain files. Remote objects are read in blocks of ``READ_BLOCK_BYTES``
(s3fs would otherwise cache 50 MiB per open file) through ``RetryingReader``,
which reopens the object at the same offset when a read fails transiently, so
a dropped connection an hour into a 1 GB WARC costs one block, not the shard.

Writing: a shard is built in a local spool file and then published.
On local disk the spool lives next to its destination and is renamed into
place. Object stores have no rename, so a remote destination is spooled in the
local temp folder (``DCLM_SPOOL_DIR``, else the system default) and uploaded
in one PUT or one multipart upload whose completion makes the object appear
whole; a failed upload is aborted and leaves no object. The upload is retried
as a whole, which is safe because its source is a finished local file.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import uuid
from typing import BinaryIO, Iterator, Optional

from fsspec.core import url_to_fs

from dclm.io import fault_hooks
from dclm.io.remote_retry import RetryPolicy, retry_call

READ_BLOCK_BYTES = 8 * 2**20
UPLOAD_BLOCK_BYTES = 16 * 2**20
_COPY_CHUNK = 4 * 2**20


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def local_path(url: str) -> str:
    return url[len("file://"):] if url.startswith("file://") else url


class RetryingReader(io.RawIOBase):
    """A remote object as a seekable file; transient read failures reopen it where it was."""

    def __init__(self, url: str, policy: Optional[RetryPolicy] = None, block_size: int = READ_BLOCK_BYTES):
        super().__init__()
        self.url = url
        self.policy = policy or RetryPolicy.from_env()
        self.block_size = block_size
        self._fs, self._path = url_to_fs(url)
        self._fh = None
        self._pos = 0
        # Asking for the size first makes a missing object fail here, by name.
        self.size = retry_call(lambda: self._fs.size(self._path), f"size of {url}", self.policy)

    def _handle(self):
        if self._fh is None:
            self._fh = self._fs.open(self._path, "rb", block_size=self.block_size, cache_type="readahead")
            self._fh.seek(self._pos)
        return self._fh

    def _drop_handle(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()
            except Exception:  # the connection is already broken; nothing to save
                pass

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            if self.size is None:
                raise OSError(f"{self.url}: the server does not report a size to seek from the end")
            offset += self.size
        if offset < 0:
            raise ValueError(f"{self.url}: negative seek position {offset}")
        self._pos = offset
        if self._fh is not None:
            self._fh.seek(offset)
        return offset

    def read(self, size: int = -1) -> bytes:
        if self.size is not None:
            if self._pos >= self.size:
                return b""
            if size is None or size < 0:
                size = self.size - self._pos
        elif size is None:
            size = -1           # a server that does not tell the size: read to the end
        if size == 0:
            return b""
        data = retry_call(lambda: self._handle().read(size), f"read of {self.url} at byte {self._pos}",
                          self.policy, on_retry=self._drop_handle)
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        self._drop_handle()
        super().close()


def open_input(url: str, policy: Optional[RetryPolicy] = None) -> BinaryIO:
    """A seekable binary handle on a local file or a remote object (retried reads)."""
    if is_local(url):
        return open(local_path(url), "rb")
    return RetryingReader(url, policy)


def read_bytes(url: str, policy: Optional[RetryPolicy] = None) -> bytes:
    with open_input(url, policy) as fh:
        return fh.read()


def spool_path(url: str) -> str:
    """Where a shard bound for ``url`` is built before it is published."""
    name = url.rstrip("/").rpartition("/")[2]
    temp = f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if is_local(url):
        path = local_path(url)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, temp)
    folder = os.environ.get("DCLM_SPOOL_DIR") or tempfile.gettempdir()
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, temp)


@contextlib.contextmanager
def write_object(fs, real: str, block_size: int = UPLOAD_BLOCK_BYTES) -> Iterator[BinaryIO]:
    """A handle on a new remote object that appears, whole, only when the block ends cleanly.

    The object is sent as one PUT (small) or one multipart upload; S3 shows it
    only once the upload completes. On an error the upload is aborted:
    ``close()`` would complete it with what was sent so far, ``discard()``
    (s3fs, gcsfs) throws it away.
    """
    fh = fs.open(real, "wb", block_size=block_size)
    try:
        yield fh
    except BaseException:
        discard = getattr(fh, "discard", None)
        if discard is not None:
            discard()
            fh.closed = True        # else garbage collection would close(), and complete, it
        else:   # a filesystem that cannot abort: complete, then remove
            fh.close()
            fs.rm(real)
        raise
    fault_hooks.before_publish(real)
    fh.close()


def _upload_once(spool: str, fs, real: str) -> None:
    with write_object(fs, real) as fh, open(spool, "rb") as src:
        shutil.copyfileobj(src, fh, _COPY_CHUNK)


def publish(spool: str, url: str, policy: Optional[RetryPolicy] = None) -> None:
    """Move a finished spool file to ``url`` so that it appears whole or not at all."""
    try:
        if is_local(url):
            fault_hooks.before_publish(url)
            os.replace(spool, local_path(url))
            return
        fs, real = url_to_fs(url)
        retry_call(lambda: _upload_once(spool, fs, real), f"upload of {url}", policy)
    finally:
        if os.path.exists(spool):
            os.remove(spool)


def discard_spool(spool: str) -> None:
    try:
        os.remove(spool)
    except FileNotFoundError:
        pass
