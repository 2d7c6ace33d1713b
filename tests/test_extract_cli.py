"""``dclm extract`` end to end on the shared corpus: outputs, ledger, resume, determinism, bad input."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys

import duckdb
import polars
import pytest
from conftest import SAMPLE_DIR, TORTURE_DIR, WARC_DIR, invoke_cli

from dclm.io.warc_records import Record, iter_archive


def _digests(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((directory / "data").glob("*.parquet"))}


@pytest.fixture(scope="module")
def corpus_output(tmp_path_factory, ray_session):
    out = tmp_path_factory.mktemp("extract") / "out"
    result = invoke_cli("extract", WARC_DIR, "--output", out)
    return out, result


def test_one_parquet_per_warc_and_duckdb_counts_them(corpus, corpus_output):
    out, result = corpus_output
    assert result.code == 0, result
    warcs = sorted(WARC_DIR.glob("*.warc.gz"))
    assert sorted(p.stem for p in (out / "data").glob("*.parquet")) == sorted(p.name[:-len(".warc.gz")] for p in warcs)
    ((count,),) = duckdb.sql(f"SELECT count(*) FROM '{out}/data/*.parquet'").fetchall()
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert count == stats["documents_out"] > 1200
    assert stats["invariant_ok"] and stats["shards_failed"] == {}
    assert polars.read_parquet(out / "data" / "*.parquet").height == count


def test_every_html_response_with_text_is_written(corpus, corpus_output):
    out, _ = corpus_output
    for warc in sorted(WARC_DIR.glob("*.warc.gz")):
        name = warc.name[:-len(".warc.gz")]
        ledger = json.loads((out / ".dclm" / "ledger" / f"{name}.json").read_text())
        step = ledger["steps"][0]
        responses = sum(1 for e in iter_archive(str(warc)) if isinstance(e, Record) and e.rec_type == "response")
        assert ledger["details"]["responses"] == responses
        not_written = sum(n for reason, n in step["dropped"].items()
                          if reason == "empty_text" or reason.startswith("not_html"))
        assert step["kept"] == responses - not_written - sum(step["errors"].values())
        assert step["in"] == step["kept"] + sum(step["dropped"].values()) + sum(step["errors"].values())
        ids = duckdb.sql(f"SELECT id FROM '{out / 'data' / (name + '.parquet')}'").fetchall()
        # Record IDs are not always unique: DEV-00011 holds one page twice under one ID.
        assert len(ids) == step["kept"]


def test_extraction_fallbacks_are_counted_per_shard_and_summed(corpus, corpus_output):
    out, _ = corpus_output
    per_shard = [json.loads(p.read_text())["details"]["extract_fallbacks"]
                 for p in (out / ".dclm" / "ledger").glob("*.json")]
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert len(per_shard) == 14 and stats["extract_fallbacks"] == sum(per_shard)
    # The safety net is for pages pruning would empty, not a second extractor.
    assert stats["extract_fallbacks"] <= 0.01 * stats["documents_out"]


def test_resiliparse_bare_is_dclms_extraction(corpus, tmp_path, run_cli):
    from resiliparse.extract.html2text import extract_plain_text

    from dclm.extract.html_text import decode_html

    sample = WARC_DIR / "CC-MAIN-2014-35-sample.warc.gz"
    out = tmp_path / "bare"
    assert run_cli("extract", sample, "--output", out, "--extractor", "resiliparse-bare").code == 0
    texts = [r[0] for r in duckdb.sql(f"SELECT text FROM '{out}/data/*.parquet'").fetchall()]
    expected = [extract_plain_text(decode_html(e.payload, e.content_type), main_content=True).strip()
                for e in iter_archive(str(sample)) if isinstance(e, Record) and e.rec_type == "response"]
    assert texts and texts == [t for t in expected if t]
    assert json.loads((out / ".dclm" / "stats.json").read_text())["extract_fallbacks"] == 0


def test_schema_and_record_order(corpus, corpus_output):
    out, _ = corpus_output
    path = out / "data" / "CC-MAIN-2020-34-sample.parquet"
    rows = duckdb.sql(f"SELECT id, url, text, source, date, metadata FROM '{path}'").fetchall()
    assert [r[3] for r in rows] == ["CC-MAIN-2020-34-sample.warc.gz"] * len(rows)
    offsets = [int(json.loads(r[5])["warc_record_offset"]) for r in rows]
    assert offsets == sorted(offsets)
    assert all(r[0].startswith("<urn:uuid:") and r[1].startswith("http") and r[2] for r in rows)
    types = dict(duckdb.sql(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{path}')").fetchall())
    # No Arrow map anywhere (HF datasets cannot load one): metadata is a JSON object in a string.
    assert types["metadata"] == "VARCHAR" and types["text"] == "VARCHAR"


def test_rerun_does_no_work_and_fresh_run_is_byte_identical(corpus, corpus_output, tmp_path, run_cli):
    out, _ = corpus_output
    before = _digests(out)
    again = run_cli("extract", WARC_DIR, "--output", out)
    assert again.code == 0
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert len(stats["shards_resumed"]) == 14
    assert "14 already complete" in again.out
    assert _digests(out) == before
    fresh = tmp_path / "fresh"
    assert run_cli("extract", WARC_DIR / "CC-MAIN-DEV-00003.warc.gz", "--output", fresh).code == 0
    assert _digests(fresh)["CC-MAIN-DEV-00003.parquet"] == before["CC-MAIN-DEV-00003.parquet"]


def test_torture_archives_never_crash(corpus, tmp_path, run_cli):
    out = tmp_path / "torture"
    result = run_cli("extract", *sorted(TORTURE_DIR.iterdir()), "--output", out)
    assert result.code == 0, result
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert stats["invariant_ok"] and stats["shards_done"] == 12
    ledger = json.loads((out / ".dclm" / "ledger" / "warcio-example-wrong-chunks.json").read_text())
    assert ledger["details"]["malformed_records"][0]["offset"] == 516
    assert ledger["steps"][0]["errors"] == {"malformed_record": 1}
    # The response's payload sits past the broken chunk boundary, so its text is empty.
    assert ledger["details"]["record_types"]["response"] == 1
    assert ledger["steps"][0]["dropped"]["empty_text"] == 1
    clipped = json.loads((out / ".dclm" / "ledger" / "resiliparse-clipped.json").read_text())
    assert clipped["details"]["clipped_records"][0]["missing_bytes"] > 0


def test_non_warc_file_is_a_named_failed_shard_and_is_retried(corpus, tmp_path, run_cli):
    bogus = tmp_path / "in" / "bogus.warc.gz"
    bogus.parent.mkdir()
    bogus.write_bytes(b"this is not an archive\n")
    shutil.copy(WARC_DIR / "CC-MAIN-2014-35-sample.warc.gz", bogus.parent)
    out = tmp_path / "out"
    result = run_cli("extract", bogus.parent, "--output", out)
    assert result.code == 2
    assert "FAILED bogus: ShardError" in result.out and "not a WARC/ARC file" in result.out
    assert not (out / "data" / "bogus.parquet").exists()
    assert (out / "data" / "CC-MAIN-2014-35-sample.parquet").exists()
    retry = run_cli("extract", bogus.parent, "--output", out)
    assert retry.code == 2 and "1 already complete" in retry.out


def test_missing_input_and_empty_directory_are_usage_errors(tmp_path, run_cli):
    result = run_cli("extract", tmp_path / "nowhere.warc.gz", "--output", tmp_path / "o")
    assert result.code == 1 and "input not found" in result.err
    (tmp_path / "emptydir").mkdir()
    result = run_cli("extract", tmp_path / "emptydir", "--output", tmp_path / "o")
    assert result.code == 1 and "no .warc.gz" in result.err


def test_empty_file_is_reported_by_name(tmp_path, run_cli):
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    result = run_cli("extract", tmp_path / "empty.warc.gz", "--output", tmp_path / "o")
    assert result.code == 2 and "FAILED empty" in result.out and "empty file" in result.out


def test_changed_parameters_refuse_to_resume(tmp_path, run_cli):
    sample = SAMPLE_DIR / "CC-MAIN-2020-34-sample.warc.gz"
    assert run_cli("extract", sample, "--output", tmp_path / "o").code == 0
    result = run_cli("extract", sample, "--output", tmp_path / "o", "--extractor", "trafilatura")
    assert result.code == 1 and "different run" in result.err


def test_help_explains_and_bad_flags_exit_1():
    help_text = subprocess.run([sys.executable, "-m", "dclm.cli", "extract", "--help"],
                               capture_output=True, text=True, check=True).stdout
    for words in ("--extractor", "--ray-address", "warc.paths", "ledger"):
        assert words in help_text
    bad = subprocess.run([sys.executable, "-m", "dclm.cli", "extract"], capture_output=True, text=True)
    assert bad.returncode != 0 and "required" in bad.stderr


def test_input_option_and_positional_inputs_are_the_same(tmp_path, run_cli):
    sample = SAMPLE_DIR / "CC-MAIN-2020-34-sample.warc.gz"
    assert run_cli("extract", sample, "--output", tmp_path / "positional").code == 0
    assert run_cli("extract", "--input", sample, "--output", tmp_path / "option").code == 0
    assert run_cli("extract", "-i", sample, "-o", tmp_path / "short").code == 0
    digests = [_digests(tmp_path / name) for name in ("positional", "option", "short")]
    assert digests[0] == digests[1] == digests[2] and digests[0]
    none = run_cli("extract", "--output", tmp_path / "none")
    assert none.code == 1 and "no input" in none.err
