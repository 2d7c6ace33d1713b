"""Content digests that identify files (models, tokenizers, token shards) in manifests."""
from __future__ import annotations

import hashlib
import os


def file_sha256(path: "str | os.PathLike") -> str:
    """sha256 of a file, read in 1 MiB blocks so large files never sit in memory whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
