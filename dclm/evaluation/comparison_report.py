"""The comparison report: per-recipe means with 95% intervals, and paired differences.

``comparison.json`` holds no wall-clock fields, so the same experiment gives
the same file (timings go to ``timings.json``). Metrics, each read from the
runs' eval JSONs:

* ``core_bpb``: the gold answer's bits per byte, averaged over the DCLM Core
  tasks available offline (lower is better): the micro-scale headline, since
  a continuous likelihood ranks data long before accuracy leaves chance;
* ``bits_per_byte/<set>``: on each held-out English text set (lower is
  better; plain ``bits_per_byte`` when the task set has one);
* ``Core``, ``Extended``: mean centered accuracy over the Core tasks, and over
  every task (near chance at micro scale: reported, and labelled so);
* ``gold_bpb/<task>``, ``p_gold_norm/<task>``, ``icl/<task>``: per task, the
  gold answer's bits per byte, the gold choice's share of the probability
  mass, and the accuracy.

Besides the metrics, each recipe carries its documents, tokens and epochs,
the highest- and lowest-scored documents it kept (``examples``), and a flag
when it was trained on too little data (``--allow-repetition``). The
decontamination summary says how many evaluation items were left out.

Pairwise rows compare every two recipes on every metric, paired by seed
(see ``dclm.evaluation.comparison_stats``); "significant" means the 95% interval of the
difference excludes zero.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from dclm.evaluation.comparison_stats import mean_interval, paired_difference
from dclm.training.scales import scale_hash

FORMAT = "dclm-comparison/1"


def run_metrics(report: dict) -> dict[str, tuple[float, bool]]:
    """metric name -> (value, higher_is_better) from one eval JSON."""
    metrics: dict[str, tuple[float, bool]] = {}
    em = report["eval_metrics"]
    if em.get("core_bpb") is not None:
        metrics["core_bpb"] = (float(em["core_bpb"]), False)
    bpb = em.get("bits_per_byte") or {}
    if len(bpb) == 1:
        metrics["bits_per_byte"] = (float(next(iter(bpb.values()))), False)
    else:
        for name, value in bpb.items():
            metrics[f"bits_per_byte/{name}"] = (float(value), False)
    for key in ("Core", "Extended"):
        if report.get(key) is not None:
            metrics[key] = (float(report[key]), True)
    for task, value in sorted((em.get("gold_bpb") or {}).items()):
        metrics[f"gold_bpb/{task}"] = (float(value), False)
    for task, details in sorted(em.get("icl_details", {}).items()):
        if details.get("p_gold_norm") is not None:
            metrics[f"p_gold_norm/{task}"] = (float(details["p_gold_norm"]), True)
    for task, acc in sorted(em["icl"].items()):
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


def build_comparison(exp, per_recipe: list[tuple[str, Any, dict, list[dict]]], *,
                     examples: Optional[dict] = None, exclusions: Optional[dict] = None,
                     flagged: Sequence[str] = ()) -> dict:
    """The comparison document from each recipe's tokenize manifest and (seed-ordered) runs."""
    recipes = []
    for label, recipe, manifest, runs in per_recipe:
        heldout = sorted(runs[0]["report"]["eval_metrics"].get("heldout", {}))
        recipes.append({
            "name": label,
            "recipe": recipe.name,
            "recipe_sha256": recipe.digest,
            "documents": manifest["documents"],
            "dataset_tokens": manifest["dataset_tokens"],
            "epochs": manifest["epochs"],
            "heldout_text": heldout,
            "repetition_flag": next((line for line in flagged if line.startswith(f"recipe {label}:")), None),
            "examples": (examples or {}).get(label),
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
            "seeds": list(exp.seeds), "task_set": exp.task_set, "recipes": recipes, "pairwise": pairwise,
            "pool": getattr(exp, "pool_label", None), "decontamination": _exclusions_summary(exclusions)}


def _exclusions_summary(document: Optional[dict]) -> Optional[dict]:
    if not document:
        return None
    return {"ngram": document["ngram"], "sources": [s["name"] for s in document["sources"]],
            "items_checked": document["items_checked"], "excluded_counts": document["excluded_counts"],
            "excluded_by_source": document["excluded_by_source"]}


def _fmt(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _cell(stats: dict) -> str:
    if stats["ci95"] is None:
        return _fmt(stats["mean"])
    low, high = stats["ci95"]
    return f"{_fmt(stats['mean'])} [{_fmt(low)}, {_fmt(high)}]"


_NEAR_CHANCE = ("Core", "Extended")
_GROUPS = (("core_bpb",), ("bits_per_byte",), ("Core",), ("Extended",), ("gold_bpb/",), ("p_gold_norm/",),
           ("icl/",))


def _group(name: str) -> int:
    for rank, prefixes in enumerate(_GROUPS):
        if any(name == p or (p.endswith("/") and name.startswith(p)) or name.startswith(p + "/")
               for p in prefixes):
            return rank
    return len(_GROUPS)


def is_headline(name: str) -> bool:
    return _group(name) <= 3


def ordered_metrics(recipes: list[dict]) -> list[str]:
    names = [m for m in recipes[0]["metrics"] if all(m in r["metrics"] for r in recipes)]
    return sorted(names, key=lambda m: (_group(m), names.index(m)))


def metric_label(name: str) -> str:
    return f"{name} (near chance at this scale)" if name in _NEAR_CHANCE else name


def _data_section(doc: dict) -> list[str]:
    lines = ["## Data", "", "| recipe | documents | tokens | epochs |", "|---|---:|---:|---:|"]
    for r in doc["recipes"]:
        flag = " ⚠ repeated" if r.get("repetition_flag") else ""
        lines.append(f"| {r['name']} | {r['documents']:,} | {r['dataset_tokens']:,} | {r['epochs']:.2f}{flag} |")
    flagged = [r["repetition_flag"] for r in doc["recipes"] if r.get("repetition_flag")]
    if flagged:
        lines += ["", "**Not a valid comparison for the flagged recipes** (trained with --allow-repetition): "
                  + "; ".join(flagged) + "."]
    return lines


def _decontamination_section(doc: dict) -> list[str]:
    summary = doc.get("decontamination")
    if not summary:
        return []
    counts = summary["excluded_counts"]
    total = sum(counts.values())
    lines = ["", "## Decontamination", "",
             f"Evaluation items and held-out passages that share a word {summary['ngram']}-gram with any of "
             f"these sources are left out of every run: {', '.join(summary['sources'])}. {total} in all.", "",
             "| task or set | checked | left out |", "|---|---:|---:|"]
    for name, checked in summary["items_checked"].items():
        lines.append(f"| {name} | {checked:,} | {counts.get(name, 0):,} |")
    return lines


def _examples_section(doc: dict) -> list[str]:
    lines: list[str] = []
    for r in doc["recipes"]:
        ex = r.get("examples")
        if not ex:
            continue
        lines += ["", f"### {r['name']}: what it kept, by {ex['score']}", ""]
        for title, key in (("Highest", "highest"), ("Lowest", "lowest")):
            lines.append(f"{title}-scored:")
            lines.append("")
            for item in ex[key]:
                lines.append(f"- `{item['score']:.4f}` {item['text']}")
            lines.append("")
    return (["", "## Examples"] + lines) if lines else []


def comparison_markdown(doc: dict) -> str:
    recipes = doc["recipes"]
    seeds = ", ".join(str(s) for s in doc["seeds"])
    lines = [f"# Comparison at scale `{doc['scale']}`", ""]
    if doc.get("pool"):
        lines += [f"Pool: {doc['pool']}.", ""]
    lines += [f"Scale hash `{doc['scale_sha256'][:16]}…`, tokenizer `{doc['tokenizer']}`, "
              f"{doc['tokens_per_run']:,} training tokens per run, seeds {seeds}, task set `{doc['task_set']}`. "
              "Only the data differs between the runs.", ""]
    lines += _data_section(doc)
    ordered = ordered_metrics(recipes)
    lines += ["", f"## Results: mean [95% CI] over {len(doc['seeds'])} seeds", "",
              "| metric | better | " + " | ".join(r["name"] for r in recipes) + " |",
              "|---|---|" + "---:|" * len(recipes)]
    for metric in ordered:
        better = "higher" if recipes[0]["metrics"][metric]["higher_is_better"] else "lower"
        lines.append(f"| {metric_label(metric)} | {better} | "
                     + " | ".join(_cell(r["metrics"][metric]) for r in recipes) + " |")
    if doc["pairwise"]:
        lines += ["", "## Paired differences (A − B, paired by seed)", "",
                  "| metric | A | B | A − B [95% CI] | p | A better in | significant |",
                  "|---|---|---|---:|---:|---:|---|"]
        rows = sorted(doc["pairwise"], key=lambda p: (ordered.index(p["metric"]) if p["metric"] in ordered
                                                      else len(ordered)))
        for p in rows:
            interval = "" if p["ci95"] is None else f" [{_fmt(p['ci95'][0])}, {_fmt(p['ci95'][1])}]"
            lines.append(f"| {p['metric']} | {p['a']} | {p['b']} | {_fmt(p['mean_diff'])}{interval} | "
                         f"{_fmt(p['p_value'], 3)} | {p['a_better_in']}/{p['seeds']} | "
                         f"{'yes' if p['significant'] else 'no'} |")
    lines += _decontamination_section(doc)
    lines += _examples_section(doc)
    lines += ["", "Intervals are Student-t intervals over seeds (paired by seed for differences); "
              "with 3 seeds the t quantile is 4.30, so only consistent differences are significant. "
              "core_bpb is the gold answer's bits per byte averaged over the Core tasks; bits_per_byte is "
              "on held-out clean English text; for both, lower is better. At small scale every accuracy "
              "(Core, Extended, icl/*) sits near chance, so the likelihood metrics carry the comparison.", ""]
    return "\n".join(lines)
