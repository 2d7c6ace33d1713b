"""Failed shards: "rerun to retry" only where a rerun can help (timeouts, lost workers, storage errors)."""
from __future__ import annotations

import json
import shutil

from conftest import WARC_DIR

from dclm.runtime.executor import ShardJob, _shard_task
from dclm.runtime.shard_failures import is_retriable
from pipelines.extract import extract_shard

RERUN = "rerun the same command to retry"


def _failure_through_ray(input_url: str, tmp_path) -> BaseException:
    import ray

    job = ShardJob(name="x", input=input_url, output=str(tmp_path / "x.parquet"),
                   ledger=str(tmp_path / "ledger" / "x.json"), params={})
    try:
        ray.get(ray.remote(_shard_task).options(max_retries=0).remote(extract_shard, job))
    except Exception as exc:    # what the driver receives: Ray's wrapper of the worker's exception
        return exc
    raise AssertionError("the shard did not fail")


def test_storage_error_is_retriable_and_a_non_warc_is_not(ray_session, tmp_path):
    refused = _failure_through_ray("http://127.0.0.1:9/shard.warc.gz", tmp_path)   # nothing listens on port 9
    assert "cannot open" in str(refused) and is_retriable(refused)
    not_warc = tmp_path / "notes.warc.gz"
    not_warc.write_bytes(b"just some text\n")
    wrong = _failure_through_ray(str(not_warc), tmp_path)
    assert "not a WARC/ARC file" in str(wrong) and not is_retriable(wrong)


def test_summary_says_to_rerun_only_for_retriable_failures(corpus, tmp_path, run_cli):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bogus.warc.gz").write_bytes(b"this is not an archive\n")
    (folder / "empty.warc.gz").write_bytes(b"")
    shutil.copy(WARC_DIR / "CC-MAIN-2014-35-sample.warc.gz", folder)
    out = tmp_path / "out"
    result = run_cli("extract", "--input", folder, "--output", out)
    assert result.code == 2
    assert RERUN not in result.out
    assert "Shards bogus, empty will fail the same way again" in result.out
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert sorted(stats["shards_failed"]) == ["bogus", "empty"] and stats["shards_failed_retriable"] == []


def test_failure_advice_names_each_kind():
    from dclm.runtime.stage import failure_advice

    lines = failure_advice(["a", "b"], {"a"})
    assert any(line.startswith("Shard a failed for a passing reason") and RERUN in line for line in lines)
    assert any(line.startswith("Shard b will fail the same way again") for line in lines)
    assert failure_advice([], set()) == []
