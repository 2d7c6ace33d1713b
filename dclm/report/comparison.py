"""Reading ``DIR/comparison.json`` (made by ``dclm compare``) and what it points to.

The file is checked field by field, so a hand-edited or truncated one fails
with the field's path (``recipes[1].metrics.Core.ci95``) rather than a
KeyError deep in the page code. Run directories and curated directories are
looked up relative to DIR; ones that are missing are simply not shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from fsspec.core import url_to_fs

from dclm.errors import UsageError
from dclm.report.collect import StageData, collect_stage, is_stage_dir, read_json
from dclm.report.run_facts import RunData, collect_run, is_run_dir

FORMAT = "dclm-comparison/1"


@dataclass
class RecipeDirs:
    name: str
    curated_path: Optional[str] = None
    curated: Optional[StageData] = None
    runs: list[tuple[int, RunData]] = field(default_factory=list)


@dataclass
class ComparisonData:
    path: str
    doc: dict
    recipes: list[RecipeDirs]

    def metric_names(self) -> list[str]:
        """Metrics in the comparison's order: likelihoods (core_bpb, bits per byte), then
        accuracies (Core, Extended), then the per-task ones."""
        from dclm.evaluation.comparison_report import ordered_metrics

        return ordered_metrics(self.doc["recipes"]) if self.doc["recipes"] else []


def _fail(path: str, where: str, expected: str) -> UsageError:
    return UsageError(f"{path}: field {where}: expected {expected}")


def _need(path: str, data: dict, key: str, where: str, kind, expected: str) -> Any:
    if key not in data:
        raise UsageError(f"{path}: field {where}{key} is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _fail(path, f"{where}{key}", expected)
    return value


def _check_interval(path: str, value: Any, where: str) -> None:
    if value is None:
        return
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise _fail(path, where, "[low, high] or null")


def check_comparison(path: str, doc: dict) -> None:
    """Raise UsageError naming the first field that does not have the documented shape."""
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise UsageError(f"{path}: field format is {fmt!r}; this version reads {FORMAT!r}")
    recipes = _need(path, doc, "recipes", "", list, "a list of recipes")
    for i, recipe in enumerate(recipes):
        where = f"recipes[{i}]."
        if not isinstance(recipe, dict):
            raise _fail(path, where[:-1], "an object")
        _need(path, recipe, "name", where, str, "a string")
        metrics = _need(path, recipe, "metrics", where, dict, "an object of metrics")
        for name, stats in metrics.items():
            at = f"{where}metrics.{name}."
            if not isinstance(stats, dict):
                raise _fail(path, at[:-1], "an object")
            _need(path, stats, "mean", at, (int, float), "a number")
            _check_interval(path, stats.get("ci95"), f"{at}ci95")
            _need(path, stats, "higher_is_better", at, bool, "true or false")
        for j, run in enumerate(recipe.get("runs") or []):
            if not isinstance(run, dict) or not isinstance(run.get("run_dir"), str):
                raise _fail(path, f"{where}runs[{j}].run_dir", "a string")
    for i, pair in enumerate(doc.get("pairwise") or []):
        where = f"pairwise[{i}]."
        if not isinstance(pair, dict):
            raise _fail(path, where[:-1], "an object")
        for key in ("a", "b", "metric"):
            _need(path, pair, key, where, str, "a string")
        _need(path, pair, "mean_diff", where, (int, float), "a number")
        _check_interval(path, pair.get("ci95"), f"{where}ci95")
        _need(path, pair, "significant", where, bool, "true or false")


def _inside(root: str, relative: str) -> str:
    # run_dir values are written relative to DIR; an absolute one is used as it is.
    return relative if relative.startswith("/") or "://" in relative else f"{root}/{relative}"


def collect_comparison(path: str) -> Optional[ComparisonData]:
    """DIR/comparison.json and the curated and run directories it names; None without the file."""
    fs, real = url_to_fs(path)
    real = real.rstrip("/")
    file = f"{real}/comparison.json"
    if not fs.isfile(file):
        return None
    doc = read_json(fs, file)
    check_comparison(file, doc)
    root = path.rstrip("/")
    recipes = []
    for recipe in doc["recipes"]:
        dirs = RecipeDirs(recipe["name"])
        curated = f"{root}/curated/{recipe['name']}"
        # A name is a folder under curated/, never a path that climbs out of DIR.
        plain_name = "/" not in recipe["name"] and recipe["name"] not in ("", ".", "..")
        if plain_name and is_stage_dir(curated):
            dirs.curated_path, dirs.curated = f"curated/{recipe['name']}", collect_stage(curated)
        for run in recipe.get("runs") or []:
            run_path = _inside(root, run["run_dir"])
            if is_run_dir(run_path):
                dirs.runs.append((int(run.get("seed", len(dirs.runs))), collect_run(run_path)))
        recipes.append(dirs)
    return ComparisonData(file, doc, recipes)
