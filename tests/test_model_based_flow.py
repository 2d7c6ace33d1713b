"""Model-based filtering end to end through the CLI: score → top 10% of the whole run, and in a recipe."""
from __future__ import annotations

import json
import math

import duckdb
from conftest import REPO, WARC_DIR

REFERENCE = REPO / "filters" / "models" / "quality_reference.ftz"
SHARDS = [WARC_DIR / "CC-MAIN-DEV-00010.warc.gz", WARC_DIR / "CC-MAIN-DEV-00011.warc.gz"]


def _count(directory) -> int:
    return duckdb.sql(f"SELECT count(*) FROM read_parquet('{directory}/data/*.parquet')").fetchall()[0][0]


def test_score_then_top_fraction_over_the_whole_run(corpus, tmp_path, run_cli):
    extracted, scored, top = tmp_path / "extracted", tmp_path / "scored", tmp_path / "top"
    assert run_cli("extract", *SHARDS, "--output", extracted).code == 0
    result = run_cli("classifier", "score", "--model", REFERENCE, "--input", extracted, "--output", scored)
    assert result.code == 0, result
    assert f"scoring with {REFERENCE}" in result.out
    # Without --model: the shipped reference model, named in the output, and the same scores.
    default = run_cli("classifier", "score", "--input", extracted, "--output", tmp_path / "default")
    assert default.code == 0 and f"scoring with {REFERENCE} (sha256" in default.out, default
    same = "SELECT id, fasttext_hq_prob FROM read_parquet('{}/data/*.parquet') ORDER BY id, fasttext_hq_prob"
    assert duckdb.sql(same.format(scored)).fetchall() == duckdb.sql(same.format(tmp_path / "default")).fetchall()
    n = _count(scored)
    result = run_cli("select", "--input", scored, "--top-fraction", "0.1", "--by", "fasttext_hq_prob",
                     "--output", top)
    assert result.code == 0, result
    assert _count(top) == math.ceil(0.1 * n)
    stats = json.loads((top / ".dclm" / "stats.json").read_text())
    threshold = stats["params"]["threshold"]
    (low,) = duckdb.sql(f"SELECT min(fasttext_hq_prob) FROM read_parquet('{top}/data/*.parquet')").fetchall()[0]
    assert low >= threshold
    bad = run_cli("select", "--input", scored, "--top-fraction", "1.5", "--output", tmp_path / "bad")
    assert bad.code == 1 and "(0, 1]" in bad.err


def test_dclm_baseline_recipe_keeps_a_tenth_after_dedup(corpus, tmp_path, run_cli):
    out = tmp_path / "baseline"
    result = run_cli("run", "dclm_baseline", "--input", *SHARDS, "--output", out)
    assert result.code == 0, result
    work = sorted((out / ".dclm" / "work").iterdir())
    assert [p.name.split("_", 1)[1] for p in work] == ["local", "27_bff_dedup", "local"]
    after_dedup = _count(work[-1])
    assert _count(out) == math.ceil(0.1 * after_dedup)
    for stage_dir in [*work, out]:
        assert json.loads((stage_dir / ".dclm" / "stats.json").read_text())["invariant_ok"]
