"""Issue 15, run cases 16-18: bad core counts, an output that overlaps an input, and storage that refuses writes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_DIR, invoke_cli


@pytest.mark.parametrize("value, message", [("0", "0 cores: give at least 1"), ("-1", "-1 cores: give at least 1"),
                                            ("two", "'two' is not a whole number of cores")])
def test_case16_num_cpus_below_one_is_a_usage_error(tmp_path, value, message):
    command = [sys.executable, "-c", "import sys; from dclm.cli import main; sys.exit(main())",
               "extract", str(SAMPLE_DIR), "--output", str(tmp_path / "out"), f"--num-cpus={value}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def extracted(ray_session, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("case17") / "extracted"
    assert invoke_cli("extract", SAMPLE_DIR, "--output", out).code == 0
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("output", ["same", "inside", "dotted", "parent"])
def test_case17_an_output_that_is_or_is_inside_an_input_is_refused_even_with_force(extracted, tmp_path, output):
    before = _snapshot(extracted)
    target = {"same": extracted, "inside": extracted / "filtered", "dotted": extracted / "data" / "..",
              "parent": extracted.parent}[output]
    for command in (["filter", "--recipe", "raw", "--input", extracted], ["select", "--input", extracted,
                                                                          "--where", "true"]):
        result = invoke_cli(*command, "--output", target, "--force")
        assert result.code == 1, result
        assert "--force does not change this" in result.err and "Traceback" not in result.err
    assert _snapshot(extracted) == before
    assert not (extracted / "filtered").exists()


def test_case17_extract_refuses_to_write_into_its_input_folder(tmp_path):
    warcs = Path(shutil.copytree(SAMPLE_DIR, tmp_path / "warcs"))
    result = invoke_cli("extract", warcs, "--output", warcs / "out", "--force")
    assert result.code == 1 and "inside the input" in result.err


@pytest.fixture
def small_filesystem(tmp_path):
    """A real 1 MiB tmpfs, mounted for the test (needs the right to mount; skipped without it)."""
    mount = tmp_path / "fs"
    mount.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_case18_a_full_disk_ends_in_exit_2_with_one_line(ray_session, small_filesystem):
    fd = os.open(small_filesystem / "filler", os.O_WRONLY | os.O_CREAT)
    try:                                                      # fill every block
        while os.write(fd, bytes(4096)):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    result = invoke_cli("extract", SAMPLE_DIR, "--output", small_filesystem / "out")
    assert result.code == 2, result
    lines = [line for line in result.err.splitlines() if "error" in line]
    assert len(lines) == 1 and "No space left on device" in lines[0] and "Traceback" not in result.err
    out = small_filesystem / "out"
    assert not any(p.name.endswith(".parquet") or ".tmp-" in p.name for p in out.rglob("*")) if out.exists() else True


def test_case18_a_read_only_output_ends_in_exit_2_with_one_line(ray_session, small_filesystem):
    subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], check=True)
    result = invoke_cli("extract", SAMPLE_DIR, "--output", small_filesystem / "out")
    assert result.code == 2, result
    assert "Read-only file system" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
