"""Reading untrusted archives: every rule of dclm.submission.safe_archive, on archives built by hand."""
from __future__ import annotations

import gzip
import io
import os
import tarfile
import time
from pathlib import Path

import pytest
from conftest import invoke_cli

from dclm.submission.safe_archive import ArchiveError, Limits, list_tree, path_problem, safe_extract, scan_members


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], compress: bool = True) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    raw = buffer.getvalue()
    path.write_bytes(gzip.compress(raw, mtime=0) if compress else raw)
    return path


def _file(name: str) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), f"content of {name}\n".encode()


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, b""


def _refused(archive: Path, limits: Limits = Limits()) -> list[str]:
    with pytest.raises(ArchiveError) as caught:
        scan_members(archive, limits)
    return caught.value.problems


@pytest.mark.parametrize("path, rule", [
    ("a/b.json", None), ("shards/x.parquet", None),
    ("/etc/passwd", "absolute"), ("C:/x", "absolute"), ("../../etc/passwd", "'..'"), ("a/../../b", "'..'"),
    ("a//b", "empty"), ("a/./b", "'.'"), ("a\\b", "backslash"), ("a\nb", "control"), ("", "empty"),
])
def test_path_rules(path, rule):
    reason = path_problem(path)
    assert (reason is None) if rule is None else (rule in reason)


def test_a_clean_archive_extracts_into_a_temporary_folder_that_is_removed(tmp_path):
    archive = _tar(tmp_path / "ok.tar.gz", [_file("submission.json"), _file("ledger/a.json"), _file("./eval.json")])
    parent = tmp_path / "work"
    parent.mkdir()
    with safe_extract(archive, parent=parent) as root:
        assert root.parent == parent
        assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == \
               ["eval.json", "ledger/a.json", "submission.json"]
        assert (root / "ledger" / "a.json").read_bytes() == b"content of ledger/a.json\n"
    assert list(parent.iterdir()) == []
    with pytest.raises(RuntimeError):                  # removed on errors inside the block too
        with safe_extract(archive, parent=parent):
            raise RuntimeError("boom")
    assert list(parent.iterdir()) == []


@pytest.mark.parametrize("member, rule", [
    (_file("../../etc/passwd"), "'..' component"),
    (_file("/etc/passwd"), "absolute path"),
    (_special("link", tarfile.SYMTYPE, "/etc/passwd"), "symbolic link"),
    (_special("inner", tarfile.SYMTYPE, "../../outside"), "symbolic link"),
    (_special("hard", tarfile.LNKTYPE, "/etc/shadow"), "hard link"),
    (_special("fifo", tarfile.FIFOTYPE), "FIFO"),
    (_special("tty", tarfile.CHRTYPE), "device file"),
    (_special("disk", tarfile.BLKTYPE), "device file"),
])
def test_unsafe_members_are_refused_by_name_and_rule(tmp_path, member, rule):
    archive = _tar(tmp_path / "evil.tar.gz", [_file("submission.json"), member])
    problems = _refused(archive)
    assert problems == [f"evil.tar.gz: member {member[0].name!r}: " + problems[0].split(": ", 2)[2]]
    assert rule in problems[0]


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    archive = _tar(tmp_path / "evil.tgz", [_file("../a"), _special("b", tarfile.SYMTYPE, "/"), _file("ok"),
                                           _file("ok"), _file("f"), _file("f/g")])
    problems = _refused(archive)
    assert len(problems) == 4
    assert any("'../a'" in p for p in problems) and any("'b'" in p and "link" in p for p in problems)
    assert any("duplicate path" in p for p in problems) and any("its parent 'f' is a file" in p for p in problems)


def _huge_claim(path: Path, compress: bool) -> Path:
    """A header declaring 10 GB followed by one 512-byte block: nothing near 10 GB is ever written."""
    info = tarfile.TarInfo("shards/huge.parquet")
    info.size = 10 * 10**9
    raw = info.tobuf(tarfile.GNU_FORMAT) + b"x" * 512 + b"\0" * 1024
    path.write_bytes(gzip.compress(raw, mtime=0) if compress else raw)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_a_10gb_claim_is_refused_from_its_header(tmp_path, compress):
    archive = _huge_claim(tmp_path / ("huge.tar.gz" if compress else "huge.tar"), compress)
    assert archive.stat().st_size < 4096
    parent = tmp_path / "work"
    parent.mkdir()
    began = time.perf_counter()
    with pytest.raises(ArchiveError) as caught:
        with safe_extract(archive, parent=parent):
            pytest.fail("extraction must not start")
    assert time.perf_counter() - began < 5
    assert "declares 10,000,000,000 bytes" in caught.value.problems[0] and "size limit" in caught.value.problems[0]
    assert list(parent.iterdir()) == []                 # refused before a folder was even made


def test_file_count_and_size_limits(tmp_path):
    archive = _tar(tmp_path / "many.tar.gz", [_file(f"ledger/{i}.json") for i in range(6)])
    assert "more than 5 members" in _refused(archive, Limits(max_files=5))[0]
    assert "size limit" in _refused(archive, Limits(max_bytes=40))[0]
    assert len(scan_members(archive, Limits(max_files=6, max_bytes=1000))) == 6


def test_a_sparse_member_is_refused(tmp_path):
    info, _ = _special("shards/sparse.parquet", tarfile.GNUTYPE_SPARSE)
    raw = info.tobuf(tarfile.GNU_FORMAT) + b"\0" * 1024
    archive = tmp_path / "sparse.tar"
    archive.write_bytes(raw)
    assert "sparse file" in _refused(archive)[0]


def test_truncated_data_and_non_archives_are_clear_errors(tmp_path):
    info = tarfile.TarInfo("eval.json")
    info.size = 5000
    short = tmp_path / "short.tar"
    short.write_bytes(info.tobuf(tarfile.GNU_FORMAT) + b"{" * 100)
    parent = tmp_path / "work"
    parent.mkdir()
    with pytest.raises(ArchiveError) as caught:
        with safe_extract(short, parent=parent):
            pass
    assert "short.tar" in caught.value.problems[0]
    assert list(parent.iterdir()) == []
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not an archive" * 10)
    assert "not a readable tar archive" in _refused(junk)[0]


def test_a_folder_with_a_link_out_of_the_tree_is_refused(tmp_path):
    folder = tmp_path / "submission"
    (folder / "ledger").mkdir(parents=True)
    (folder / "submission.json").write_text("{}")
    os.symlink("/etc/passwd", folder / "ledger" / "a.json")
    os.symlink(tmp_path, folder / "up")
    files, problems = list_tree(folder)
    assert files == ["submission.json"]
    assert sorted(problems) == ["ledger/a.json: symbolic link; links are not allowed",
                                "up: symbolic link; links are not allowed"]


@pytest.mark.parametrize("member, rule", [
    (_file("../../etc/passwd"), "'..' component"),
    (_special("link", tarfile.SYMTYPE, "../../../etc/passwd"), "symbolic link"),
])
def test_cli_refuses_with_exit_1_and_names_the_member(tmp_path, member, rule):
    archive = _tar(tmp_path / "evil.tar.gz", [_file("submission.json"), member])
    result = invoke_cli("leaderboard", "validate", archive)
    assert result.code == 1 and "Traceback" not in result.out + result.err
    assert f"member {member[0].name!r}" in result.out and rule in result.out
    assert not (tmp_path.parent / "etc").exists()


def test_cli_refuses_a_10gb_claim(tmp_path):
    archive = _huge_claim(tmp_path / "huge.tar.gz", compress=True)
    result = invoke_cli("leaderboard", "validate", archive)
    assert result.code == 1 and "size limit" in result.out and "'shards/huge.parquet'" in result.out
