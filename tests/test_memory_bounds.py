"""A worker's memory is bounded and does not grow with its shard.

The documented bound (README, docs/scaling.md) is ``WORKER_BOUND_MIB`` of peak
resident memory for a shard task, whatever the shard's size. The shard
functions run in a fresh subprocess, as in a Ray worker (with the Arrow
allocator setting the executor gives workers), and report their own peak RSS.
Shards are built from the real pages of ``data/sample``, replicated with
variations: a 100,000-document Parquet shard for ``dclm filter`` and a WARC
with a 50 MB page for extraction.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO, SAMPLE_DIR

from dclm.io.parquet_shards import CORE_SCHEMA, ShardWriter, schema_for
from dclm.io.warc_records import Record, iter_archive
from dclm.runtime.ledger import ShardLedger
from pipelines.extract import MAX_HTML_BYTES, iter_extracted

WORKER_BOUND_MIB = 512          # the bound the README states
GROWTH_LIMIT_MIB = 64           # 10x the documents may cost allocator noise, not rows
# Enrichers add columns (so the kept file's schema is inferred while streaming),
# a filter drops short pages (so the dropped/ writer streams too), a modifier rewrites.
RECIPE = """\
- source: cc
  steps:
    - func: word_counter_enricher
      key: previous_word_count
    - func: page_length_filter
      length_type: word
      min_length: 50
      max_length: 100000
    - func: newline_removal_modifier
      max_consecutive: 2
    - func: word_counter_enricher
      key: word_count
"""


@pytest.fixture(scope="module")
def sample_pages() -> list[dict]:
    ledger = ShardLedger("sample", "extract", "", "")
    return [doc for warc in sorted(SAMPLE_DIR.glob("*.warc.gz"))
            for doc in iter_extracted(str(warc), warc.name, ledger)]


def _write_parquet_shard(path: Path, count: int, pages: list[dict]) -> None:
    """``count`` documents: sample pages, each rotated to a different paragraph and numbered."""
    with ShardWriter(str(path), CORE_SCHEMA) as writer:
        for i in range(count):
            page = pages[i % len(pages)]
            paragraphs = page["text"].split("\n")
            turn = (i * 7919) % len(paragraphs)
            text = f"Entry {i}.\n" + "\n".join(paragraphs[turn:] + paragraphs[:turn])[:2000]
            writer.write({**page, "id": f"<urn:uuid:{i:012d}>", "url": f"{page['url']}?copy={i}", "text": text})


def _peak_rss(function: str, job: dict) -> tuple[int, dict]:
    """Run ``pipelines.<function>(ShardJob(**job))`` in a fresh process; its peak RSS (MiB) and ledger."""
    script = ("import json, sys\nfrom dclm.runtime.executor import ShardJob\n"
              "from pipelines.extract import worker_peak_rss_mib\n"
              f"from pipelines.{function.rpartition('.')[0]} import {function.rpartition('.')[2]} as work\n"
              "ledger = work(ShardJob(**json.loads(sys.argv[1])))\n"
              "peak = worker_peak_rss_mib()\n"
              "print(json.dumps({'peak_mib': peak, 'ledger': ledger}))\n")
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}     # what dclm.runtime.executor gives workers
    done = subprocess.run([sys.executable, "-c", script, json.dumps(job)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["peak_mib"], result["ledger"]


def _job(name: str, source: Path, out: Path, **params) -> dict:
    return {"name": name, "input": str(source), "output": str(out / f"{name}.parquet"),
            "ledger": str(out / ".dclm" / "ledger" / f"{name}.json"), "params": params}


@pytest.mark.slow
def test_filter_memory_is_flat_from_10k_to_100k_documents(sample_pages, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    peaks = {}
    for count in (10_000, 100_000):
        source = tmp_path / f"in-{count}.parquet"
        _write_parquet_shard(source, count, sample_pages)
        out = tmp_path / f"out-{count}"
        peaks[count], ledger = _peak_rss("filter.filter_shard", _job(f"s{count}", source, out,
                                                                     recipe_path=str(recipe)))
        kept = pq.ParquetFile(out / f"s{count}.parquet")
        assert ledger["documents_in"] == count
        assert kept.metadata.num_rows == ledger["documents_out"] > 0.8 * count
        assert max(kept.metadata.row_group(i).num_rows for i in range(kept.num_row_groups)) <= 2048
        assert {"previous_word_count", "word_count"} <= set(kept.schema_arrow.names)
        dropped = pq.ParquetFile(out / ".dclm" / "dropped" / f"s{count}.parquet").metadata.num_rows
        assert dropped == count - ledger["documents_out"] == ledger["details"]["dropped_rows_written"]
        os.remove(source)
    assert peaks[100_000] < WORKER_BOUND_MIB, peaks
    # Gathering the kept rows, as before, took 180 -> 727 MiB on these shards.
    assert peaks[100_000] - peaks[10_000] < GROWTH_LIMIT_MIB, peaks


def _write_warc(path: Path, pages: list[tuple[str, bytes]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, html in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html),
                                                          http_headers=http, length=len(html)))


@pytest.mark.slow
def test_a_50_mb_page_is_skipped_by_size_and_memory_stays_bounded(tmp_path):
    """Pages over MAX_HTML_BYTES are dropped as ``too_large`` without being parsed; one just under
    the cap is extracted; the worker's peak stays under the bound either way."""
    payloads = [e.payload for e in iter_archive(str(SAMPLE_DIR / "CC-MAIN-DEV-00010.warc.gz"))
                if isinstance(e, Record) and e.rec_type == "response"]
    body = b"".join(payloads)
    huge = (b"<html><body>" + body * (50 * 10**6 // len(body) + 1))[:50 * 10**6]
    near_cap = (b"<html><body>" + body * (MAX_HTML_BYTES // len(body) + 1))[:MAX_HTML_BYTES - 1024]
    warc = tmp_path / "big.warc.gz"
    _write_warc(warc, [("https://small.example.org/", payloads[0]), ("https://huge.example.org/", huge),
                       ("https://near-cap.example.org/", near_cap), ("https://after.example.org/", payloads[1])])
    del huge, near_cap, body
    peak, ledger = _peak_rss("extract.extract_shard", _job("big", warc, tmp_path / "out", time_limit_s=60.0))
    step = ledger["steps"][0]
    assert step["dropped"] == {"too_large": 1}
    assert ledger["details"]["too_large_records"][0]["truncated"]           # reading stopped at 16 MiB
    urls = pq.read_table(tmp_path / "out" / "big.parquet", columns=["url"]).column("url").to_pylist()
    assert urls == ["https://small.example.org/", "https://near-cap.example.org/", "https://after.example.org/"]
    assert peak < WORKER_BOUND_MIB, peak


def test_a_column_first_seen_late_widens_the_file_to_the_whole_shard_schema(tmp_path):
    rows = [{"id": str(i), "text": f"page {i}", "score": None if i < 9 else i / 2,
             **({"lang": {"en": 0.5 + i / 100}} if i >= 12 else {}), "count": i} for i in range(15)]
    path = tmp_path / "late.parquet"
    with ShardWriter(str(path), rows_per_batch=4) as writer:
        for row in rows:
            writer.write(row)
    assert writer.rewrites == 2          # "score" gets its type at row 9, "lang" appears at row 12
    parquet = pq.ParquetFile(path)
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [4, 4, 4, 3]
    assert parquet.schema_arrow.equals(schema_for(rows), check_metadata=True)
    table = parquet.read()
    assert table.column("score").to_pylist() == [row["score"] for row in rows]
    assert json.loads(table.column("lang").to_pylist()[12]) == rows[12]["lang"]      # a JSON column
    assert table.column("lang").null_count == 12


def test_long_pages_cut_row_groups_by_text_size(tmp_path):
    path = tmp_path / "long.parquet"
    with ShardWriter(str(path), CORE_SCHEMA, batch_text_bytes=100_000) as writer:
        for i in range(10):
            writer.write({"id": str(i), "text": "x" * 40_000})
    parquet = pq.ParquetFile(path)
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [3, 3, 3, 1]


def test_a_shard_that_keeps_nothing_still_has_the_recipes_columns(tmp_path, sample_pages):
    """Top-fraction selection and `dclm select` read a column from every shard, empty ones included."""
    from dclm.runtime.executor import ShardJob
    from pipelines.filter import filter_shard

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.replace("min_length: 50", "min_length: 10000000"))
    source = tmp_path / "in.parquet"
    _write_parquet_shard(source, 20, sample_pages)
    ledger = filter_shard(ShardJob(**_job("empty", source, tmp_path / "out", recipe_path=str(recipe))))
    assert ledger["documents_out"] == 0
    schema = pq.read_schema(tmp_path / "out" / "empty.parquet")
    assert schema.names == list(CORE_SCHEMA.names) + ["previous_word_count", "word_count"]
    assert str(schema.field("word_count").type) == "int64"
