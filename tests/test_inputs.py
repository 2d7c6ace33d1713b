"""Input resolution: files, directories, globs, warc.paths listings, fsspec URLs."""
from __future__ import annotations

import gzip
import json

import duckdb
import pytest
from conftest import SAMPLE_DIR

from dclm.errors import UsageError
from dclm.io.inputs import check_unique_names, resolve_inputs, shard_name


def test_files_directories_and_globs(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for rel in ("a/one.warc.gz", "a/b/two.warc", "a/notes.txt"):
        (tmp_path / rel).write_bytes(b"x")
    assert resolve_inputs([str(tmp_path / "a")]) == [str(tmp_path / "a/b/two.warc"), str(tmp_path / "a/one.warc.gz")]
    assert resolve_inputs([str(tmp_path / "a/*.warc.gz")]) == [str(tmp_path / "a/one.warc.gz")]
    same = str(tmp_path / "a/one.warc.gz")
    assert resolve_inputs([same, same]) == [same]


def test_paths_listing_with_prefix(tmp_path):
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(b"crawl-data/CC-MAIN-X/seg/warc/one.warc.gz\n\n/abs/two.warc.gz\n"))
    assert resolve_inputs([str(listing)]) == ["https://data.commoncrawl.org/crawl-data/CC-MAIN-X/seg/warc/one.warc.gz",
                                              "/abs/two.warc.gz"]
    assert resolve_inputs([str(listing)], paths_prefix="s3://commoncrawl/")[0].startswith("s3://commoncrawl/crawl")


def test_missing_inputs_are_named(tmp_path):
    with pytest.raises(UsageError, match="input not found: .*nope.warc.gz"):
        resolve_inputs([str(tmp_path / "nope.warc.gz")])
    with pytest.raises(UsageError, match="no file matches"):
        resolve_inputs([str(tmp_path / "*.warc.gz")])
    with pytest.raises(UsageError, match="listing not found"):
        resolve_inputs([str(tmp_path / "warc.paths")])


def test_output_names_and_collisions():
    assert shard_name("s3://b/x/CC-MAIN-1.warc.gz") == "CC-MAIN-1"
    assert shard_name("/x/y.warc.wet.gz") == "y"
    assert shard_name("/x/out.parquet") == "out"
    with pytest.raises(UsageError, match="same output name"):
        check_unique_names(["/a/x.warc.gz", "/b/x.warc.gz"])


def test_fsspec_urls_in_and_out(tmp_path, run_cli):
    sample = SAMPLE_DIR / "CC-MAIN-2020-34-sample.warc.gz"
    listing = tmp_path / "warc.paths"
    listing.write_text(sample.name + "\n")
    out = f"file://{tmp_path}/out"
    result = run_cli("extract", listing, "--paths-prefix", f"file://{SAMPLE_DIR}/", "--output", out)
    assert result.code == 0, result
    stats = json.loads((tmp_path / "out" / ".dclm" / "stats.json").read_text())
    assert stats["documents_in"] == 50 and stats["invariant_ok"]
    rows = duckdb.sql(f"SELECT count(*) FROM '{tmp_path}/out/data/CC-MAIN-2020-34-sample.parquet'").fetchall()
    assert rows[0][0] == stats["documents_out"] > 0


def test_a_stage_folder_stands_for_its_documents_in_either_layout(tmp_path):
    from dclm.io.inputs import resolve_document_inputs
    from dclm.io.parquet_shards import write_rows

    new, old = tmp_path / "new", tmp_path / "old"
    for folder in (new / "data", new / ".dclm" / "dropped", old / "dropped", old / "ledger"):
        folder.mkdir(parents=True)
    for path in (new / "data" / "a.parquet", new / ".dclm" / "dropped" / "a.parquet", old / "a.parquet",
                 old / "dropped" / "a.parquet"):
        write_rows(str(path), [{"id": "1", "text": "x"}])
    (old / "stats.json").write_text("{}")
    assert resolve_document_inputs([str(new)]) == [str(new / "data" / "a.parquet")]
    assert resolve_document_inputs([str(old)]) == [str(old / "a.parquet")]


def test_an_unreachable_input_is_one_line_before_any_work(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DCLM_REMOTE_RETRY_ATTEMPTS", "1")
    result = run_cli("filter", "--recipe", "raw", "--input", "http://127.0.0.1:9/x.jsonl", "--output", tmp_path / "o")
    assert result.code == 1, result
    assert "cannot read the input http://127.0.0.1:9/x.jsonl" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "o").exists()
