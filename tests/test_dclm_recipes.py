"""DCLM's own recipes (tests/data/dclm_baselines_configs, unchanged) load and run, or say why not."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import WARC_DIR, invoke_cli

from dclm.errors import UsageError
from dclm.recipe import load_recipe

CONFIGS = Path(__file__).parent / "data" / "dclm_baselines_configs"
RUNNABLE = [("dclm_baseline_refinedweb", None), ("refinedweb", None),
            ("content_to_text", None), ("cc_v3_refinedweb_75b", None)]


@pytest.fixture(autouse=True)
def no_dclm_root(monkeypatch):
    monkeypatch.delenv("DCLM_ROOT", raising=False)


def _load(name: str, **kwargs):
    return load_recipe(str(CONFIGS / f"{name}.yaml"), announce=False, **kwargs)


@pytest.mark.parametrize("name, source", RUNNABLE)
def test_runnable_configs_load(name, source):
    recipe = _load(name, source=source)
    assert recipe.steps
    if "refinedweb" in name and name != "cc_v3_refinedweb_75b":
        # DCLM's lists are not here: each falls back to a stand-in, with a warning.
        assert len(recipe.warnings) == 4
        assert all("stand-in" in w and "--dclm-root" in w for w in recipe.warnings)


def test_fasttext_filter_names_its_missing_model_and_where_to_get_it():
    with pytest.raises(UsageError) as err:
        _load("fasttext_filter")
    message = str(err.value)
    assert "fasttext_oh_eli5.bin" in message
    assert "huggingface.co/mlfoundations/fasttext-oh-eli5" in message


def test_c4_needs_only_nltk_punkt():
    from filters.sentences import check_tokenizer

    try:
        check_tokenizer("nltk", "english")
    except ImportError:
        with pytest.raises(UsageError) as err:
            _load("c4")
        # Its two sentence counts are the only steps that cannot run here.
        lines = str(err.value).splitlines()[1:]
        assert [line.split(":")[0].strip() for line in lines] == ["step 12 (page_length_filter)",
                                                                   "step 18 (page_length_filter)"]
        assert all("punkt" in line for line in lines)
        return
    recipe = _load("c4")
    dedup = [s for s in recipe.steps if s.name == "exact_dedup"]
    # The URL dedup is per page; the text dedup runs on the split lines.
    assert "lines_delimiter" not in dedup[0].kwargs and dedup[1].kwargs["lines_delimiter"] == "\n"


def test_c4_line_dedup_is_linked_to_its_split(tmp_path):
    recipe = tmp_path / "c4_blingfire.yaml"
    text = (CONFIGS / "c4.yaml").read_text().replace("tokenizer: nltk", "tokenizer: blingfire")
    recipe.write_text(text)
    steps = load_recipe(str(recipe), announce=False).steps
    dedup = [s for s in steps if s.name == "exact_dedup"]
    assert "lines_delimiter" not in dedup[0].kwargs and dedup[1].kwargs["lines_delimiter"] == "\n"


def test_every_problem_reported_at_once(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("- source: cc\n  steps:\n"
                      "    - func: arxiv_comment_modifier\n"
                      "    - func: page_length_filter\n      length_type: word\n      bogus: 1\n"
                      "    - func: ken_lm_perplexity_enricher\n"
                      "    - func: no_such_step\n")
    with pytest.raises(UsageError) as err:
        load_recipe(str(recipe), announce=False)
    lines = str(err.value).splitlines()
    assert lines[0] == "this recipe cannot run:"
    assert "step 1 (arxiv_comment_modifier): DCLM's arxiv_comment_modifier is not supported" in lines[1]
    assert lines[2].startswith("  step 2 (page_length_filter)") and "bogus" in lines[2]
    assert "step 3 (ken_lm_perplexity_enricher)" in lines[3] and "kenlm" in lines[3]
    assert "step 4 (no_such_step): unknown func" in lines[4]
    assert lines[5].startswith("  Valid names:")


def test_lists_come_from_a_dclm_checkout(tmp_path, monkeypatch):
    root = tmp_path / "dclm"
    banlists = root / "baselines" / "mappers" / "banlists"
    banlists.mkdir(parents=True)
    strict = banlists / "refinedweb_banned_words_strict_reverse_engineered.txt"
    strict.write_text("badword\n")
    tlds = root / "baselines" / "mappers" / "iana_tlds.txt"
    tlds.write_text("com\norg\n")
    monkeypatch.chdir(tmp_path)
    for kwargs in ({"dclm_root": str(root)}, {}):
        if not kwargs:
            monkeypatch.setenv("DCLM_ROOT", str(root))
        recipe = _load("dclm_baseline_refinedweb", **kwargs)
        by_name = {}
        for step in recipe.steps:
            by_name.setdefault(step.name, []).append(step.kwargs)
        assert by_name["url_substring_filter"][1]["banlist_from_fname"] == str(strict)
        assert by_name["url_removal_modifier"][0]["tlds_filepath"] == str(tlds)
        # The other three are not in this checkout: stand-ins, said so.
        assert len(recipe.warnings) == 3 and all(str(root) in w for w in recipe.warnings)


def test_dclm_root_must_be_a_checkout(tmp_path):
    with pytest.raises(UsageError, match="baselines"):
        _load("dclm_baseline_refinedweb", dclm_root=str(tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("name, source", RUNNABLE)
def test_runnable_configs_run_on_a_shared_shard(name, source, corpus, ray_session, tmp_path):
    out = tmp_path / name
    args = ["run", str(CONFIGS / f"{name}.yaml"), "--input", WARC_DIR / "CC-MAIN-DEV-00010.warc.gz",
            "--output", out]
    result = invoke_cli(*args, *(["--source", source] if source else []))
    assert result.code == 0, result
    stats = json.loads((out / ".dclm" / "stats.json").read_text())
    assert stats["documents_in"] > 0


@pytest.mark.slow
def test_c4_with_blingfire_runs_end_to_end(corpus, ray_session, tmp_path):
    """c4.yaml with its nltk sentence counts swapped for blingfire (no punkt data here)."""
    recipe = tmp_path / "c4_blingfire.yaml"
    recipe.write_text((CONFIGS / "c4.yaml").read_text().replace("tokenizer: nltk", "tokenizer: blingfire"))
    out = tmp_path / "c4"
    shards = [WARC_DIR / "CC-MAIN-DEV-00010.warc.gz", WARC_DIR / "CC-MAIN-DEV-00011.warc.gz"]
    result = invoke_cli("run", recipe, "--input", *shards, "--output", out)
    assert result.code == 0, result
    import duckdb

    rows = duckdb.sql(f"SELECT text FROM read_parquet('{out}/data/*.parquet')").fetchall()
    lines = [line.strip().lower() for (text,) in rows for line in text.split("\n")]
    # The line-level dedup leaves each normalized line once in the whole output.
    assert rows and len(lines) == len(set(lines))
    columns = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{out}/data/*.parquet')").fetchall()
    assert "dclm_split_delimiter" not in {c[0] for c in columns}    # joined again
