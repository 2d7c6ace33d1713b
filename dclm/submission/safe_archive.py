"""Reading an untrusted submission (a .tar.gz or a folder) without letting it reach outside itself.

A leaderboard validates archives that strangers send, so extraction follows
rules that are all checked on the tar headers, before any member's data is
written anywhere:

* only regular files and directories: symbolic and hard links (which can point
  anywhere), devices, FIFOs and sparse files are refused;
* member paths are relative and plain: no leading ``/`` or drive letter, no
  ``..``, ``.`` or empty components, no backslashes or control characters (one
  leading ``./``, as ``tar -C dir .`` writes, is accepted and removed);
* no path appears twice and no file is also the parent folder of another;
* at most ``max_files`` members and ``max_bytes`` of declared content in all.
  Sizes are summed as each header is read, so a header that claims 10 GB is
  refused the moment it is seen, without reading or writing its data;
* every file but a Parquet shard (JSON, YAML, the MANIFEST) holds at most
  ``max_metadata_bytes``: such files are read whole, so they must be small;
* before ``tarfile`` parses anything, ``tar_stream.check_stream`` walks the
  headers with its own bounded parser (metadata header sizes, pax records,
  decompression ratio), since ``tarfile`` itself trusts what headers claim.

Files are then written with ``O_EXCL | O_NOFOLLOW`` into a fresh temporary
folder, exactly the declared number of bytes each, and that folder is removed
when the ``safe_extract`` context exits, whatever happened inside it.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from dclm.submission.tar_stream import StreamError, StreamLimits, check_stream, shown

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_DRIVE = re.compile(r"^[A-Za-z]:")
_COPY_BLOCK = 1 << 20


class ArchiveError(Exception):
    """The archive breaks a rule; ``problems`` holds one message per broken rule, each naming the member."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Limits:
    """What one submission may hold. Defaults fit inline shards of the CPU scales with room to spare;
    datasets larger than this belong in a shard manifest (``--shards manifest``)."""

    max_bytes: int = 4 << 30
    max_files: int = 10_000
    max_metadata_bytes: int = 32 << 20     # one file other than a shard (JSON, YAML, MANIFEST)
    max_header_bytes: int = 64 << 10       # one pax or GNU long-name header (a path needs < 4 KiB)
    max_ratio: int = 200                   # decompressed / compressed, past ratio_floor
    ratio_floor: int = 64 << 20

    def stream(self) -> StreamLimits:
        return StreamLimits(max_bytes=self.max_bytes, max_files=self.max_files,
                            max_header_bytes=self.max_header_bytes, max_ratio=self.max_ratio,
                            ratio_floor=self.ratio_floor)


def is_shard_path(path: str) -> bool:
    """Parquet shards are streamed, never read whole; every other file is, so those have a smaller limit."""
    return path.startswith("shards/") and path.endswith(".parquet")


def file_size_problem(path: str, size: int, limits: Limits) -> Optional[str]:
    if not is_shard_path(path) and size > limits.max_metadata_bytes:
        return (f"{size:,} bytes, over the {limits.max_metadata_bytes:,}-byte limit for a file other than a "
                "Parquet shard")
    return None


def is_archive_name(path: "str | os.PathLike") -> bool:
    return str(path).endswith(ARCHIVE_SUFFIXES)


def path_problem(path: str) -> Optional[str]:
    """Why a relative path may not appear in a submission, or None when it may."""
    if not path:
        return "empty path"
    if path.startswith("/") or _DRIVE.match(path):
        return "absolute path (paths must be relative to the submission root)"
    if "\\" in path:
        return "backslash in path (use '/')"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return "control character in path"
    parts = path.split("/")
    if ".." in parts:
        return "'..' component (the path escapes the submission root)"
    if any(part in ("", ".") for part in parts):
        return "empty or '.' path component"
    return None


def _member_name(raw: str) -> str:
    name = raw[2:] if raw.startswith("./") else raw
    return name[:-1] if name.endswith("/") else name


def _kind_problem(member: tarfile.TarInfo) -> Optional[str]:
    if member.issym():
        return f"symbolic link (to {shown(member.linkname)}); links are not allowed"
    if member.islnk():
        return f"hard link (to {shown(member.linkname)}); links are not allowed"
    if member.ischr() or member.isblk():
        return "device file; only regular files and folders are allowed"
    if member.isfifo():
        return "FIFO; only regular files and folders are allowed"
    if member.issparse():
        return "sparse file; only regular files and folders are allowed"
    if not (member.isreg() or member.isdir()):
        return f"member of tar type {member.type!r}; only regular files and folders are allowed"
    return None


def _open(archive: Path) -> tarfile.TarFile:
    return tarfile.open(archive, mode="r:*")


_READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error)


def scan_members(archive: "str | os.PathLike", limits: Limits = Limits()) -> list[tarfile.TarInfo]:
    """Every member's header, checked against the rules; raises ArchiveError listing each problem.

    A limit overrun stops the scan at once (reading on would mean skipping over
    the oversized data); other problems are collected so all of them are reported.
    """
    archive = Path(archive)
    label = archive.name
    try:
        check_stream(archive, limits.stream(), lambda name, size: file_size_problem(name, size, limits))
    except StreamError as exc:
        raise ArchiveError([f"{label}: {exc}"]) from None
    problems: list[str] = []
    members: list[tarfile.TarInfo] = []
    seen: dict[str, bool] = {}          # path -> is a directory
    total = 0
    try:
        with _open(archive) as tar:
            while True:
                member = tar.next()       # reads one header; skips the previous member's data
                if member is None:
                    break
                if len(members) + 1 > limits.max_files:
                    raise ArchiveError(problems + [f"{label}: more than {limits.max_files} members "
                                                   "(file-count limit); refused before extracting"])
                name = _member_name(member.name)
                where = f"{label}: member {shown(member.name)}"
                reason = path_problem(name) or _kind_problem(member)
                if reason is None and member.isreg():
                    reason = file_size_problem(name, member.size, limits)
                if reason is None and name in seen:
                    reason = "duplicate path (a second copy could replace the checked one)"
                if reason:
                    problems.append(f"{where}: {reason}")
                    continue
                if member.isreg():
                    total += member.size
                    if total > limits.max_bytes:
                        raise ArchiveError(problems + [
                            f"{where}: declares {member.size:,} bytes, bringing the archive to {total:,}, over the "
                            f"{limits.max_bytes:,}-byte size limit; refused before extracting"])
                seen[name] = member.isdir()
                members.append(member)
    except ArchiveError:
        raise
    except _READ_ERRORS as exc:
        problems.append(f"{label}: not a readable tar archive ({exc})")
    problems.extend(_parent_conflicts(label, seen))
    if problems:
        raise ArchiveError(problems)
    return members


def _parent_conflicts(label: str, seen: dict[str, bool]) -> list[str]:
    """A file whose path is also used as a folder (``a`` and ``a/b``): extraction would be ambiguous."""
    problems = []
    for name in seen:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if seen.get(parent) is False:
                problems.append(f"{label}: member {shown(name)}: its parent {shown(parent)} is a file in the archive")
                break
    return problems


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, label: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    source = tar.extractfile(member)
    if source is None:
        raise ArchiveError([f"{label}: member {shown(member.name)}: no data"])
    with source, os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        remaining = member.size
        while remaining:
            chunk = source.read(min(_COPY_BLOCK, remaining))
            if not chunk:
                raise ArchiveError([f"{label}: member {shown(member.name)}: archive ends before its "
                                    f"{member.size:,} declared bytes"])
            out.write(chunk)
            remaining -= len(chunk)


def _extract(archive: Path, members: list[tarfile.TarInfo], root: Path) -> None:
    """Second, sequential pass: a gzip stream cannot seek back cheaply, so read the members in order."""
    label = archive.name
    expected = {(m.name, m.size, m.type) for m in members}
    try:
        with _open(archive) as tar:
            for member in tar:
                # The file is read twice; anything not vetted by the first pass is refused.
                if (member.name, member.size, member.type) not in expected:
                    raise ArchiveError([f"{label}: member {shown(member.name)} changed between reads"])
                target = root.joinpath(*_member_name(member.name).split("/"))
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    _write_member(tar, member, target, label)
    except ArchiveError:
        raise
    except _READ_ERRORS as exc:
        raise ArchiveError([f"{label}: cannot be extracted ({exc})"]) from exc


@contextmanager
def safe_extract(archive: "str | os.PathLike", limits: Limits = Limits(),
                 parent: Optional["str | os.PathLike"] = None) -> Iterator[Path]:
    """Extract ``archive`` into a new temporary folder (under ``parent``), yield it, then delete it."""
    archive = Path(archive)
    members = scan_members(archive, limits)
    root = Path(tempfile.mkdtemp(prefix="dclm-submission-", dir=parent))
    try:
        _extract(archive, members, root)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def list_tree(root: "str | os.PathLike", limits: Limits = Limits()) -> tuple[list[str], list[str]]:
    """(relative paths of the regular files under ``root``, problems) for a submission given as a folder.

    Links are never followed; a link or special file anywhere is a problem, as in an archive.
    """
    root = Path(root)
    files: list[str] = []
    problems: list[str] = []
    total = 0
    for folder, dirs, names in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in sorted(dirs + names):
            path = base / name
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{rel}: symbolic link; links are not allowed")
            elif stat.S_ISDIR(info.st_mode):
                continue
            elif not stat.S_ISREG(info.st_mode):
                problems.append(f"{rel}: not a regular file")
            elif path_problem(rel):
                problems.append(f"{rel}: {path_problem(rel)}")
            elif file_size_problem(rel, info.st_size, limits):
                problems.append(f"{rel}: {file_size_problem(rel, info.st_size, limits)}")
            else:
                files.append(rel)
                total += info.st_size
        # os.walk lists symlinked folders in ``dirs``; never descend into them.
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
    if len(files) > limits.max_files:
        problems.append(f"{root.name}: {len(files)} files, over the {limits.max_files}-file limit")
    if total > limits.max_bytes:
        problems.append(f"{root.name}: {total:,} bytes, over the {limits.max_bytes:,}-byte size limit")
    return sorted(files), problems
