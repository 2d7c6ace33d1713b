"""Turning the INPUT arguments of the CLI into a sorted list of shard URLs.

An input may be a file, a directory, a glob, or a Common Crawl ``warc.paths``
listing (optionally gzipped), on the local disk or behind any fsspec URL
(``s3://``, ``gs://``, ``https://`` where the filesystem package is installed).
Remote listings retry transient failures (``dclm.io.remote_retry``); for S3
endpoints other than AWS, set ``AWS_ENDPOINT_URL`` (see ``dclm.io.remote_env``).
"""
from __future__ import annotations

import gzip
import io
import posixpath

from fsspec.core import url_to_fs

from dclm.errors import UsageError
from dclm.io.output_layout import DATA, META
from dclm.io.remote_files import read_bytes
from dclm.io.remote_retry import retry_call

WARC_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc", ".warc.wet.gz", ".wet.gz")
# Names a directory listing picks up as documents. Only listings go by name:
# a file named on the command line is read whatever its name (dclm.io.document_files).
DOCUMENT_SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.zstd", ".json.gz", ".json.zst")
# Where the relative lines of a CC ``warc.paths`` listing live.
COMMON_CRAWL_PREFIX = "https://data.commoncrawl.org/"


def _has_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def _is_paths_listing(path: str) -> bool:
    name = posixpath.basename(path)
    return name.endswith(".paths") or name.endswith(".paths.gz")


def _full_url(fs, path: str, original: str) -> str:
    """Re-attach the protocol fsspec strips, so remote paths stay remote."""
    if "://" not in original:
        return path
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return path if "://" in path else f"{protocol}://{path}"


def read_paths_listing(url: str, prefix: str = COMMON_CRAWL_PREFIX) -> list[str]:
    """Lines of a ``warc.paths(.gz)`` file, made absolute with ``prefix``."""
    raw = read_bytes(url)
    if url.endswith(".gz"):
        raw = gzip.decompress(raw)
    urls = []
    for line in io.StringIO(raw.decode("utf-8")):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        urls.append(line if "://" in line or line.startswith("/") else prefix + line)
    return urls


def resolve_inputs(inputs: list[str], suffixes: tuple[str, ...] = WARC_SUFFIXES,
                   paths_prefix: str = COMMON_CRAWL_PREFIX, recursive: bool = True) -> list[str]:
    """Expand inputs into shard URLs, de-duplicated, in a stable order.

    Directories are searched recursively (crawl and Hub layouts nest their
    files), skipping hidden and ``_``-prefixed folders. A stage's output folder
    stands for its documents, ``OUTPUT/data/`` (``dclm.io.output_layout``).

    Raises UsageError naming the input when it does not exist or holds no shard.
    """
    found: list[str] = []
    for item in inputs:
        try:
            found.extend(retry_call(lambda item=item: _expand(item, suffixes, paths_prefix, recursive),
                                    f"listing of {item}"))
        except UsageError:
            raise
        except Exception as exc:   # unreachable host, refused credentials, ...: before any work, one line
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise UsageError(f"cannot read the input {item}: {type(exc).__name__}: {reason}"[:500]) from exc
    unique = list(dict.fromkeys(found))
    return unique


def _expand(item: str, suffixes: tuple[str, ...], paths_prefix: str, recursive: bool) -> list[str]:
    fs, path = url_to_fs(item)
    # Object-store listings are cached per process; workers may have written
    # since (a recipe's next segment lists the shards the last one made).
    fs.invalidate_cache()
    if _is_paths_listing(item) and not _has_glob(item):
        if not fs.exists(path):
            raise UsageError(f"input listing not found: {item}")
        return read_paths_listing(item, paths_prefix)
    if _has_glob(item):
        matches = sorted(fs.glob(path))
        if not matches:
            raise UsageError(f"no file matches the pattern: {item}")
        return [_full_url(fs, m, item) for m in matches if not fs.isdir(m)]
    if fs.isdir(path):
        if fs.isdir(f"{path.rstrip('/')}/{META}"):
            path = f"{path.rstrip('/')}/{DATA}"
            if not fs.isdir(path):
                raise UsageError(f"{item} is a stage's output folder with no documents ({DATA}/ is missing)")
        elif fs.isfile(f"{path.rstrip('/')}/stats.json") and fs.isdir(f"{path.rstrip('/')}/ledger"):
            recursive = False       # an output of the earlier layout: its top-level shards, not dropped/
        listing = fs.find(path) if recursive else fs.ls(path, detail=False)
        base = path.rstrip("/")
        members = sorted(p for p in listing if p.endswith(suffixes) and not _hidden_below(base, p))
        if not members:
            raise UsageError(f"no {'/'.join(suffixes)} file in directory: {item}")
        return [_full_url(fs, m, item) for m in members]
    if fs.exists(path):
        return [item]
    raise UsageError(f"input not found: {item}")


def _hidden_below(base: str, path: str) -> bool:
    relative = path[len(base):].strip("/")
    return any(part.startswith((".", "_")) for part in relative.split("/"))


def shard_name(url: str) -> str:
    """Output name of a shard: its file name without the archive suffixes."""
    name = posixpath.basename(url.rstrip("/"))
    for suffix in sorted(WARC_SUFFIXES + DOCUMENT_SUFFIXES + (".json",), key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def check_unique_names(urls: list[str]) -> None:
    """Two inputs with one file name would write the same output file."""
    seen: dict[str, str] = {}
    for url in urls:
        name = shard_name(url)
        if name in seen:
            raise UsageError(f"two inputs map to the same output name {name!r}: {seen[name]} and {url}")
        seen[name] = url


def resolve_document_inputs(inputs: list[str]) -> list[str]:
    """Shards of documents: Parquet or JSONL files, folders of them, or a stage's output folder."""
    return resolve_inputs(inputs, suffixes=DOCUMENT_SUFFIXES)


def resolve_any_inputs(inputs: list[str]) -> list[str]:
    """WARC archives and document shards (``dclm run`` reads both)."""
    return resolve_inputs(inputs, suffixes=WARC_SUFFIXES + DOCUMENT_SUFFIXES)
