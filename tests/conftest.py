"""Shared fixtures: one Ray runtime for the whole session, the shared corpus, a CLI runner."""
from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DCLM_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
WARC_DIR = CORPUS / "warc"
TORTURE_DIR = CORPUS / "torture"
SAMPLE_DIR = REPO / "data" / "sample"


def pytest_collection_modifyitems(config, items):
    if not WARC_DIR.is_dir():
        skip = pytest.mark.skip(reason=f"shared corpus not found at {CORPUS}")
        for item in items:
            if "corpus" in item.fixturenames:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def ray_session():
    """Ray costs ~10 s to start: start it once; the CLI reuses a running runtime."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def leaderboard_inputs(ray_session, tmp_path_factory):
    """The curated dataset and trained, evaluated runs of tests/leaderboard_inputs.py, made once a session."""
    from leaderboard_inputs import build_inputs

    return build_inputs(tmp_path_factory.getbasetemp() / "leaderboard-inputs")


@pytest.fixture(scope="module")
def tiny_scale():
    """"tiny" as a fixed scale (and the small "micro" task set) for a whole test module: its packages
    are made and validated as a submitter's would be."""
    from leaderboard_inputs import registered

    with registered():
        yield


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


def invoke_cli(*args) -> CliResult:
    """Run ``dclm ...`` in this process (reusing a running Ray) and capture its output."""
    from dclm.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args] + ["--no-progress"])
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_cli(ray_session):
    return invoke_cli
