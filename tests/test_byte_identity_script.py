"""benchmarks/byte_identity.py: comparing manifests and normalizing JSON (no CLI runs)."""
from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "byte_identity.py"


@pytest.fixture(scope="module")
def bi():
    spec = importlib.util.spec_from_file_location("byte_identity", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _json_entry(bi, value):
    value = bi.normalize_json(value)
    return {"kind": "json", "sha256": bi.canonical_sha256(value), "value": value}


def _write(tmp_path, a, b) -> list[str]:
    """The two manifests as files, for ``compare`` on the command line."""
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    return [str(tmp_path / "a.json"), str(tmp_path / "b.json")]


def _manifest(bi):
    ledger = {"shard": "a", "documents_in": 10, "steps": [{"step": "extract", "kept": 7}]}
    return {"format": bi.FORMAT, "info": {"seconds": {"extract": 3.0}},
            "commands": {"extract": {
                "argv": ["extract", "x.warc.gz"], "exit_code": 0, "removed": [],
                "files": {"out/.dclm/ledger/a.json": _json_entry(bi, ledger),
                          "out/data/a.parquet": {"kind": "raw", "sha256": "1" * 64,
                                                 "parquet": {"rows": 7, "schema": "s",
                                                             "columns": {"id": "c1", "text": "c2"}}}}}}}


def test_ledger_normalization_drops_clock_and_host_fields_and_paths(bi, tmp_path):
    ledger = {"version": 1, "shard": "s", "seconds": 0.9, "wall_seconds": 8.3, "documents_in": 50,
              "input": "/data/shared/corpus/warc/s.warc.gz", "output": str(tmp_path / "out/data/s.parquet"),
              "steps": [{"step": "extract", "in": 50, "kept": 15, "seconds": 0.2}],
              "details": {"worker_peak_rss_mib": 209, "extractor": "resiliparse"},
              "last_session": {"seconds": 1.2, "steps": 12, "tokens_per_s": 4948.0},
              "environment": {"python": "3.11.7"}, "creation_date": "2026_12_06-00_06_15"}
    replacements = bi.path_replacements(tmp_path, Path("/repo"), Path("/data/shared"))
    assert bi.normalize_json(ledger, replacements) == {
        "version": 1, "shard": "s", "documents_in": 50,
        "input": "<SHARED>/corpus/warc/s.warc.gz", "output": "<WORK>/out/data/s.parquet",
        "steps": [{"step": "extract", "in": 50, "kept": 15}],
        "details": {"extractor": "resiliparse"}, "last_session": {"steps": 12}}
    # Two runs that differ only in clock fields hash the same; a count does not.
    other = copy.deepcopy(ledger)
    other["seconds"], other["steps"][0]["seconds"], other["details"]["worker_peak_rss_mib"] = 5.0, 3.1, 250
    digest = bi.canonical_sha256(bi.normalize_json(ledger, replacements))
    assert bi.canonical_sha256(bi.normalize_json(other, replacements)) == digest
    other["steps"][0]["kept"] = 14
    assert bi.canonical_sha256(bi.normalize_json(other, replacements)) != digest


def test_describe_file_normalizes_json_and_hashes_other_bytes(bi, tmp_path):
    (tmp_path / "stats.json").write_text(json.dumps({"b": 1, "wall_seconds": 2.0, "a": [1, 2]}))
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 2.5}\n{"step": 2, "loss": 2.1}\n')
    (tmp_path / "shard.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd raw")
    stats = bi.describe_file(tmp_path / "stats.json", [])
    assert stats["value"] == {"b": 1, "a": [1, 2]}
    assert stats["sha256"] == bi.canonical_sha256({"a": [1, 2], "b": 1})      # key order does not matter
    assert bi.describe_file(tmp_path / "metrics.jsonl", [])["value"] == [{"step": 1, "loss": 2.5},
                                                                         {"step": 2, "loss": 2.1}]
    raw = bi.describe_file(tmp_path / "shard.jsonl.zst", [])
    assert raw["kind"] == "raw" and raw["sha256"] == bi.file_sha256(tmp_path / "shard.jsonl.zst")


def test_identical_manifests_compare_equal_whatever_the_timings(bi, tmp_path):
    a, b = _manifest(bi), _manifest(bi)
    b["info"] = {"seconds": {"extract": 99.0}, "repo": "/elsewhere"}
    assert bi.manifest_differences(a, b) == []
    assert bi.main(["compare", *_write(tmp_path, a, b)]) == 0


def test_each_difference_is_named_by_file_and_field(bi, tmp_path, capsys):
    a, b = _manifest(bi), _manifest(bi)
    files = b["commands"]["extract"]["files"]
    ledger = copy.deepcopy(files["out/.dclm/ledger/a.json"]["value"])
    ledger["steps"][0]["kept"] = 6
    files["out/.dclm/ledger/a.json"] = _json_entry(bi, ledger)
    files["out/data/a.parquet"] = {"kind": "raw", "sha256": "2" * 64,
                                   "parquet": {"rows": 7, "schema": "s", "columns": {"id": "c1", "text": "c3"}}}
    files["out/extra.json"] = _json_entry(bi, {})
    b["commands"]["extract"]["exit_code"] = 2
    b["commands"]["dedup"] = {"argv": [], "exit_code": 0, "removed": [], "files": {}}
    assert bi.manifest_differences(a, b) == [
        "dedup: command only in B",
        "extract: exit_code: 0 != 2",
        "out/.dclm/ledger/a.json: steps[0].kept: 7 != 6",
        "out/data/a.parquet: sha256 differs: column text",
        "out/extra.json: written only in B",
    ]
    assert bi.main(["compare", *_write(tmp_path, a, b)]) == 1
    assert "steps[0].kept: 7 != 6" in capsys.readouterr().out


def test_parquet_bytes_that_differ_with_equal_values_say_so(bi):
    summary = {"rows": 3, "schema": "s", "columns": {"text": "c"}}
    a = {"kind": "raw", "sha256": "1" * 64, "parquet": summary}
    b = {"kind": "raw", "sha256": "2" * 64, "parquet": dict(summary)}
    assert bi.file_differences("x.parquet", a, b) == [
        "x.parquet: sha256 differs: file bytes only (same rows, schema and column values)"]


def test_json_differences_report_missing_keys_and_list_lengths(bi):
    found = list(bi.json_differences({"a": 1, "b": [1, 2]}, {"b": [1], "c": True}))
    assert found == [("a", 1, "<absent>"), ("b[1]", 2, "<absent>"), ("c", "<absent>", True)]
    assert list(bi.json_differences({"x": 1}, {"x": 1.0})) == [("x", 1, 1.0)]


def test_the_scale_table_is_found_by_reading_the_source(bi, tmp_path):
    (tmp_path / "pkg" / "training").mkdir(parents=True)
    (tmp_path / "pkg" / "training" / "scales.py").write_text("SCALES: dict[str, int] = {}\n")
    (tmp_path / "pkg" / "a.py").write_text("OTHER_SCALES = {}\n\ndef f():\n    SCALES = {}\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "a.py").write_text("SCALES = {}\n")
    assert bi.module_defining(tmp_path, "pkg", "SCALES") == "pkg.training.scales"
