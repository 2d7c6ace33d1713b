"""``dclm run`` / ``dclm filter`` / ``dclm select`` end to end on real WARC pages."""
from __future__ import annotations

import json

import duckdb
import pytest
from conftest import WARC_DIR, invoke_cli

SUBSET = ["CC-MAIN-DEV-00000.warc.gz", "CC-MAIN-DEV-00010.warc.gz", "CC-MAIN-2020-34-sample.warc.gz"]


def _ids(directory) -> set[str]:
    rows = duckdb.sql(f"SELECT id || url FROM read_parquet('{directory}/data/*.parquet')").fetchall()
    return {r[0] for r in rows}


def _stats(directory) -> dict:
    return json.loads((directory / ".dclm" / "stats.json").read_text())


@pytest.fixture(scope="module")
def subset(corpus):
    return [WARC_DIR / name for name in SUBSET]


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory, subset, ray_session):
    out = tmp_path_factory.mktemp("run") / "baseline"
    result = invoke_cli("run", "dclm_baseline_heuristics", "--input", *subset, "--output", out)
    assert result.code == 0, result
    return out


def _language_step(directory, shard):
    ledger = json.loads((directory / ".dclm" / "ledger" / f"{shard}.json").read_text())
    return next(s for s in ledger["steps"] if s["step"].endswith("language_filter"))


def test_language_filter_keeps_english_and_drops_german(baseline_run):
    rows = duckdb.sql(f"""SELECT dropped_signals FROM read_parquet('{baseline_run}/.dclm/dropped/*.parquet')
                          WHERE dropped_step LIKE '%language_filter'""").fetchall()
    scores = [json.loads(r[0])["language_id_whole_page_fasttext"] for r in rows]
    top = [max(s, key=s.get) for s in scores if s]
    assert top.count("de") > 60
    kept = duckdb.sql(f"""SELECT json_keys(language_id_whole_page_fasttext)[1], count(*)
                          FROM read_parquet('{baseline_run}/data/*.parquet') GROUP BY 1""").fetchall()
    assert dict(kept).keys() == {"en"}
    german = _language_step(baseline_run, "CC-MAIN-DEV-00000")     # ~70% German pages
    english = _language_step(baseline_run, "CC-MAIN-DEV-00010")    # mostly English pages
    assert sum(german["dropped"].values()) > 0.6 * german["in"]
    assert english["kept"] > 0.6 * english["in"]
    total_dropped = sum(sum(_language_step(baseline_run, p.stem)["dropped"].values())
                        for p in (baseline_run / "data").glob("*.parquet"))
    assert total_dropped == len(rows)


def test_ledger_adds_up_at_every_step(baseline_run):
    stats = _stats(baseline_run)
    assert stats["invariant_ok"], stats["invariant_problems"]
    steps = stats["steps"]
    assert steps[0]["step"] == "extract"
    for before, after in zip(steps, steps[1:], strict=False):
        assert before["out"] == after["in"]
    for step in steps:
        assert step["in"] == step["kept"] + sum(step["dropped"].values()) + sum(step["errors"].values())
    assert stats["documents_out"] == len(_ids(baseline_run))


def test_every_dropped_page_has_its_reason(baseline_run):
    stats = _stats(baseline_run)
    recipe_dropped = sum(sum(s["dropped"].values()) for s in stats["steps"] if s["step"] != "extract")
    rows = duckdb.sql(f"SELECT dropped_step, dropped_reason FROM read_parquet('{baseline_run}/.dclm/dropped/*.parquet')"
                      ).fetchall()
    assert len(rows) == recipe_dropped
    assert all(reason.startswith(step) for step, reason in rows)


def test_filter_over_extracted_shards_matches_run(tmp_path, subset, baseline_run, run_cli):
    extracted = tmp_path / "extracted"
    assert run_cli("extract", *subset, "--output", extracted).code == 0
    filtered = tmp_path / "filtered"
    result = run_cli("filter", "--recipe", "dclm_baseline_heuristics", "--input", extracted, "--output", filtered)
    assert result.code == 0, result
    assert _ids(filtered) == _ids(baseline_run)
    assert _stats(filtered)["invariant_ok"]


def test_annotate_then_select_equals_direct_filter(tmp_path, subset, baseline_run, run_cli):
    annotated = tmp_path / "annotated"
    result = run_cli("run", "dclm_baseline_heuristics", "--annotate", "--input", *subset, "--output", annotated)
    assert result.code == 0, result
    stats = _stats(annotated)
    assert stats["documents_out"] == next(s for s in stats["steps"] if s["step"] == "extract")["out"]
    columns = {r[0] for r in
               duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{annotated}/data/*.parquet')").fetchall()}
    assert {"gopher_dup_line_frac", "stop_word_count", "mean_word_length", "language_prob"} <= columns
    selected = tmp_path / "selected"
    result = run_cli("select", "--input", annotated, "--where", "dclm_baseline_heuristics", "--output", selected)
    assert result.code == 0, result
    assert _ids(selected) == _ids(baseline_run)
    sql = tmp_path / "sql"
    result = run_cli("select", "--input", annotated, "--where", "mean_word_length >= 4.5", "--output", sql)
    assert result.code == 0
    (low,) = duckdb.sql(f"SELECT min(mean_word_length) FROM read_parquet('{sql}/data/*.parquet')").fetchall()[0]
    assert low >= 4.5


def test_bad_recipe_fails_before_any_input_is_read(tmp_path, run_cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- source: cc\n  steps:\n    - func: gopher_quality\n")
    result = run_cli("run", bad, "--input", tmp_path / "does-not-exist", "--output", tmp_path / "o")
    assert result.code == 1
    assert "step 1 (gopher_quality): unknown func" in result.err
    assert not (tmp_path / "o").exists()


def test_dclm_yaml_runs_unchanged_with_standin_banlists(tmp_path, subset, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recipe = tmp_path / "refinedweb_dclm.yaml"
    recipe.write_text("""\
- source: cc
  weight: 1.0
  steps:
    - func: move_url_modifier
    - func: url_substring_filter
      banlist_from_fname: baselines/mappers/banlists/refinedweb_banned_domains_curated.txt
      exact_domain_match: True
      ignore_chars: ['www']
    - func: url_substring_filter
      banlist_from_fname: baselines/mappers/banlists/refinedweb_banned_words_soft_reverse_engineered.txt
      num_banned_substrs: 2
      match_substrings: False
    - func: url_removal_modifier
    - func: newline_removal_modifier
      max_consecutive: 2
    - func: detect_lang_whole_page_enricher
      model: fasttext
      key_prefix: language_id_whole_page
    - func: language_filter
      key: language_id_whole_page_fasttext
      keep_languages: [en]
      threshold: 0.65
    - func: page_length_filter
      length_type: word
      min_length: 50
      max_length: 100000
      ignore_punctuation: True
    - commit
""")
    result = run_cli("run", recipe, "--input", subset[2], "--output", tmp_path / "o")
    assert result.code == 0, result
    assert "stand-in" in result.err
