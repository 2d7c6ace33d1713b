"""Issue 15, leaderboard cases 1, 2, 4, 5 and 8: hostile archives end in a clear refusal, in bounded time.

Each hostile file is built in the test (tests/hostile_archives.py writes the
header blocks). Each check runs the real `dclm leaderboard validate`, which
validates in a child process under time and memory limits.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import hostile_archives as hostile
import pytest
from conftest import REPO, invoke_cli

from dclm.submission.safe_archive import ArchiveError, Limits, scan_members


def _refusal(archive: Path, *options) -> tuple[str, float]:
    began = time.perf_counter()
    result = invoke_cli("leaderboard", "validate", archive, *options)
    elapsed = time.perf_counter() - began
    assert result.code == 1, result
    assert "Traceback" not in result.out + result.err and "invalid" in result.out, result
    return result.out, elapsed


def test_case1_a_pax_header_of_200000_digits_is_refused_at_once(tmp_path):
    archive = hostile.pax_digits(tmp_path / "digits.tar.gz", 200_000)
    assert archive.stat().st_size < 2000
    out, elapsed = _refusal(archive)
    assert elapsed < 5 and "metadata header of 200,512 bytes" not in out
    assert "'x' metadata header of" in out and "over the 65,536-byte limit for one header" in out


def test_case1_digits_under_the_header_limit_are_refused_too(tmp_path):
    """60,000 digits fit the header size limit, but would still cost tarfile quadratic time."""
    archive = hostile.pax_digits(tmp_path / "digits.tar.gz", 60_000)
    with pytest.raises(ArchiveError) as caught:
        scan_members(archive)
    assert "run of over 32 digits" in caught.value.problems[0]


def test_case2_a_long_name_claiming_256mib_is_refused_from_its_header(tmp_path):
    archive = hostile.long_name_claim(tmp_path / "longname.tar.gz")
    assert archive.stat().st_size < 400_000                 # 256 MiB of name in ~255 KB
    out, elapsed = _refusal(archive)
    assert elapsed < 5 and len(out) < 1000, out
    assert "'L' metadata header of 268,435,456 bytes" in out


def test_case2_a_long_name_under_the_limit_is_shortened_in_messages(tmp_path):
    name = "a/" * 20_000 + "x.json"                   # 40 KB: under the header limit, a link target
    raw = hostile.member("././@LongLink", name.encode() + b"\0", b"L") + hostile.header("x", 0, b"2") + hostile.END
    archive = hostile.write(tmp_path / "link.tar.gz", raw)
    out, _ = _refusal(archive)
    assert len(out) < 2000 and "40,006 characters" in out


def test_case4_a_1gib_zero_filled_submission_json_is_refused(tmp_path):
    archive = hostile.zero_filled_json(tmp_path / "zeros.tar.gz")
    assert archive.stat().st_size < 2 << 20
    out, elapsed = _refusal(archive)
    assert elapsed < 5
    assert "member 'submission.json'" in out and "limit for a file other than a Parquet shard" in out


def test_case4_the_compression_ratio_is_bounded_for_any_member(tmp_path):
    archive = hostile.zero_filled_json(tmp_path / "zeros.tar.gz", size=200 << 20)
    limits = Limits(max_metadata_bytes=1 << 30)        # only the ratio bound stands in the way
    with pytest.raises(ArchiveError) as caught:
        scan_members(archive, limits)
    assert "decompression bomb" in caught.value.problems[0]


def test_case4_a_large_file_in_a_folder_submission_is_refused_before_reading(tmp_path):
    folder = tmp_path / "package"
    folder.mkdir()
    with open(folder / "submission.json", "wb") as fh:    # 1 GiB, sparse: nothing is written to disk
        fh.truncate(1 << 30)
    out, elapsed = _refusal(folder)
    assert elapsed < 5 and "submission.json: 1,073,741,824 bytes, over the" in out


def test_case5_deep_json_in_submission_json_is_a_refusal(tmp_path):
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "submission.json").write_text("[" * 200_000 + "]" * 200_000)
    out, _ = _refusal(folder)
    assert "submission.json: nested deeper than 64 levels" in out


def test_case8_sigterm_during_validate_removes_the_temporary_folder(tmp_path):
    archive = hostile.many_random_members(tmp_path / "big.tar", count=6000, size=16 << 10)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", "import sys; from dclm.cli import main; sys.exit(main())",
               "leaderboard", "validate", str(archive)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(scratch.glob("dclm-validate-*/dclm-submission-*/ledger/*")):   # extraction has begun
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, (out, err)
    assert b"Traceback" not in err
    assert list(scratch.iterdir()) == []
