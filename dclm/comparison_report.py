"""The comparison report: per-recipe means with 95% intervals, and paired differences.

``comparison.json`` holds no wall-clock fields, so the same experiment gives
the same file (timings go to ``timings.json``). Metrics, each read from the
runs' eval JSONs:

* ``Core``: mean centered accuracy over the Core tasks available offline;
* ``Extended``: mean centered accuracy over every task of the set;
* ``bits_per_byte``: on held-out clean English (lower is better);
* ``icl/<task>``: each task's accuracy.

Pairwise rows compare every two recipes on every metric, paired by seed
(see ``dclm.comparison_stats``); "significant" means the 95% interval of the
difference excludes zero.
"""
from __future__ import annotations

from typing import Any

from dclm.comparison_stats import mean_interval, paired_difference
from dclm.scales import scale_hash

FORMAT = "dclm-comparison/1"


def run_metrics(report: dict) -> dict[str, tuple[float, bool]]:
    """metric name -> (value, higher_is_better) from one eval JSON."""
    metrics: dict[str, tuple[float, bool]] = {}
    for key in ("Core", "Extended"):
        if report.get(key) is not None:
            metrics[key] = (float(report[key]), True)
    bpb = report["eval_metrics"].get("bits_per_byte") or {}
    if len(bpb) == 1:
        metrics["bits_per_byte"] = (float(next(iter(bpb.values()))), False)
    else:
        for name, value in bpb.items():
            metrics[f"bits_per_byte/{name}"] = (float(value), False)
    for task, acc in sorted(report["eval_metrics"]["icl"].items()):
        metrics[f"icl/{task}"] = (float(acc), True)
    return metrics


def _metric_table(runs: list[dict]) -> dict[str, dict[str, Any]]:
    per_run = [run_metrics(run["report"]) for run in runs]
    names = [name for name in per_run[0] if all(name in m for m in per_run)]
    table = {}
    for name in names:
        values = [m[name][0] for m in per_run]
        table[name] = {**mean_interval(values).to_dict(), "values": values, "higher_is_better": per_run[0][name][1]}
    return table


def build_comparison(exp, per_recipe: list[tuple[str, Any, dict, list[dict]]]) -> dict:
    """The comparison document from each recipe's tokenize manifest and (seed-ordered) runs."""
    recipes = []
    for label, recipe, manifest, runs in per_recipe:
        heldout = runs[0]["report"]["eval_metrics"].get("heldout", {}).get("name")
        recipes.append({
            "name": label,
            "recipe": recipe.name,
            "recipe_sha256": recipe.digest,
            "documents": manifest["documents"],
            "dataset_tokens": manifest["dataset_tokens"],
            "epochs": manifest["epochs"],
            "heldout_text": heldout,
            "runs": [{"seed": r["seed"], "run_dir": r["run_dir"], "eval_json": r["eval_json"],
                      "eval_uuid": r["report"]["uuid"]} for r in runs],
            "metrics": _metric_table(runs),
        })
    pairwise = []
    for i, a in enumerate(recipes):
        for b in recipes[i + 1:]:
            for metric, stats in a["metrics"].items():
                if metric not in b["metrics"]:
                    continue
                diff = paired_difference(stats["values"], b["metrics"][metric]["values"],
                                         stats["higher_is_better"])
                pairwise.append({"a": a["name"], "b": b["name"], "metric": metric,
                                 "mean_diff": diff.interval.mean,
                                 "ci95": None if diff.interval.low is None else [diff.interval.low,
                                                                                 diff.interval.high],
                                 "p_value": diff.p_value, "a_better_in": diff.a_better_in, "seeds": diff.seeds,
                                 "significant": diff.significant, "higher_is_better": stats["higher_is_better"]})
    return {"format": FORMAT, "scale": exp.scale.name, "scale_sha256": scale_hash(exp.scale),
            "tokenizer": exp.scale.tokenizer, "tokens_per_run": exp.scale.total_steps * exp.scale.tokens_per_step,
            "seeds": list(exp.seeds), "task_set": exp.task_set, "recipes": recipes, "pairwise": pairwise}


def _fmt(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _cell(stats: dict) -> str:
    if stats["ci95"] is None:
        return _fmt(stats["mean"])
    low, high = stats["ci95"]
    return f"{_fmt(stats['mean'])} [{_fmt(low)}, {_fmt(high)}]"


def _headline(name: str) -> bool:
    return not name.startswith("icl/")


def comparison_markdown(doc: dict) -> str:
    recipes = doc["recipes"]
    seeds = ", ".join(str(s) for s in doc["seeds"])
    lines = [f"# Comparison at scale `{doc['scale']}`", "",
             f"Scale hash `{doc['scale_sha256'][:16]}…`, tokenizer `{doc['tokenizer']}`, "
             f"{doc['tokens_per_run']:,} training tokens per run, seeds {seeds}, task set `{doc['task_set']}`. "
             "Only the data differs between the runs.", "",
             "## Data", "", "| recipe | documents | tokens | epochs |", "|---|---:|---:|---:|"]
    for r in recipes:
        lines.append(f"| {r['name']} | {r['documents']:,} | {r['dataset_tokens']:,} | {r['epochs']:.2f} |")
    names = [m for m in recipes[0]["metrics"] if all(m in r["metrics"] for r in recipes)]
    ordered = [m for m in names if _headline(m)] + [m for m in names if not _headline(m)]
    lines += ["", f"## Results: mean [95% CI] over {len(doc['seeds'])} seeds", "",
              "| metric | better | " + " | ".join(r["name"] for r in recipes) + " |",
              "|---|---|" + "---:|" * len(recipes)]
    for metric in ordered:
        better = "higher" if recipes[0]["metrics"][metric]["higher_is_better"] else "lower"
        lines.append(f"| {metric} | {better} | " + " | ".join(_cell(r["metrics"][metric]) for r in recipes) + " |")
    if doc["pairwise"]:
        lines += ["", "## Paired differences (A − B, paired by seed)", "",
                  "| metric | A | B | A − B [95% CI] | p | A better in | significant |",
                  "|---|---|---|---:|---:|---:|---|"]
        rows = sorted(doc["pairwise"], key=lambda p: (not _headline(p["metric"]), ordered.index(p["metric"])
                                                      if p["metric"] in ordered else 0))
        for p in rows:
            interval = "" if p["ci95"] is None else f" [{_fmt(p['ci95'][0])}, {_fmt(p['ci95'][1])}]"
            lines.append(f"| {p['metric']} | {p['a']} | {p['b']} | {_fmt(p['mean_diff'])}{interval} | "
                         f"{_fmt(p['p_value'], 3)} | {p['a_better_in']}/{p['seeds']} | "
                         f"{'yes' if p['significant'] else 'no'} |")
    lines += ["", "Intervals are Student-t intervals over seeds (paired by seed for differences); "
              "with 3 seeds the t quantile is 4.30, so only consistent differences are significant. "
              "Bits per byte are on held-out clean English text; lower is better.", ""]
    return "\n".join(lines)
