"""Recipe loading: DCLM's format, and every mistake caught before any document is read."""
from __future__ import annotations

import os

import pytest

from dclm.errors import UsageError
from dclm.recipe import builtin_recipe_names, load_recipe, parse_recipe


def _recipe(tmp_path, text: str, name: str = "r.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return load_recipe(str(path), announce=False)


def test_builtin_recipes_all_validate():
    names = builtin_recipe_names()
    assert {"raw", "c4", "gopher", "refinedweb", "fineweb", "dclm_baseline", "dclm_baseline_heuristics"} <= set(names)
    for name in names:
        recipe = load_recipe(name, announce=False)
        assert recipe.warnings == []
        assert len(recipe.digest) == 64


def test_dclm_baseline_is_refinedweb_without_high_quality_domain_exclusion():
    refinedweb = load_recipe("refinedweb", announce=False)
    baseline = load_recipe("dclm_baseline", announce=False)
    hq = [s for s in refinedweb.steps if "en.wikipedia.org" in str(s.kwargs.get("banlist"))]
    assert len(hq) == 1
    heuristics = [s.name for s in refinedweb.steps if s is not hq[0]]
    assert [s.name for s in baseline.steps][:len(heuristics)] == heuristics
    assert [s.name for s in load_recipe("dclm_baseline_heuristics", announce=False).steps] == heuristics
    # then DCLM's model-based step: the reference classifier's top 10% of the whole run
    tail = baseline.steps[len(heuristics):]
    assert [s.name for s in tail] == ["bff_dedup", "classify_fasttext_hq_prob_enricher", "quality_filter"]
    assert tail[-2].name == "classify_fasttext_hq_prob_enricher"
    assert tail[-1].name == "quality_filter" and tail[-1].kwargs["top_fraction"] == 0.1


def test_dclm_format_with_commit_aggregate_and_weight(tmp_path):
    recipe = _recipe(tmp_path, """
- source: cc
  weight: 1.0
  steps:
    - func: page_length_filter
      length_type: word
      min_length: 50
      _aggregate:
        x: 1
    - commit
    - func: stop_word_filter
""")
    assert [s.name for s in recipe.steps] == ["page_length_filter", "stop_word_filter"]
    assert recipe.steps[0].kwargs == {"length_type": "word", "min_length": 50}
    assert [s.number for s in recipe.steps] == [1, 3]


def test_unknown_func_names_step_and_close_matches(tmp_path):
    with pytest.raises(UsageError) as err:
        _recipe(tmp_path, "- source: cc\n  steps:\n    - func: stop_word_filter\n    - func: page_lenght_filter\n")
    message = str(err.value)
    assert "step 2" in message and "page_lenght_filter" in message
    assert "Did you mean page_length_filter" in message and "Valid names:" in message


def test_wrong_and_missing_parameters_fail_with_the_step(tmp_path):
    with pytest.raises(UsageError, match=r"step 1 \(stop_word_filter\).*unexpected keyword.*min_stopwords"):
        _recipe(tmp_path, "- source: cc\n  steps:\n    - func: stop_word_filter\n      min_stopwords: 2\n")
    with pytest.raises(UsageError, match=r"step 1 \(page_length_filter\).*length_type"):
        _recipe(tmp_path, "- source: cc\n  steps:\n    - func: page_length_filter\n")


def test_unreadable_banlist_fails_fast(tmp_path):
    with pytest.raises(UsageError, match=r"step 1 \(url_substring_filter\).*no_such_list.txt.*not found"):
        _recipe(tmp_path, "- source: cc\n  steps:\n    - func: url_substring_filter\n"
                          "      banlist_from_fname: no_such_list.txt\n")
    blocked = tmp_path / "blocked.txt"
    blocked.write_text("x\n")
    os.chmod(blocked, 0)
    if os.access(blocked, os.R_OK):          # root reads anything; nothing to check then
        return
    with pytest.raises(UsageError, match="cannot read"):
        _recipe(tmp_path, "- source: cc\n  steps:\n    - func: url_substring_filter\n"
                          f"      banlist_from_fname: {blocked}\n")


def test_banlist_relative_to_recipe_and_dclm_standins(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "mine.txt").write_text("casino\n")
    recipe = _recipe(tmp_path, "- source: cc\n  steps:\n    - func: url_substring_filter\n"
                               "      banlist_from_fname: lists/mine.txt\n")
    assert recipe.steps[0].kwargs["banlist_from_fname"] == str(tmp_path / "lists" / "mine.txt")
    dclm_style = _recipe(tmp_path, "- source: cc\n  steps:\n    - func: url_substring_filter\n"
                         "      banlist_from_fname: baselines/mappers/banlists/refinedweb_banned_domains_curated.txt\n"
                         "      exact_domain_match: true\n")
    assert dclm_style.warnings and "stand-in" in dclm_style.warnings[0]
    assert dclm_style.steps[0].kwargs["banlist_from_fname"].endswith("url_banned_domains.txt")


def test_sources_and_shapes(tmp_path):
    two = "- source: a\n  steps: []\n- source: b\n  steps:\n    - func: stop_word_filter\n"
    with pytest.raises(UsageError, match="several sources"):
        parse_recipe(two, str(tmp_path / "x.yaml"))
    assert [s.name for s in parse_recipe(two, str(tmp_path / "x.yaml"), source="b").steps] == ["stop_word_filter"]
    with pytest.raises(UsageError, match="not valid YAML"):
        parse_recipe("- source: [", "bad.yaml")
    with pytest.raises(UsageError, match="list of"):
        parse_recipe("just text", "bad.yaml")
    with pytest.raises(UsageError, match="neither a file nor a built-in"):
        load_recipe("dclm_basline")


def test_repeated_filter_gets_its_own_annotation_columns(tmp_path):
    recipe = _recipe(tmp_path, "- source: cc\n  steps:\n"
                               "    - func: page_length_filter\n      length_type: word\n"
                               "    - func: newline_removal_modifier\n"
                               "    - func: page_length_filter\n      length_type: word\n      min_length: 5\n")
    assert recipe.steps[0].column_suffix == "" and recipe.steps[2].column_suffix == "__3"
    assert recipe.steps[2].signal_columns({"word_count": 3}) == {"word_count__3": 3}
