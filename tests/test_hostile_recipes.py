"""Issue 15, recipe cases 9-12: hostile or mistaken recipes are refused before any work, all problems at once.

The recipes are written in each test; the runs are real `dclm run` on the bundled sample.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR, invoke_cli

from dclm.errors import UsageError
from dclm.io.output_layout import stats_path
from dclm.recipe import load_recipe


def _recipe(tmp_path: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _usage_error(tmp_path: Path, recipe: Path) -> str:
    began = time.perf_counter()
    result = invoke_cli("run", recipe, "--input", SAMPLE_DIR, "--output", tmp_path / "out")
    assert result.code == 1, result
    assert "Traceback" not in result.out + result.err, result
    assert time.perf_counter() - began < 10
    assert not (tmp_path / "out").exists()          # refused before anything was written
    return result.err


def test_case9_billion_laughs_in_a_banlist_is_refused_at_load(tmp_path):
    anchors = "lol: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
    recipe = _recipe(tmp_path, anchors + "steps:\n  - func: url_substring_filter\n    banlist: *l8\n")
    err = _usage_error(tmp_path, recipe)
    assert "recipe.yaml: expands to over 100,000 nodes" in err


def test_case10_wrong_types_and_values_are_all_listed_before_any_work(tmp_path):
    not_a_model = tmp_path / "model.bin"
    not_a_model.write_text("this is not a fastText model\n")
    recipe = _recipe(tmp_path, f"""- source: cc
  steps:
    - func: page_length_filter
      length_type: word
      min_length: "abc"
    - func: random_sampling_filter
      keep_probability: -5
    - func: classify_fasttext_hq_prob_enricher
      model_filename: {not_a_model}
    - func: stop_word_filter
      count_unique: "yes"
    - func: fineweb_short_line_filter
      short_line_thr: 1.5
      short_line_length: -3
""")
    err = _usage_error(tmp_path, recipe)
    assert "step 1 (page_length_filter): min_length: expected a number, got 'abc'" in err
    assert "step 2 (random_sampling_filter): keep_probability: -5 is out of range (a fraction, from 0 to 1)" in err
    assert "step 3 (classify_fasttext_hq_prob_enricher):" in err and "not a fastText model" in err
    assert "step 4 (stop_word_filter): count_unique: expected true/false, got 'yes'" in err
    assert "step 5 (fineweb_short_line_filter): short_line_thr: 1.5 is out of range (a fraction, from 0 to 1); " \
           "short_line_length: -3 is out of range (it cannot be negative)" in err


def test_case10_a_step_that_errors_on_every_document_makes_the_run_exit_4(ray_session, tmp_path):
    """Scoring twice into the same key: valid parameters, but the second step refuses every page."""
    recipe = _recipe(tmp_path, """- source: cc
  steps:
    - func: classify_fasttext_hq_prob_enricher
    - func: classify_fasttext_hq_prob_enricher
""")
    result = invoke_cli("run", recipe, "--input", SAMPLE_DIR, "--output", tmp_path / "out")
    assert result.code == 4, result
    assert "STEP FAILED 02_classify_fasttext_hq_prob_enricher" in result.out
    stats = json.loads(Path(stats_path(str(tmp_path / "out"))).read_text())
    assert stats["documents_out"] == 0 and stats["shards_failed"] == {}


def test_case11_a_recipe_without_source_runs(ray_session, tmp_path):
    recipe = _recipe(tmp_path, "steps:\n  - func: page_length_filter\n    length_type: word\n    min_length: 5\n")
    assert load_recipe(str(recipe)).source is None
    result = invoke_cli("run", recipe, "--input", SAMPLE_DIR, "--output", tmp_path / "out")
    assert result.code == 0, result
    stats = json.loads(Path(stats_path(str(tmp_path / "out"))).read_text())
    assert stats["shards_failed"] == {} and stats["documents_out"] > 0


@pytest.mark.parametrize("text, message", [
    ("steps:\n  - func: page_length_filter\n    length_type: " + "[" * 50_000 + "]" * 50_000 + "\n",
     "nested deeper than 32 levels"),
    ("- " * 5000 + "x\n", "nested deeper than 32 levels"),
    ("- source: cc\n  steps:\n    - func: [a, b]\n",
     "step 1: func must be one operator name (a string), got ['a', 'b']"),
    ("- source: cc\n  steps:\n    - func: {a: 1}\n", "func must be one operator name"),
    ("- source: cc\n  steps:\n    - func: page_length_filter\n      length_type: word\n      1: 2\n",
     "step 1 (page_length_filter)"),
])
def test_case12_deep_nesting_and_odd_func_values_are_usage_errors(tmp_path, text, message):
    err = _usage_error(tmp_path, _recipe(tmp_path, text))
    assert message in err


def test_the_bundled_recipes_still_load():
    from dclm.recipe import builtin_recipe_names

    for name in builtin_recipe_names():
        try:
            load_recipe(name, announce=False)
        except UsageError as exc:           # only a missing optional file may stop one here
            assert "not found" in str(exc), (name, exc)
