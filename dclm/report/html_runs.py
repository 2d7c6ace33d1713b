"""The sections of a training run's report and of a comparison (``dclm compare``) directory."""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from dclm.report import plots
from dclm.report.comparison import ComparisonData
from dclm.report.html_page import Section, cell, details, esc, figure, note, num_cell, number, row, table, warning
from dclm.report.html_stage import funnel_table
from dclm.report.run_facts import EvalSummary, RunData, config_summary

HEADLINE_METRICS = ("Core", "Extended", "bits_per_byte")


def _charted(metric: str) -> bool:
    """The comparison metrics that get a chart: the likelihood headline and Core."""
    return metric in ("core_bpb", "bits_per_byte", "Core") or metric.startswith("bits_per_byte/")


def _eval_tables(summary: EvalSummary) -> str:
    head = [row([cell(key), num_cell(value, kind="eval-headline")], data_metric=key)
            for key, value in summary.headline.items()]
    head += [row([cell(f"bits_per_byte ({name})"), num_cell(value, kind="eval-bpb")], data_metric="bits_per_byte")
             for name, value in summary.bits_per_byte.items()]
    tasks = [row([cell(name), num_cell(acc, kind="eval-acc"), num_cell(centered, kind="eval-centered")],
                 data_task=name) for name, acc, centered in summary.tasks]
    parts = [f"<h3>{esc(summary.name)}</h3>", table(["metric", "value"], head, class_="eval-headline"),
             table(["task", "accuracy", "centered accuracy"], tasks, class_="eval-tasks")]
    if summary.missing and summary.missing not in ("[]", "()"):
        parts.append(note(f"tasks missing from this set: {summary.missing}"))
    return "".join(parts)


def run_sections(run: RunData) -> list[Section]:
    config = table(["field", "value"],
                   [row([cell(k), cell(number(v) if isinstance(v, (int, float)) else v)], data_field=k)
                    for k, v in config_summary(run.config)], id="run-config")
    parts = [config]
    if run.loss:
        parts.append(figure(plots.loss_chart([(run.label, run.steps, run.loss)]), "training loss per step",
                            f"Training loss of {len(run.loss):,} logged steps (metrics.jsonl); "
                            f"last {run.loss[-1]:.4f} at step {run.steps[-1]:,}."))
    else:
        parts.append(note("metrics.jsonl holds no steps yet."))
    sections = [Section("training", "Training run", "".join(parts))]
    if run.evals:
        sections.append(Section("evaluation", "Evaluation", "".join(_eval_tables(e) for e in run.evals)))
    return sections


def _interval(stats: dict) -> str:
    ci = stats.get("ci95")
    mean = f"{stats['mean']:.4f}"
    return mean if ci is None else f"{mean} [{ci[0]:.4f}, {ci[1]:.4f}]"


def _best(comparison: ComparisonData, metric: str) -> Optional[str]:
    scored = [(r["metrics"][metric]["mean"], r["name"]) for r in comparison.doc["recipes"] if metric in r["metrics"]]
    if len(scored) < 2:
        return None
    better_high = next(r["metrics"][metric]["higher_is_better"] for r in comparison.doc["recipes"]
                       if metric in r["metrics"])
    return (max(scored) if better_high else min(scored))[1]


def _metric_cell(stats: dict, metric: str, is_best: bool, **attributes) -> str:
    ci = stats.get("ci95")
    return cell(_interval(stats), class_="best" if is_best else None, data_metric=metric,
                data_mean=repr(float(stats["mean"])), data_low=None if ci is None else repr(float(ci[0])),
                data_high=None if ci is None else repr(float(ci[1])), **attributes)


def _recipe_table(comparison: ComparisonData) -> str:
    """What each recipe trained on: documents, tokens, epochs."""
    rows = [row([cell(recipe["name"]), num_cell(recipe.get("documents")), num_cell(recipe.get("dataset_tokens")),
                 num_cell(recipe.get("epochs"), digits=2)], class_="recipe-row", data_recipe=recipe["name"])
            for recipe in comparison.doc["recipes"]]
    return table(["recipe", "documents", "dataset tokens", "epochs"], rows, id="comparison-table")


def _metrics_table(comparison: ComparisonData, headline: bool) -> str:
    """Metrics as rows, one column per recipe: stays readable with many metrics and long intervals."""
    from dclm.evaluation.comparison_report import is_headline, metric_label

    recipes = comparison.doc["recipes"]
    rows = []
    for metric in [m for m in comparison.metric_names() if is_headline(m) == headline]:
        best = _best(comparison, metric)
        higher = next(r["metrics"][metric]["higher_is_better"] for r in recipes if metric in r["metrics"])
        cells = [cell(metric_label(metric)), cell("↑" if higher else "↓")]
        for recipe in recipes:
            stats = recipe["metrics"].get(metric)
            cells.append(cell("–") if stats is None else
                         _metric_cell(stats, metric, best == recipe["name"], data_recipe=recipe["name"]))
        rows.append(row(cells, class_="metric-row", data_metric=metric))
    return table(["metric", "better"] + [r["name"] for r in recipes], rows,
                 id="headline-table" if headline else "per-task-table")


def _decontamination(doc: dict) -> str:
    summary = doc.get("decontamination")
    if not summary:
        return ""
    counts = summary.get("excluded_counts") or {}
    rows = [row([cell(name), num_cell(checked, digits=0), num_cell(counts.get(name, 0), digits=0)],
                data_task=name) for name, checked in (summary.get("items_checked") or {}).items()]
    return ("<h3>Decontamination</h3>"
            + note(f"Evaluation items and held-out passages that share a word {summary.get('ngram')}-gram with "
                   f"any of these sources are left out of every run: {', '.join(summary.get('sources') or [])}.")
            + table(["task or set", "items checked", "left out"], rows, id="decontamination-table"))


def _examples(doc: dict) -> str:
    parts = []
    for recipe in doc["recipes"]:
        ex = recipe.get("examples")
        if not ex:
            continue
        lists = []
        for title, key in (("highest-scored", "highest"), ("lowest-scored", "lowest")):
            items = "".join(f'<li><code>{item["score"]:.4f}</code> {esc(item["text"])}</li>' for item in ex[key])
            lists.append(f"<h4>{title}</h4><ol class=\"examples\" data-kind=\"{key}\">{items}</ol>")
        parts.append(details(f"{recipe['name']}: kept documents by {ex['score']}", "".join(lists),
                             data_recipe=recipe["name"]))
    return ("<h3>What each recipe kept</h3>" + "".join(parts)) if parts else ""


def _pairwise_table(comparison: ComparisonData, headline: bool) -> str:
    from dclm.evaluation.comparison_report import is_headline

    rows = []
    for pair in comparison.doc.get("pairwise") or []:
        if is_headline(pair["metric"]) != headline:
            continue
        ci = pair.get("ci95")
        seeds = pair.get("seeds")
        rows.append(row([cell(pair["a"]), cell(pair["b"]), cell(pair["metric"]),
                         num_cell(float(pair["mean_diff"]), kind="pair-diff"),
                         cell("–" if ci is None else f"[{ci[0]:.4f}, {ci[1]:.4f}]"),
                         cell(f"{pair.get('a_better_in', '–')}/{seeds if seeds is not None else '–'}"),
                         cell("yes" if pair["significant"] else "no", class_="best" if pair["significant"] else None)],
                        class_="pair-row", data_a=pair["a"], data_b=pair["b"], data_metric=pair["metric"],
                        data_significant="true" if pair["significant"] else "false"))
    return table(["A", "B", "metric", "A − B", "95% CI", "A better in", "significant"], rows,
                 id="pairwise-table" if headline else "pairwise-per-task-table")


def comparison_sections(comparison: ComparisonData) -> list[Section]:
    doc = comparison.doc
    seeds = doc.get("seeds") or []
    pool = f"Pool: {doc['pool']}. " if doc.get("pool") else ""
    intro = note(f"{pool}Scale {doc.get('scale', '?')}, task set {doc.get('task_set', '?')}, seeds "
                 f"{', '.join(map(str, seeds)) or '?'}: every recipe trains the same model with the same "
                 f"seeds and token budget, so the data is the only difference. Cells are the mean over seeds "
                 f"with its 95% t interval; ↑/↓ says which direction is better; bold marks the best mean. "
                 f"core_bpb and bits per byte are the likelihood metrics that move at small scale; the "
                 f"accuracies (Core, Extended, icl/*) sit near chance there.")
    parts = [intro, _recipe_table(comparison), _metrics_table(comparison, headline=True)]
    flagged = [r["repetition_flag"] for r in doc["recipes"] if r.get("repetition_flag")]
    if flagged:
        parts.append(warning("Not a valid comparison for these recipes (trained with --allow-repetition): "
                             + "; ".join(flagged) + "."))
    repeated = [f"{r['name']} ({r['epochs']:.2f}×)" for r in doc["recipes"]
                if isinstance(r.get("epochs"), (int, float)) and r["epochs"] > 1]
    if repeated:
        # Same token budget for every recipe: a small curated set is seen several times.
        parts.append(note("Repeated data: these recipes' curated data is smaller than the token budget, so "
                          f"training saw it more than once: {', '.join(repeated)}."))
    for metric in [m for m in comparison.metric_names() if _charted(m)]:
        holders = [r for r in doc["recipes"] if metric in r["metrics"]]
        parts.append(figure(plots.interval_chart(
            metric, [r["name"] for r in holders], [float(r["metrics"][metric]["mean"]) for r in holders],
            [r["metrics"][metric].get("ci95") for r in holders], holders[0]["metrics"][metric]["higher_is_better"]),
            f"{metric} per recipe with 95% intervals"))
    if doc.get("pairwise"):
        parts.append("<h3>Paired differences</h3>")
        parts.append(note("A − B per seed, paired (same seed, same initial weights and batch order); "
                          "significant when the 95% interval of the difference excludes zero. For a "
                          "lower-is-better metric a negative difference favours A."))
        parts.append(_pairwise_table(comparison, headline=True))
    parts.append("<h3>Per task</h3>" + _metrics_table(comparison, headline=False))
    if doc.get("pairwise"):
        parts.append(details("paired differences per task", _pairwise_table(comparison, headline=False),
                             class_="pairwise-per-task"))
    parts.append(_decontamination(doc))
    parts.append(_examples(doc))
    sections = [Section("comparison", "Comparison", "".join(parts))]
    curves = [(f"{d.name} seed {seed}", run.steps, run.loss) for d in comparison.recipes for seed, run in d.runs
              if run.loss]
    if curves:
        sections.append(Section("comparison-training", "Training runs",
                                figure(plots.loss_chart(curves), "training loss of every run")))
    curated = [d for d in comparison.recipes if d.curated is not None]
    if curated:
        parts = []
        for index, d in enumerate(curated):
            rows = d.curated.rows
            link = (f'<p class="note">folder: <a href="{esc(quote(d.curated_path))}/">'
                    f"{esc(d.curated_path)}/</a></p>")
            summary = (f"{d.name}: {rows[0].counts.docs_in:,} in → {rows[-1].counts.docs_out:,} documents out"
                       if rows else f"{d.name}: no steps recorded")
            parts.append(details(summary, link + funnel_table(d.curated, prefix=f"curated-{index}"),
                                 class_="curated", data_recipe=d.name))
        sections.append(Section("curated", "Curated data per recipe", "".join(parts)))
    return sections
