"""Curated output opens with the usual one-liners; DCLM-pool JSONL goes in and out; bad input is refused cleanly."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from tests.conftest import SAMPLE_DIR, invoke_cli


@pytest.fixture(scope="module")
def curated(tmp_path_factory, ray_session) -> dict[str, Path]:
    """The bundled sample through RefinedWeb, once as Parquet and once as each JSONL format."""
    base = tmp_path_factory.mktemp("interop")
    outputs = {}
    for fmt in ("parquet", "jsonl.zst", "jsonl.gz"):
        out = base / fmt.replace(".", "_")
        result = invoke_cli("run", "refinedweb", "--input", SAMPLE_DIR, "--output", out, "--output-format", fmt)
        assert result.code == 0, result
        outputs[fmt] = out
    return outputs


def _texts(values) -> list[str]:
    return sorted(values)


def test_every_loader_reads_the_parquet_output_the_same(curated, tmp_path):
    import datasets
    import duckdb
    import pandas as pd
    import polars as pl
    import ray

    out = curated["parquet"]
    data = out / "data"
    assert sorted(p.name for p in out.iterdir()) == [".dclm", "data"]
    expected = _texts(pq.read_table(data).column("text").to_pylist())
    assert len(expected) > 20
    cache = str(tmp_path / "hf")
    loaded = {
        "datasets(data_dir=OUT)": datasets.load_dataset("parquet", data_dir=str(out), split="train",
                                                        cache_dir=cache)["text"],
        "datasets(data_dir=OUT/data)": datasets.load_dataset("parquet", data_dir=str(data), split="train",
                                                             cache_dir=cache)["text"],
        "pandas(OUT)": pd.read_parquet(out)["text"].tolist(),
        "pandas(OUT/data)": pd.read_parquet(data)["text"].tolist(),
        "polars(OUT/data/*.parquet)": pl.read_parquet(f"{data}/*.parquet")["text"].to_list(),
        "polars(OUT/data)": pl.read_parquet(data)["text"].to_list(),
        "duckdb(OUT/data/**/*.parquet)": [r[0] for r in duckdb.sql(
            f"select text from '{data}/**/*.parquet'").fetchall()],
        "duckdb(OUT/*/*.parquet)": [r[0] for r in duckdb.sql(f"select text from '{out}/*/*.parquet'").fetchall()],
        "ray.data(OUT)": [r["text"] for r in ray.data.read_parquet(str(out)).take_all()],
    }
    for how, texts in loaded.items():
        assert _texts(texts) == expected, how


@pytest.mark.parametrize("fmt", ["jsonl.zst", "jsonl.gz"])
def test_jsonl_output_is_dclm_layout_and_loads_with_datasets(curated, tmp_path, fmt):
    import datasets

    parquet_texts = _texts(pq.read_table(curated["parquet"] / "data").column("text").to_pylist())
    files = sorted(str(p) for p in (curated[fmt] / "data").glob(f"*.{fmt}"))
    assert len(files) == 2
    loaded = datasets.load_dataset("json", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert _texts(loaded["text"]) == parquet_texts
    # DCLM's layout: text, url and metadata (an object) at the top of every line.
    opener = zstandard.open if fmt.endswith("zst") else __import__("gzip").open
    with opener(files[0], "rt", encoding="utf-8") as fh:
        first = json.loads(fh.readline())
    assert {"text", "url", "metadata", "id"} <= first.keys() and isinstance(first["metadata"], dict)
    ledger = json.loads((curated[fmt] / ".dclm" / "ledger" / (Path(files[0]).name[: -len(fmt) - 1] + ".json"))
                        .read_text())
    assert ledger["output"] == files[0]


def _dclm_pool_records(parquet_dir: Path) -> list[dict]:
    """Extracted pages in DCLM-pool's shape: no id, no top-level url, WARC headers under metadata."""
    records = []
    for row in pq.read_table(parquet_dir).to_pylist():
        metadata = json.loads(row["metadata"])
        records.append({"text": row["text"],
                        "metadata": {"WARC-Type": "conversion", "WARC-Record-ID": row["id"],
                                     "WARC-Target-URI": row["url"], "WARC-Date": row["date"],
                                     "Content-Type": metadata.get("http_content_type", "text/html")}})
    return records


@pytest.mark.slow
def test_dclm_pool_jsonl_and_the_same_documents_as_parquet_keep_the_same_texts(corpus, tmp_path, run_cli):
    extracted = tmp_path / "extracted"
    warcs = sorted((corpus / "warc").glob("CC-MAIN-DEV-0000[01].warc.gz"))
    assert run_cli("extract", *warcs, "--output", extracted).code == 0
    records = _dclm_pool_records(extracted / "data")
    assert len(records) > 100
    pool = tmp_path / "pool" / "shard_00000000_processed.jsonl.zst"
    pool.parent.mkdir()
    pool.write_bytes(zstandard.ZstdCompressor().compress(
        b"".join(json.dumps(r).encode() + b"\n" for r in records)))
    as_parquet = tmp_path / "pool_parquet" / "shard_00000000_processed.parquet"
    as_parquet.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(records), as_parquet)       # metadata becomes a struct column here

    kept = {}
    for name, source in (("jsonl", pool), ("parquet", as_parquet)):
        out = tmp_path / f"out_{name}"
        result = run_cli("filter", "--recipe", "dclm_baseline_heuristics", "--input", source, "--output", out)
        assert result.code == 0, result
        kept[name] = pq.read_table(out / "data").select(["id", "url", "text"]).to_pylist()
        ledger = json.loads((out / ".dclm" / "ledger" / "shard_00000000_processed.json").read_text())
        assert ledger["details"]["input"]["id_from"] == {"metadata.WARC-Record-ID": len(records)}
        assert ledger["details"]["input"]["url_from"] == {"metadata.WARC-Target-URI": len(records)}
    assert kept["jsonl"] == kept["parquet"]
    assert 0 < len(kept["jsonl"]) < len(records)
    assert {row["id"] for row in kept["jsonl"]} <= {r["metadata"]["WARC-Record-ID"] for r in records}


def _lines(*records: str) -> bytes:
    return "".join(r + "\n" for r in records).encode()


def test_bad_lines_are_counted_in_the_ledger_and_the_shard_goes_on(tmp_path, run_cli):
    source = tmp_path / "in" / "mixed.jsonl.gz"
    source.parent.mkdir()
    import gzip

    source.write_bytes(gzip.compress(_lines(json.dumps({"text": "A first line of text that is kept."}),
                                            '{"text": "cut off',
                                            json.dumps({"url": "https://no-text.example"}),
                                            json.dumps({"text": "A last line of text that is kept."}))))
    out = tmp_path / "out"
    result = run_cli("filter", "--recipe", "raw", "--input", source, "--output", out)
    assert result.code == 0, result
    assert pq.read_table(out / "data" / "mixed.parquet").column("text").to_pylist() == [
        "A first line of text that is kept.", "A last line of text that is kept."]
    ledger = json.loads((out / ".dclm" / "ledger" / "mixed.json").read_text())
    read = ledger["steps"][0]
    assert (read["in"], read["kept"], sum(read["errors"].values())) == (4, 2, 2)
    assert [item["line"] for item in ledger["details"]["input"]["skipped_lines"]] == [2, 3]


def test_a_truncated_zstd_shard_fails_alone_with_one_line_and_no_rerun_advice(tmp_path, run_cli):
    good = tmp_path / "in" / "good.jsonl.zst"
    good.parent.mkdir()
    good.write_bytes(zstandard.ZstdCompressor().compress(_lines(json.dumps({"text": "Kept text."}))))
    whole = zstandard.ZstdCompressor().compress(
        _lines(*(json.dumps({"text": f"line {i} " * 30}) for i in range(300))))
    (tmp_path / "in" / "cut.jsonl.zst").write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out"
    result = run_cli("filter", "--recipe", "raw", "--input", tmp_path / "in", "--output", out)
    assert result.code == 2, result
    assert "Traceback" not in result.out + result.err
    failed = [line for line in result.out.splitlines() if line.startswith("FAILED cut")]
    assert len(failed) == 1 and "cut.jsonl.zst" in failed[0] and "truncated" in failed[0]
    assert "rerun the same command to retry" not in result.out
    assert sorted(p.name for p in (out / "data").iterdir()) == ["good.parquet"]


def test_a_file_in_no_known_format_fails_its_shard_without_rerun_advice(tmp_path, run_cli):
    source = tmp_path / "notes.jsonl"
    source.write_text("these are notes, not JSON lines\n")
    result = run_cli("filter", "--recipe", "raw", "--input", source, "--output", tmp_path / "out")
    assert result.code == 2, result
    assert "not a format dclm reads" in result.out and "Traceback" not in result.out + result.err
    assert "rerun the same command to retry" not in result.out


def test_an_output_path_that_is_a_file_is_refused_and_left_alone(tmp_path, run_cli):
    source = tmp_path / "docs.jsonl"
    source.write_text(json.dumps({"text": "Some text."}) + "\n")
    target = tmp_path / "taken.txt"
    target.write_text("precious")
    for extra in ((), ("--force",)):
        result = run_cli("filter", "--recipe", "raw", "--input", source, "--output", target, *extra)
        assert result.code == 1, result
        assert "is a file" in result.err and "Traceback" not in result.err
        assert target.read_text() == "precious"


def test_dedup_and_select_read_jsonl_and_write_jsonl(tmp_path, run_cli):
    source = tmp_path / "pool.jsonl"
    docs = [{"text": "The same words in the same order, a duplicate.", "url": f"https://d.example/{i}",
             "metadata": {"WARC-Record-ID": f"<urn:{i}>"}, "score": i / 10} for i in range(3)]
    docs.append({"text": "Something else entirely, written only once.", "url": "https://e.example/",
                 "metadata": {"WARC-Record-ID": "<urn:9>"}, "score": 0.9})
    source.write_text("".join(json.dumps(d) + "\n" for d in docs))
    deduped = tmp_path / "deduped"
    result = run_cli("dedup", "exact", "--input", source, "--output", deduped, "--output-format", "jsonl.zst")
    assert result.code == 0, result
    with zstandard.open(deduped / "data" / "pool.jsonl.zst", "rt") as fh:
        kept = [json.loads(line) for line in fh]
    assert [d["id"] for d in kept] == ["<urn:0>", "<urn:9>"]
    assert kept[0]["metadata"] == {"WARC-Record-ID": "<urn:0>"}
    selected = tmp_path / "selected"
    result = run_cli("select", "--input", deduped, "--where", "score > 0.5", "--output", selected)
    assert result.code == 0, result
    assert pq.read_table(selected / "data").column("id").to_pylist() == ["<urn:9>"]


def test_whole_table_stages_count_unreadable_lines_in_a_read_step(tmp_path, run_cli):
    source = tmp_path / "scored.jsonl"
    source.write_text(json.dumps({"text": "Good.", "score": 0.9}) + "\n" + "{oops\n"
                      + json.dumps({"text": "Also good.", "score": 0.1}) + "\n")
    out = tmp_path / "selected"
    result = run_cli("select", "--input", source, "--where", "score > 0.5", "--output", out)
    assert result.code == 0, result
    ledger = json.loads((out / ".dclm" / "ledger" / "scored.json").read_text())
    read, where = ledger["steps"]
    assert (read["step"], read["in"], read["kept"], sum(read["errors"].values())) == ("read", 3, 2, 1)
    assert (where["in"], where["kept"]) == (2, 1)
    assert [item["line"] for item in ledger["details"]["input"]["skipped_lines"]] == [2]
    assert json.loads((out / ".dclm" / "stats.json").read_text())["invariant_ok"]


def test_the_report_measures_jsonl_output_as_it_does_parquet(curated):
    from dclm.report.collect import collect_stage

    measured = {fmt: collect_stage(str(out)).segments[-1].kept for fmt, out in curated.items()}
    assert measured["parquet"].total_words > 10_000
    for fmt in ("jsonl.zst", "jsonl.gz"):
        assert (measured[fmt].documents, measured[fmt].total_words, measured[fmt].total_bytes) == (
            measured["parquet"].documents, measured["parquet"].total_words, measured["parquet"].total_bytes)
        assert measured[fmt].languages == measured["parquet"].languages


@pytest.mark.parametrize("method", ["minhash", "bff"])
def test_near_duplicate_methods_read_jsonl(tmp_path, run_cli, method):
    paragraph = ("This paragraph about the old mill by the river is written out in full on every copy of "
                 "the page, so that its word n-grams are shared by all of them. ") * 3
    docs = [{"text": f"{paragraph}\nA closing line number {i}.", "url": f"https://mill.example/{i}"}
            for i in range(4)]
    docs.append({"text": "An unrelated note about tide tables and the harbour at dawn, written once.",
                 "url": "https://tide.example/"})
    source = tmp_path / "pool.jsonl.zst"
    source.write_bytes(zstandard.ZstdCompressor().compress(_lines(*(json.dumps(d) for d in docs))))
    out = tmp_path / method
    result = run_cli("dedup", method, "--input", source, "--output", out)
    assert result.code == 0, result
    kept = pq.read_table(out / "data" / "pool.parquet")
    assert "https://tide.example/" in kept.column("url").to_pylist()
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert stats["documents_in"] == 5 and stats["invariant_ok"]
    # minhash drops the copies; bff keeps their first copy and removes the repeated paragraph from the rest
    assert kept.num_rows < 5 or any(len(t) < len(docs[1]["text"]) for t in kept.column("text").to_pylist())


def test_scoring_and_tokenizing_read_dclm_pool_jsonl(tmp_path, run_cli):
    docs = [{"text": f"Document {i}: " + "how to plant tomatoes in spring, step by step, with watering advice. " * 12,
             "metadata": {"WARC-Record-ID": f"<urn:{i}>", "WARC-Target-URI": f"https://garden.example/{i}"}}
            for i in range(6)]
    source = tmp_path / "pool.jsonl.zst"
    source.write_bytes(zstandard.ZstdCompressor().compress(_lines(*(json.dumps(d) for d in docs))))
    scored = tmp_path / "scored"
    result = run_cli("classifier", "score", "--input", source, "--output", scored, "--output-format", "jsonl.zst")
    assert result.code == 0, result
    with zstandard.open(scored / "data" / "pool.jsonl.zst", "rt") as fh:
        rows = [json.loads(line) for line in fh]
    assert [r["id"] for r in rows] == [f"<urn:{i}>" for i in range(6)]
    assert all(0.0 <= r["fasttext_hq_prob"] <= 1.0 for r in rows)
    assert rows[0]["url"] == "https://garden.example/0" and rows[0]["metadata"]["WARC-Record-ID"] == "<urn:0>"
    tokens = tmp_path / "tokens"
    result = run_cli("tokenize", "--input", scored, "--scale", "micro", "--output", tokens)
    assert result.code == 0, result
    manifest = json.loads((tokens / "manifest.json").read_text())
    assert manifest["documents"] == 6
