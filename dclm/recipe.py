"""Loading and validating recipes in DCLM's YAML format, before any document is read.

A recipe is a list of ``{source: NAME, steps: [...]}`` blocks. A step is
``{func: NAME, <kwargs>}``; the plain string ``commit`` is accepted (DCLM uses
it to flush intermediate state; here every step streams, so it is a no-op).
Keys starting with ``_`` (DCLM's ``_aggregate``) and a block's ``weight`` are
bookkeeping for DCLM's own runner and are ignored.

Every problem is reported with the step number and name: an unknown ``func``
(with close matches), a missing or unexpected parameter, an unreadable banlist.
"""
from __future__ import annotations

import difflib
import hashlib
import inspect
import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Optional

import yaml

from dclm.errors import UsageError
from filters.operator import FILTER, GLOBAL, Operator

# Parameters that name files, resolved against the recipe's folder, then the
# working directory, then our stand-ins for DCLM's lists.
_PATH_PARAMS = ("banlist_from_fname", "tlds_filepath", "model_filename")
GLOBAL_STEP_NAMES = ("exact_dedup", "url_dedup", "minhash_dedup", "bff_dedup")


@dataclass(frozen=True)
class RecipeStep:
    number: int                      # 1-based position in the recipe, as users count
    name: str
    kwargs: dict[str, Any]
    op: Operator
    column_suffix: str = ""          # set when the same filter appears twice

    @property
    def label(self) -> str:
        return f"{self.number:02d}_{self.name}"

    @property
    def is_filter(self) -> bool:
        return self.op.kind == FILTER and self.op.signals is not None

    def signal_columns(self, signals: dict[str, Any]) -> dict[str, Any]:
        if not self.column_suffix:
            return signals
        return {f"{key}{self.column_suffix}": value for key, value in signals.items()}


@dataclass
class Recipe:
    name: str
    path: str
    source: str
    steps: list[RecipeStep]
    digest: str                      # sha256 of the recipe file: which recipe made a dataset
    warnings: list[str] = field(default_factory=list)


def builtin_recipe_names() -> list[str]:
    folder = resources.files("baselines")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _find_recipe(name_or_path: str) -> str:
    if os.path.exists(name_or_path):
        return name_or_path
    candidate = resources.files("baselines") / f"{name_or_path}.yaml"
    if candidate.is_file():
        return str(candidate)
    names = builtin_recipe_names()
    hint = difflib.get_close_matches(name_or_path, names, n=3)
    raise UsageError(f"recipe {name_or_path!r} is neither a file nor a built-in recipe"
                     + (f" (did you mean {', '.join(hint)}?)" if hint else "")
                     + f"; built-in recipes: {', '.join(names)}")


def _resolve_path(value: str, recipe_dir: str, where: str, warnings: list[str]) -> str:
    from filters.url_filters import DCLM_BANLIST_STANDINS

    for base in (recipe_dir, os.getcwd()):
        candidate = value if os.path.isabs(value) else os.path.join(base, value)
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    standin = DCLM_BANLIST_STANDINS.get(os.path.basename(value))
    if standin and os.path.isfile(standin):
        warnings.append(f"{where}: {value} not found; using the bundled stand-in {standin} "
                        f"(much shorter than DCLM's list, see filters/banlists/README.md)")
        return standin
    raise UsageError(f"{where}: file {value!r} not found (looked in {recipe_dir} and {os.getcwd()})")


def _check_readable(path: str, where: str) -> None:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise UsageError(f"{where}: cannot read {path}: {exc.strerror}") from exc


def _check_arguments(op: Operator, kwargs: dict[str, Any], where: str) -> None:
    signature = inspect.signature(op.func)
    params = list(signature.parameters)[1:]        # the first is the page
    try:
        signature.bind({}, **kwargs)
    except TypeError as exc:
        raise UsageError(f"{where}: {exc}; {op.name} accepts: {', '.join(params)}") from exc


def _unknown_func(name: str, where: str) -> UsageError:
    from filters.registry import operator_names

    names = operator_names()
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return UsageError(f"{where}: unknown func {name!r}.{hint} Valid names: {', '.join(names)}")


def _is_top_fraction(name: str, kwargs: dict[str, Any]) -> bool:
    return name == "quality_filter" and kwargs.get("top_fraction") is not None


def _needs_whole_run(page: dict, **kwargs) -> list:
    raise RuntimeError("a global step cannot run on one page; the recipe runner runs it over all shards")


def _global_step(number: int, name: str, kwargs: dict[str, Any], where: str) -> RecipeStep:
    """Dedup and top-fraction selection see every shard, so they cut the recipe in segments."""
    try:
        if name == "quality_filter":
            from filters.bookkeeping import check_top_fraction

            check_top_fraction(kwargs["top_fraction"])
            unknown = set(kwargs) - {"key", "top_fraction", "lower_better", "threshold", "key_must_exist"}
            if unknown:
                raise ValueError(f"unexpected parameters {sorted(unknown)}")
        else:
            from pipelines.global_steps import check_global_step

            check_global_step(name, kwargs)
    except (ValueError, UsageError) as exc:
        raise UsageError(f"{where}: {exc}") from exc
    return RecipeStep(number=number, name=name, kwargs=kwargs, op=Operator(name, GLOBAL, _needs_whole_run))


def _compile_steps(raw_steps: list, recipe_dir: str, warnings: list[str]) -> list[RecipeStep]:
    from filters.registry import OPERATORS

    steps: list[RecipeStep] = []
    seen_filters: set[str] = set()
    for number, raw in enumerate(raw_steps, start=1):
        if raw == "commit":
            continue
        if not isinstance(raw, dict) or "func" not in raw:
            raise UsageError(f"step {number}: expected a mapping with 'func' (or 'commit'), got {raw!r}")
        name = raw["func"]
        where = f"step {number} ({name})"
        kwargs = {k: v for k, v in raw.items() if k != "func" and not str(k).startswith("_")}
        if name in GLOBAL_STEP_NAMES or _is_top_fraction(name, kwargs):
            steps.append(_global_step(number, name, kwargs, where))
            continue
        op = OPERATORS.get(name)
        if op is None:
            raise _unknown_func(name, where)
        for param in _PATH_PARAMS:
            if isinstance(kwargs.get(param), str):
                kwargs[param] = _resolve_path(kwargs[param], recipe_dir, where, warnings)
                _check_readable(kwargs[param], where)
        _check_arguments(op, kwargs, where)
        suffix = ""
        if op.kind == FILTER:
            suffix = f"__{number}" if name in seen_filters else ""
            seen_filters.add(name)
        steps.append(RecipeStep(number=number, name=name, kwargs=kwargs, op=op, column_suffix=suffix))
    return steps


def parse_recipe(text: str, path: str, source: Optional[str] = None) -> Recipe:
    """Validate recipe text; ``path`` is used for messages and relative file names."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "steps" in data:
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(b, dict) and "steps" in b for b in data):
        raise UsageError(f"{path}: a recipe is a list of {{source: NAME, steps: [...]}} blocks")
    if source is None and len(data) > 1:
        raise UsageError(f"{path}: the recipe has several sources "
                         f"({', '.join(str(b.get('source')) for b in data)}); choose one with --source")
    block = data[0] if source is None else next((b for b in data if b.get("source") == source), None)
    if block is None:
        raise UsageError(f"{path}: no block with source {source!r}")
    steps_raw = block.get("steps") or []
    if not isinstance(steps_raw, list):
        raise UsageError(f"{path}: 'steps' must be a list")
    warnings: list[str] = []
    steps = _compile_steps(steps_raw, os.path.dirname(os.path.abspath(path)), warnings)
    name = os.path.basename(path)
    name = name[:-5] if name.endswith(".yaml") else name
    return Recipe(name=name, path=path, source=str(block.get("source", "")), steps=steps,
                  digest=hashlib.sha256(text.encode()).hexdigest(), warnings=warnings)


def load_recipe(name_or_path: str, source: Optional[str] = None, announce: bool = True) -> Recipe:
    """A built-in recipe by name (``dclm_baseline``) or a YAML file, fully validated."""
    path = _find_recipe(name_or_path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read recipe {path}: {exc.strerror}") from exc
    recipe = parse_recipe(text, path, source)
    if announce:
        for warning in recipe.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return recipe


def recipe_for_record(recipe: Recipe) -> dict[str, Any]:
    """What a ledger and run manifest store about the recipe."""
    return {"recipe": recipe.name, "recipe_sha256": recipe.digest, "source": recipe.source,
            "steps": [{"number": s.number, "func": s.name, **s.kwargs} for s in recipe.steps]}


def is_global(step: RecipeStep) -> bool:
    return step.op.kind == GLOBAL
