"""The same job on a separately started Ray cluster (`ray start --head`) gives identical output."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR, invoke_cli

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ray_head():
    """A head node in its own process tree and temp dir, so stopping it touches nothing else."""
    port = _free_port()
    temp_dir = f"/tmp/dclm-ray-{port}"
    ray_bin = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen([ray_bin, "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("ray start --head did not come up in 60 s")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        subprocess.run(["pkill", "-9", "-f", temp_dir], check=False)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_cluster_run_matches_embedded_run(tmp_path, ray_head, ray_session):
    sample = SAMPLE_DIR / "CC-MAIN-2020-34-sample.warc.gz"
    embedded = tmp_path / "embedded"
    assert invoke_cli("extract", sample, "--output", embedded).code == 0
    clustered = tmp_path / "cluster"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-m", "dclm.cli", "extract", str(sample), "--output", str(clustered),
                           "--ray-address", ray_head, "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    name = "CC-MAIN-2020-34-sample.parquet"
    assert (clustered / "data" / name).read_bytes() == (embedded / "data" / name).read_bytes()


def test_unreachable_cluster_is_a_usage_error(tmp_path):
    port = _free_port()
    done = subprocess.run([sys.executable, "-m", "dclm.cli", "extract", str(SAMPLE_DIR), "--output",
                           str(tmp_path / "o"), "--ray-address", f"127.0.0.1:{port}", "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "cannot join the Ray cluster" in done.stderr
