"""A Ray worker killed in the middle of a shard: Ray redoes the shard, the output is unchanged.

``dclm run dclm_baseline_heuristics`` runs as a subprocess over five real
WARC shards. The fault hook (``dclm.io.fault_hooks``) stops the worker that is
about to publish one shard's Parquet file — its temporary copy written, the
rename not done — and records its pid; the test SIGKILLs that pid. Ray
retries the task on a fresh worker (``max_retries``), the run exits 0, and
its Parquet files, ledgers and stats equal those of an uninterrupted run
(JSON compared without wall-clock fields). Meanwhile a watcher reads every
visible file of the output folder ten times a second: none is ever partial.
"""
from __future__ import annotations

import os
import signal

import pytest
from conftest import invoke_cli
from fault_tools import (
    CliProcess,
    OutputWatcher,
    alive,
    cmdline,
    comparable_tree,
    read_json,
    sample_shards,
    session_of,
    wait_for,
)

from dclm.io import fault_hooks

pytestmark = pytest.mark.slow

RECIPE = "dclm_baseline_heuristics"
RUN_TIMEOUT_S = 480


def test_killed_worker_shard_is_redone_identically(tmp_path, ray_session):
    shards = sample_shards(tmp_path / "warc")
    victim = shards[0].name[: -len(".warc.gz")]
    reference = tmp_path / "reference" / "out"
    done = invoke_cli("run", RECIPE, "--input", *shards, "--output", reference)
    assert done.code == 0, done

    out, markers = tmp_path / "faulty" / "out", tmp_path / "markers"
    pause = f"out/data/{victim}.parquet"
    first = markers / f"{fault_hooks.marker_name(pause)}.attempt-1.pid"
    second = markers / f"{fault_hooks.marker_name(pause)}.attempt-2.pid"
    env = {fault_hooks.PAUSE_ENV: pause, fault_hooks.FAULT_DIR_ENV: str(markers)}
    watcher = OutputWatcher(out)
    with CliProcess(["run", RECIPE, "--input", *shards, "--output", out], env=env) as run:
        watcher.start()
        try:
            wait_for(first.exists, RUN_TIMEOUT_S, "the worker to reach the pause", run)
            pid = int(wait_for(lambda: first.read_text(), 10, "the pid in the marker"))
            # It is a Ray worker of this run (its session), not the driver, running
            # this shard's task (Ray titles it ray::<function>:<shard>), and it is
            # mid-shard: the temporary copy exists, the final name does not.
            assert pid != run.pid and session_of(pid) == run.pid
            assert cmdline(pid).startswith(f"ray::run_shard:{victim}")
            temps = [p.name for p in (out / "data").iterdir() if p.name.startswith(f".{victim}.parquet.tmp-")]
            assert temps and not (out / "data" / f"{victim}.parquet").exists()
            os.kill(pid, signal.SIGKILL)
            code = run.wait(RUN_TIMEOUT_S)
        finally:
            watcher.stop()
        assert code == 0, run.output()[-4000:]
        assert f"redone after their worker died: {victim} (1x)" in run.output()
        assert not alive(pid)

    # Ray ran the shard again on another worker, which passed the same point.
    assert second.exists() and int(second.read_text()) != pid
    stats = read_json(out / ".dclm" / "stats.json")
    assert stats["shards_retried"] == {victim: 1}
    assert stats["shards_resumed"] == [] and stats["shards_failed"] == {}
    # Nothing visible was ever partial, and the watcher did look (also at temp files).
    assert watcher.problems == []
    assert watcher.reads > 20 and any(name.startswith(f".{victim}.parquet.tmp-") for name in watcher.temps_seen)
    # No temporary file is left, and everything equals the uninterrupted run:
    # Parquet byte for byte, ledgers and stats without their seconds.
    faulty, clean = comparable_tree(out), comparable_tree(reference)
    assert sorted(faulty) == sorted(clean)
    for name in clean:
        assert faulty[name] == clean[name], name
    ledger = read_json(out / ".dclm" / "ledger" / f"{victim}.json")
    assert ledger["documents_in"] > 0 and ledger["steps"][0]["step"] == "extract"
