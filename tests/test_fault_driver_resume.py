"""A killed driver, then the same command again: only unfinished work is redone, same output.

1. ``dclm run`` over five real WARC shards: the fault hook holds the last
   shard just before its Parquet file is published while the other four
   finish; then the CLI process is SIGKILLed. The rerun processes only that
   shard (``stats.json`` lists the four others under ``shards_resumed``,
   their ledgers are not rewritten) and the output equals an uninterrupted
   run's.
2. A global dedup killed between its two phases (the hook SIGKILLs the
   driver right after phase ``decisions`` is stored): ``dclm dedup minhash``,
   and the ``bff_dedup`` step inside ``dclm run dclm_baseline``. The rerun
   reuses the stored phase (says so, and lists it under ``phases_reused``)
   instead of recomputing it, and the output equals an uninterrupted run's.
3. A stored phase counts only for the same inputs and parameters.

The embedded Ray runtime of a killed driver outlives it for up to a minute;
each run has its own session and Ray temp folder, so the test ends exactly
those processes (``CliProcess``).
"""
from __future__ import annotations

import os
import shutil

import pyarrow as pa
import pytest
from conftest import SAMPLE_DIR, invoke_cli
from fault_tools import CliProcess, OutputWatcher, comparable_tree, read_json, sample_shards, wait_for

from dclm.io import fault_hooks
from pipelines.deduplication import checkpoint as dedup_checkpoint

RUN_TIMEOUT_S = 480


def _assert_same_tree(out, reference) -> None:
    got, want = comparable_tree(out), comparable_tree(reference)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name


@pytest.mark.slow
def test_killed_driver_rerun_processes_only_unfinished_shards(tmp_path, ray_session):
    shards = sample_shards(tmp_path / "warc")
    names = [path.name[: -len(".warc.gz")] for path in shards]
    victim, others = names[-1], names[:-1]
    reference = tmp_path / "reference" / "out"
    command = ["run", "dclm_baseline_heuristics", "--input", *shards, "--output"]
    assert invoke_cli(*command, reference).code == 0

    out, markers = tmp_path / "resumed" / "out", tmp_path / "markers"
    env = {fault_hooks.PAUSE_ENV: f"out/data/{victim}.parquet", fault_hooks.FAULT_DIR_ENV: str(markers)}
    watcher = OutputWatcher(out)
    watcher.start()
    try:
        with CliProcess([*command, out], env=env) as first:
            wait_for(lambda: any(markers.glob("*.attempt-1.pid"))
                     and all((out / ".dclm" / "ledger" / f"{name}.json").exists() for name in others),
                     RUN_TIMEOUT_S, "four shards done and the fifth held", first)
            first.kill_driver()
            first.end_leftovers()
        assert (not (out / "data" / f"{victim}.parquet").exists()
                and not (out / ".dclm" / "ledger" / f"{victim}.json").exists())
        before = {name: (out / ".dclm" / "ledger" / f"{name}.json").stat().st_mtime_ns for name in others}
        with CliProcess([*command, out]) as second:
            assert second.wait(RUN_TIMEOUT_S) == 0, second.output()[-4000:]
            summary = second.output()
    finally:
        watcher.stop()
    assert f"shards: {len(names)} done ({len(others)} already complete, skipped)" in summary
    stats = read_json(out / ".dclm" / "stats.json")
    assert stats["shards_resumed"] == sorted(others) and stats["shards_done"] == len(names)
    assert {name: (out / ".dclm" / "ledger" / f"{name}.json").stat().st_mtime_ns for name in others} == before
    assert watcher.problems == [] and watcher.reads > 20
    _assert_same_tree(out, reference)


def _minhash_command(tmp_path) -> list:
    """``dclm dedup minhash`` over extracted sample shards plus the whole Readability WARC
    (so that every one of its pages is there twice)."""
    folder = tmp_path / "warc"
    sample_shards(folder)
    shutil.copyfile(SAMPLE_DIR / "CC-MAIN-DEV-00010.warc.gz", folder / "CC-MAIN-DEV-00010.warc.gz")
    assert invoke_cli("extract", folder, "--output", tmp_path / "extracted").code == 0
    return ["dedup", "minhash", "--input", tmp_path / "extracted"]


def _recipe_command(tmp_path) -> list:
    """DCLM-Baseline (heuristics, BFF, classifier, top 10%) over the sample shards."""
    return ["run", "dclm_baseline", "--input", *sample_shards(tmp_path / "warc")]


CASES = {
    # name: (command before --output, the dedup's folder inside the output)
    "dedup_minhash": (_minhash_command, "."),
    "recipe_bff_step": (_recipe_command, ".dclm/work/02_27_bff_dedup"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_dedup_killed_after_a_phase_resumes_from_it(tmp_path, ray_session, case):
    make_command, dedup_dir = CASES[case]
    command = make_command(tmp_path)
    reference = tmp_path / "reference" / "out"
    assert invoke_cli(*command, "--output", reference).code == 0

    out = tmp_path / "resumed" / "out"
    step = out / dedup_dir
    marker = step / ".dclm" / "phases" / "decisions.json"
    env = {fault_hooks.KILL_AFTER_PHASE_ENV: "decisions"}
    with CliProcess([*command, "--output", out], env=env) as first:
        code = first.wait(RUN_TIMEOUT_S)
        first.end_leftovers()
    assert code == -9, first.output()[-4000:]        # it killed itself right after the phase
    stored = read_json(marker)
    assert stored["phase"] == "decisions" and stored["seconds"]
    assert not any(step.glob("ledger/*.json"))       # no shard of the dedup was written
    watcher = OutputWatcher(out)
    watcher.start()
    try:
        with CliProcess([*command, "--output", out]) as second:
            assert second.wait(RUN_TIMEOUT_S) == 0, second.output()[-4000:]
            summary = second.output()
    finally:
        watcher.stop()
    assert f"reusing phase 'decisions' of an earlier run ({marker})" in summary
    stats = read_json(step / ".dclm" / "stats.json")
    assert stats["phases_reused"] == ["decisions"]
    # The global phases' seconds are the first run's, carried over: nothing recomputed them.
    assert {k: stats["stage_seconds"][k] for k in stored["seconds"]} == stored["seconds"]
    assert stats["global"] == stored["facts"]
    reference_stats = read_json(reference / dedup_dir / ".dclm" / "stats.json")
    assert reference_stats["phases_reused"] == [] and reference_stats["global"] == stats["global"]
    assert sum(sum(s["dropped"].values()) for s in stats["steps"]) > 0     # the dedup did remove pages
    assert not (step / ".dclm" / "phases").exists()
    if dedup_dir != ".":        # the recipe's first segment was complete: all of it skipped
        first_segment = read_json(out / ".dclm" / "work" / "01_local" / ".dclm" / "stats.json")
        assert len(first_segment["shards_resumed"]) == first_segment["shards_done"] == 5
    assert watcher.problems == []
    _assert_same_tree(out, reference)


def test_stored_phase_is_reused_only_for_the_same_inputs_and_parameters(tmp_path, ray_session):
    inputs = [str(p) for p in sample_shards(tmp_path / "warc", parts=2)]
    out, params = str(tmp_path / "out"), {"method": "exact", "column": "text"}
    results = [pa.table({"keep": [True, False], "reason": [None, "exact_duplicate"],
                         "duplicate_of": [None, f"<urn:uuid:{i}>"]}) for i in range(len(inputs))]
    refs = [ray_session.put(table) for table in results]
    dedup_checkpoint.store_decisions(out, inputs, refs, params, {"removed": 3}, {"keys": 0.5})
    stored = dedup_checkpoint.stored_decisions(out, inputs, params)
    assert stored["facts"] == {"removed": 3} and stored["seconds"] == {"keys": 0.5}
    for url, table in zip(inputs, results, strict=True):
        assert dedup_checkpoint.load_result(dedup_checkpoint.result_path(out, url)).equals(table)
    assert dedup_checkpoint.stored_decisions(out, inputs, {**params, "column": "url"}) is None
    assert dedup_checkpoint.stored_decisions(out, inputs[:-1], params) is None
    os.utime(inputs[0], ns=(0, 0))                  # an input rewritten since
    assert dedup_checkpoint.stored_decisions(out, inputs, params) is None
    dedup_checkpoint.store_decisions(out, inputs, refs, params, {"removed": 3}, {"keys": 0.5})
    assert dedup_checkpoint.stored_decisions(out, inputs, params) is not None
    os.remove(dedup_checkpoint.result_path(out, inputs[1]))      # a result deleted by hand
    assert dedup_checkpoint.stored_decisions(out, inputs, params) is None
    dedup_checkpoint.drop_checkpoints(out)
    assert not os.path.exists(dedup_checkpoint.phases_dir(out))
