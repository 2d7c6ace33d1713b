"""``dclm dedup minhash|exact|url|bff`` on extracted real pages plus planted duplicates.

Two dev WARCs are extracted with ``dclm extract``; a third shard, named to
sort last, plants copies of some of those pages: exact copies with changed
case and spacing, near copies with a few words edited, the same URLs with
tracking parameters, and pages that repeat a real page's paragraphs. Planted
ids sort after the real ones (``~`` > ``<``), so every rule (lowest id,
first occurrence) keeps the original and drops the plant.
"""
from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import WARC_DIR, invoke_cli

from dedup.bff_ngrams import tokenize

WARCS = ("CC-MAIN-DEV-00000.warc.gz", "CC-MAIN-DEV-00001.warc.gz")


@pytest.fixture
def dedup_cli(run_cli):
    return run_cli


def _near_copy(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, len(words) // 100)):
        words[i] = words[i] + "x"
    return " ".join(words)


@pytest.fixture(scope="module")
def pages(tmp_path_factory, ray_session, corpus):
    """``(input dir, originals table, planted: {kind: [(plant id, original id)]})``."""
    root = tmp_path_factory.mktemp("dedup_cli")
    warcs = root / "warc"
    warcs.mkdir()
    for name in WARCS:
        (warcs / name).symlink_to(WARC_DIR / name)
    extracted = root / "extracted"
    result = invoke_cli("extract", warcs, "--output", extracted, "--num-cpus", "2")
    assert result.code == 0, result
    originals = pa.concat_tables(pq.read_table(p) for p in sorted((extracted / "data").glob("*.parquet")))
    rows = [r for r in originals.to_pylist() if len(r["text"].split()) >= 150
            and len(r["text"].split("\n")) >= 4]
    rng = random.Random(7)
    picked = rng.sample(rows, 24)
    planted, plants = {"exact": [], "near": [], "url": [], "paragraphs": []}, []
    for i, row in enumerate(picked):
        kind = ("exact", "near", "url", "paragraphs")[i % 4]
        plant = {**row, "id": f"~planted-{i:02d}-{kind}", "url": f"https://planted.example/{i}"}
        if kind == "exact":
            plant["text"] = "  " + row["text"].upper().replace(" ", "  ") + "\n"
        elif kind == "near":
            plant["text"] = _near_copy(row["text"], rng)
        elif kind == "url":
            plant["url"] = row["url"].replace("http://", "https://") + "#top"
            plant["text"] = f"A different page {i} " + " ".join(f"w{i}x{j}" for j in range(60))
        else:
            # As many new words as the page has: the document stays (about half
            # of its n-grams are new) and only the repeated paragraphs go.
            fresh = " ".join(f"fresh{i}w{j}" for j in range(len(row["text"].split())))
            plant["text"] = row["text"] + "\n" + fresh
        planted[kind].append((plant["id"], row["id"]))
        plants.append(plant)
    inputs = root / "inputs"
    inputs.mkdir()
    for p in sorted((extracted / "data").glob("*.parquet")):
        (inputs / p.name).symlink_to(p)
    pq.write_table(pa.Table.from_pylist(plants, schema=originals.schema),
                   inputs / "zz-planted.parquet")
    return inputs, originals, planted


def _read(out):
    kept = pa.concat_tables(pq.read_table(p) for p in sorted((out / "data").glob("*.parquet")))
    dropped = pa.concat_tables(pq.read_table(p) for p in sorted((out / ".dclm" / "dropped").glob("*.parquet")))
    return kept, dropped, json.loads((out / ".dclm" / "stats.json").read_text())


def _reasons(dropped) -> dict:
    return dict(zip(dropped.column("id").to_pylist(), dropped.column("dropped_reason").to_pylist(), strict=True))


def _check_ledgers(out, total: int) -> None:
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert stats["invariant_ok"] and stats["documents_in"] == total
    for path in sorted((out / ".dclm" / "ledger").glob("*.json")):
        (step,) = json.loads(path.read_text())["steps"]
        assert step["in"] == step["kept"] + sum(step["dropped"].values()) + sum(step["errors"].values())
    kept, dropped, _ = _read(out)
    assert kept.num_rows == stats["documents_out"]
    assert kept.num_rows + dropped.num_rows == total


def test_minhash_removes_plants_deterministically_and_resumes(pages, dedup_cli, tmp_path):
    inputs, originals, planted = pages
    total = originals.num_rows + sum(len(v) for v in planted.values())
    out = tmp_path / "mh"
    result = dedup_cli("dedup", "minhash", "--input", inputs, "--output", out)
    assert result.code == 0, result
    assert "P(cand)" in result.out and "0.924" in result.out          # S-curve at J = 0.8
    _check_ledgers(out, total)
    kept, dropped, stats = _read(out)
    reasons = _reasons(dropped)
    for plant, original in planted["exact"] + planted["near"]:
        assert reasons[plant] == f"minhash_duplicate of {original}"
    assert set(dropped.column("dropped_step").to_pylist()) == {"minhash_dedup"}
    facts = stats["global"]
    assert facts["clusters"] >= 12 and sum(facts["cluster_sizes"]["histogram"].values()) == facts["clusters"]
    assert stats["steps"][0]["dropped"] == {"minhash_duplicate": dropped.num_rows} == {
        "minhash_duplicate": facts["removed"]}
    assert set(stats["stage_seconds"]) == {"signatures", "buckets", "verify", "components", "keep",
                                           "store", "write"}
    assert stats["params"]["num_bands"] == 14 and stats["params"]["rows_per_band"] == 8
    assert "keeper check" in result.out and stats["params"]["keeper_threshold"] == 0.725
    assert facts["keeper_rounds"] >= 1 and facts["unverified_kept"] == 0
    assert "minhash_cluster" in kept.column_names
    # Same kept set with other partitioning, in another directory.
    again = tmp_path / "mh2"
    assert dedup_cli("dedup", "minhash", "--input", inputs, "--output", again,
                     "--num-partitions", "3").code == 0
    assert _read(again)[0].column("id").to_pylist() == kept.column("id").to_pylist()
    # Resume: complete output is left alone; a lost shard is rewritten identically.
    rerun = dedup_cli("dedup", "minhash", "--input", inputs, "--output", out)
    assert rerun.code == 0 and "nothing to do" in rerun.out
    lost = out / "data" / "zz-planted.parquet"
    before = pq.read_table(lost)
    lost.unlink()
    rerun = dedup_cli("dedup", "minhash", "--input", inputs, "--output", out)
    assert rerun.code == 0, rerun
    assert pq.read_table(lost).equals(before)
    assert len(json.loads((out / ".dclm" / "stats.json").read_text())["shards_resumed"]) == 2


def test_minhash_annotate_keeps_everything(pages, dedup_cli, tmp_path):
    inputs, originals, planted = pages
    out = tmp_path / "ann"
    result = dedup_cli("dedup", "minhash", "--input", inputs, "--output", out, "--annotate")
    assert result.code == 0, result
    table = pa.concat_tables(pq.read_table(p) for p in sorted((out / "data").glob("*.parquet")))
    assert table.num_rows == originals.num_rows + sum(len(v) for v in planted.values())
    rows = {r["id"]: r for r in table.select(["id", "minhash_cluster", "minhash_keep"]).to_pylist()}
    for plant, original in planted["exact"]:
        assert rows[plant]["minhash_keep"] is False and rows[plant]["minhash_cluster"] == original
        assert rows[original]["minhash_keep"] is True
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert stats["steps"][0]["dropped"] == {} and stats["global"]["removed"] > 0


def test_exact_and_url(pages, dedup_cli, tmp_path):
    inputs, originals, planted = pages
    total = originals.num_rows + sum(len(v) for v in planted.values())
    out = tmp_path / "exact"
    assert dedup_cli("dedup", "exact", "--input", inputs, "--output", out).code == 0
    _check_ledgers(out, total)
    reasons = _reasons(_read(out)[1])
    for plant, original in planted["exact"]:
        assert reasons[plant] == f"exact_duplicate of {original}"
    assert not any(plant in reasons for plant, _ in planted["near"])
    out = tmp_path / "url"
    assert dedup_cli("dedup", "url", "--input", inputs, "--output", out).code == 0
    _check_ledgers(out, total)
    reasons = _reasons(_read(out)[1])
    for plant, original in planted["url"]:
        assert reasons[plant] == f"url_duplicate of {original}"
    assert not any(plant in reasons for plant, _ in planted["exact"])


def test_bff_removes_repeated_paragraphs_and_copies(pages, dedup_cli, tmp_path):
    inputs, originals, planted = pages
    total = originals.num_rows + sum(len(v) for v in planted.values())
    out = tmp_path / "bff"
    result = dedup_cli("dedup", "bff", "--input", inputs, "--output", out)
    assert result.code == 0, result
    assert "Bloom filter" in result.out and "MiB" in result.out
    _check_ledgers(out, total)
    kept, dropped, stats = _read(out)
    reasons = _reasons(dropped)
    texts = dict(zip(kept.column("id").to_pylist(), kept.column("text").to_pylist(), strict=True))
    for plant, _ in planted["near"]:                 # few edits leave most 13-grams intact
        assert reasons[plant].startswith("bff_duplicate: ")
    for plant, _ in planted["paragraphs"]:
        # Every repeated paragraph of 13+ tokens is cut (shorter ones, like
        # titles, never are); the new paragraph stays.
        long = [p for p in texts[plant].split("\n") if len(tokenize(p)) >= 13]
        assert len(long) == 1 and long[0].startswith("fresh")
    assert stats["steps"][0]["modified"] >= len(planted["paragraphs"])
    assert stats["global"]["filters"][0]["expected_ngrams"] > 0


def test_usage_errors(pages, dedup_cli, tmp_path):
    inputs, _, _ = pages
    missing = dedup_cli("dedup", "exact", "--input", inputs, "--output", tmp_path / "x",
                        "--column", "nope")
    assert missing.code == 1 and "no column 'nope'" in missing.err
    bad = dedup_cli("dedup", "bff", "--input", inputs, "--output", tmp_path / "y",
                    "--min-ngram", "20")
    assert bad.code == 1 and "min_ngram" in bad.err


def test_recipe_global_step_matches_cli(pages, dedup_cli, tmp_path):
    from dclm.errors import UsageError
    from dedup.step_settings import global_step_settings
    from pipelines.global_steps import run_global_step

    inputs, _, _ = pages
    shards = [str(p) for p in sorted(inputs.glob("*.parquet"))]
    stats = run_global_step("exact_dedup", {}, shards, str(tmp_path / "step"), progress=False)
    assert stats["exit_code"] == 0 and stats["stage"] == "dedup_exact"
    assert dedup_cli("dedup", "exact", "--input", inputs, "--output", tmp_path / "cli").code == 0
    for name in ("CC-MAIN-DEV-00000", "zz-planted"):
        assert pq.read_table(tmp_path / "step" / "data" / f"{name}.parquet").equals(
            pq.read_table(tmp_path / "cli" / "data" / f"{name}.parquet"))
    global_step_settings("minhash_dedup", {"ngram": 5, "threshold": 0.8, "keep": "lowest_id"})
    global_step_settings("bff_dedup", {"ngram": 13, "threshold": 0.8})
    with pytest.raises(UsageError, match="accepts"):
        global_step_settings("bff_dedup", {"ngrams": 13})
    with pytest.raises(UsageError, match="old-both"):
        global_step_settings("bff_dedup", {"remove_type": "paragraph"})


def test_empty_shards_and_nulls(dedup_cli, tmp_path):
    schema = pa.schema([("id", pa.string()), ("url", pa.string()), ("text", pa.string())])
    words = " ".join(f"word{i}" for i in range(40))
    inputs = tmp_path / "in"
    inputs.mkdir()
    pq.write_table(schema.empty_table(), inputs / "a.parquet")
    pq.write_table(pa.Table.from_pylist([
        {"id": "b0", "url": None, "text": None}, {"id": "b1", "url": "http://x.org/", "text": words},
        {"id": "b2", "url": None, "text": words}, {"id": "b3", "url": "https://x.org", "text": ""},
    ], schema=schema), inputs / "b.parquet")
    # MinHash reads a null text as "", and all empty texts share one shingle
    # (dedup/shingles.py), so b3 joins b0's cluster; exact dedup never
    # matches a null; BFF has no n-grams to judge in an empty text.
    expected = {"minhash": {"b2", "b3"}, "exact": {"b2"}, "url": {"b3"}, "bff": {"b2"}}
    for method, removed in expected.items():
        out = tmp_path / method
        result = dedup_cli("dedup", method, "--input", inputs, "--output", out)
        assert result.code == 0, result
        _check_ledgers(out, 4)
        assert set(_read(out)[1].column("id").to_pylist()) == removed, method


def test_minhash_threshold_options():
    from dclm.cli import build_parser
    from dclm.commands.dedup import build_method

    def params(*extra):
        args = build_parser().parse_args(["dedup", "minhash", "-i", "x", "-o", "y", *extra])
        return build_method(args).params

    default = params()
    assert (default["num_bands"], default["rows_per_band"]) == (14, 8)
    assert (default["verify_threshold"], default["keeper_threshold"]) == (0.8, 0.725)
    assert default["keeper_rounds"] == 8
    # --threshold picks b x r with the S-curve's steep part on it, and both
    # checks follow it unless given.
    at_07 = params("--threshold", "0.7")
    assert (at_07["num_bands"], at_07["rows_per_band"]) == (14, 8)
    assert (at_07["verify_threshold"], at_07["keeper_threshold"]) == (0.7, 0.7)
    at_08 = params("--threshold", "0.8", "--keeper-threshold", "0.85")
    assert (at_08["num_bands"], at_08["rows_per_band"]) == (9, 12)
    assert (at_08["verify_threshold"], at_08["keeper_threshold"]) == (0.8, 0.85)
    off = params("--verify-threshold", "off", "--keeper-threshold", "off")
    assert (off["verify_threshold"], off["keeper_threshold"]) == (None, None)
    with pytest.raises(SystemExit):
        params("--keeper-threshold", "1.5")


def test_recipe_minhash_keeper_options():
    from pipelines.global_steps import build_global_method

    def params(**kwargs):
        return build_global_method("minhash_dedup", kwargs).params

    assert (params()["verify_threshold"], params()["keeper_threshold"]) == (0.8, 0.725)
    followed = params(threshold=0.7)                                   # both follow it
    assert (followed["verify_threshold"], followed["keeper_threshold"]) == (0.7, 0.7)
    assert params(threshold=0.8, keeper_threshold=0.9)["keeper_threshold"] == 0.9
    # YAML's null and off (False) both turn a check off.
    assert params(keeper_threshold=None)["keeper_threshold"] is None
    assert params(verify_threshold=False)["verify_threshold"] is None
    assert params(keeper_rounds=3)["keeper_rounds"] == 3
