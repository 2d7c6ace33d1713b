"""Loading and validating recipes in DCLM's YAML format, before any document is read.

A recipe is a list of ``{source: NAME, steps: [...]}`` blocks. A step is
``{func: NAME, <kwargs>}``; the plain string ``commit`` is accepted (DCLM uses
it to flush intermediate state; here every step streams, so it is a no-op).
Keys starting with ``_`` (DCLM's ``_aggregate``) and a block's ``weight`` are
bookkeeping for DCLM's own runner and are ignored.

Every problem is reported with the step number and name: an unknown ``func``
(with close matches), a missing or unexpected parameter, an unreadable banlist.

DCLM's recipes name files relative to DCLM's checkout
(``baselines/mappers/banlists/...``). With a checkout given (``--dclm-root``
or ``DCLM_ROOT``), those files are read from it, and DCLM's ``iana_tlds.txt``
becomes ``url_removal_modifier``'s default, as in DCLM; only files it lacks
fall back to our stand-ins in ``filters/banlists/``, with a warning.
"""
from __future__ import annotations

import difflib
import hashlib
import inspect
import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Optional

import yaml

from dclm.errors import UsageError
from dclm.io import bounded_yaml
from dedup.step_settings import GLOBAL_STEPS, global_step_settings
from filters.operator import FILTER, GLOBAL, Operator
from filters.parameter_checks import parameter_problems

# Parameters that name files, resolved against the recipe's folder, then the
# working directory, then our stand-ins for DCLM's lists.
_PATH_PARAMS = ("banlist_from_fname", "tlds_filepath", "model_filename")
DCLM_ROOT_ENV = "DCLM_ROOT"
# Where DCLM keeps its word lists and TLD list, inside its checkout.
_DCLM_LIST_DIRS = ("baselines/mappers/banlists", "baselines/mappers")
_DCLM_TLDS = "baselines/mappers/iana_tlds.txt"
# Where DCLM's quality enricher looks for model_filename.
_DCLM_MODEL_DIR = "baselines/mappers/enrichers/quality_prediction_enrichment_models"
# Files DCLM's setup.py downloads, so a missing one can say where it comes from.
_DCLM_DOWNLOADS = {
    "fasttext_oh_eli5.bin": "https://huggingface.co/mlfoundations/fasttext-oh-eli5/resolve/main/"
                            "openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin",
    "refinedweb_banned_domains_curated.txt": "https://huggingface.co/datasets/mlfoundations/"
                                             "refinedweb_banned_domains_curated/resolve/main/"
                                             "refinedweb_banned_domains_curated.txt",
}


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
    source: Optional[str]            # None when the recipe's one block names no source
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


def dclm_root_from(value: Optional[str] = None) -> Optional[str]:
    """The DCLM checkout to read lists from: ``value``, else ``$DCLM_ROOT``, else none."""
    root = value or os.environ.get(DCLM_ROOT_ENV) or None
    if root and not os.path.isdir(os.path.join(root, "baselines")):
        raise UsageError(f"DCLM checkout {root!r} has no baselines/ folder; --dclm-root "
                         f"(or ${DCLM_ROOT_ENV}) must be the root of a clone of mlfoundations/dclm")
    return os.path.abspath(root) if root else None


def _resolve_path(value: str, recipe_dir: str, where: str, warnings: list[str],
                  dclm_root: Optional[str] = None) -> str:
    from filters.url_filters import DCLM_BANLIST_STANDINS

    bases = [recipe_dir, os.getcwd()]
    if dclm_root:
        bases.append(dclm_root)
    for base in bases:
        candidate = value if os.path.isabs(value) else os.path.join(base, value)
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    name = os.path.basename(value)
    for folder in (*_DCLM_LIST_DIRS, _DCLM_MODEL_DIR) if dclm_root else ():
        candidate = os.path.join(dclm_root, folder, name)
        if os.path.isfile(candidate):
            return candidate
    standin = DCLM_BANLIST_STANDINS.get(name)
    if standin and os.path.isfile(standin):
        origin = (f"not in {dclm_root} either" if dclm_root
                  else f"no DCLM checkout given (--dclm-root or ${DCLM_ROOT_ENV})")
        warnings.append(f"{where}: {value} not found ({origin}); using the bundled stand-in {standin} "
                        f"(much shorter than DCLM's list; where to get DCLM's: filters/banlists/README.md)")
        return standin
    looked = ", ".join(bases + ([os.path.join(dclm_root, _DCLM_MODEL_DIR)] if dclm_root else []))
    hint = ""
    if name in _DCLM_DOWNLOADS:
        hint = (f"; DCLM's setup.py downloads it from {_DCLM_DOWNLOADS[name]} into "
                f"DCLM_ROOT/{_DCLM_MODEL_DIR if name.endswith('.bin') else _DCLM_LIST_DIRS[0]}/{name}: "
                f"save it there and pass --dclm-root, or next to the recipe")
    raise UsageError(f"{where}: file {value!r} not found (looked in {looked}){hint}")


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


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _unknown_func(name: str, where: str) -> UsageError:
    from filters.registry import operator_names

    close = difflib.get_close_matches(name, operator_names(), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return UsageError(f"{where}: unknown func {name!r}.{hint}")


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
            global_step_settings(name, kwargs)
    except (ValueError, UsageError) as exc:
        raise UsageError(f"{where}: {exc}") from exc
    return RecipeStep(number=number, name=name, kwargs=kwargs, op=Operator(name, GLOBAL, _needs_whole_run))


# DCLM mappers we do not run, with why; a recipe naming one fails at load.
UNSUPPORTED_DCLM_STEPS = {
    **{name: "source-specific (arXiv LaTeX)" for name in (
        "arxiv_appendix_modifier", "arxiv_comment_modifier", "arxiv_macro_modifier",
        "arxiv_section_strip_modifier")},
    **{name: "source-specific (StackExchange dumps)" for name in (
        "stackexchange_list_modifier", "stackexchange_answer_sort_modifier",
        "stackexchange_html_extraction_modifier", "stackexchange_qa_formatter")},
    **{name: "source-specific (StarCoder repositories)" for name in (
        "starcoder_v2_repo_splitter", "starcoder_v2_format_modifier", "github_extension_filter")},
    "ken_lm_perplexity_enricher": "needs KenLM models and the kenlm package",
    "html_content_extraction_modifier": "HTML is extracted by `dclm extract`/`dclm run`, not by a step",
}


def _compile_step(number: int, raw: Any, recipe_dir: str, warnings: list[str],
                  dclm_root: Optional[str]) -> RecipeStep:
    from filters.registry import OPERATORS

    if not isinstance(raw, dict) or "func" not in raw:
        raise UsageError(f"step {number}: expected a mapping with 'func' (or 'commit'), got {_short(raw)}")
    name = raw["func"]
    if not isinstance(name, str):
        raise UsageError(f"step {number}: func must be one operator name (a string), got {_short(name)}")
    where = f"step {number} ({name})"
    kwargs = {k: v for k, v in raw.items() if k != "func" and not str(k).startswith("_")}
    if name in GLOBAL_STEPS or _is_top_fraction(name, kwargs):
        return _global_step(number, name, kwargs, where)
    op = OPERATORS.get(name)
    if op is None:
        if name in UNSUPPORTED_DCLM_STEPS:
            raise UsageError(f"{where}: DCLM's {name} is not supported here: {UNSUPPORTED_DCLM_STEPS[name]}")
        raise _unknown_func(name, where)
    if name == "url_removal_modifier" and "tlds_filepath" not in kwargs and dclm_root \
            and os.path.isfile(os.path.join(dclm_root, _DCLM_TLDS)):
        kwargs["tlds_filepath"] = os.path.join(dclm_root, _DCLM_TLDS)  # DCLM's default
    for param in _PATH_PARAMS:
        if isinstance(kwargs.get(param), str):
            kwargs[param] = _resolve_path(kwargs[param], recipe_dir, where, warnings, dclm_root)
            _check_readable(kwargs[param], where)
    _check_arguments(op, kwargs, where)
    problems = parameter_problems(op, kwargs)
    if problems:
        raise UsageError(f"{where}: " + "; ".join(problems))
    if op.check is not None:  # an operator's own load-time checks (models, packages)
        try:
            op.check(**kwargs)
        except (ValueError, ImportError, OSError) as exc:
            raise UsageError(f"{where}: {exc}") from exc
    return RecipeStep(number=number, name=name, kwargs=kwargs, op=op)


def _split_line_problems(steps: list[RecipeStep]) -> list[str]:
    """Link DCLM's split_lines_modifier to the exact_dedup on its lines; what cannot run.

    An ``exact_dedup`` of the text between ``split_lines_modifier`` and
    ``join_lines_modifier`` works on lines (DCLM's paragraph dedup in
    ``c4.yaml``); it is told the delimiter here.
    """
    problems, split_at = [], None
    for step in steps:
        if step.name == "split_lines_modifier":
            split_at = split_at or step
        elif step.name == "join_lines_modifier":
            split_at = None
        elif split_at is not None and step.op.kind == GLOBAL:
            column = step.kwargs.get("content_key", step.kwargs.get("column", "text"))
            if step.name == "exact_dedup" and column == "text":
                step.kwargs["lines_delimiter"] = split_at.kwargs.get("delimiter", "\n")
                global_step_settings(step.name, step.kwargs)
            elif step.name != "exact_dedup":
                problems.append(f"step {step.number} ({step.name}): runs between split_lines_modifier "
                                f"(step {split_at.number}) and join_lines_modifier; only exact_dedup "
                                f"works on lines")
    return problems


def _step_number(problem: str) -> int:
    match = re.match(r"step (\d+)", problem)
    return int(match.group(1)) if match else 0


def _compile_steps(raw_steps: list, recipe_dir: str, warnings: list[str],
                   dclm_root: Optional[str] = None) -> list[RecipeStep]:
    """Every step compiled; every problem of every step reported in one error."""
    steps: list[RecipeStep] = []
    problems: list[str] = []
    seen_filters: set[str] = set()
    for number, raw in enumerate(raw_steps, start=1):
        if raw == "commit":
            continue
        try:
            step = _compile_step(number, raw, recipe_dir, warnings, dclm_root)
        except UsageError as exc:
            problems.append(str(exc))
            continue
        if step.op.kind == FILTER:
            if step.name in seen_filters:
                step = RecipeStep(number=step.number, name=step.name, kwargs=step.kwargs, op=step.op,
                                  column_suffix=f"__{number}")
            seen_filters.add(step.name)
        steps.append(step)
    problems += _split_line_problems(steps)
    problems.sort(key=_step_number)
    if any("unknown func" in problem for problem in problems):
        from filters.registry import operator_names
        problems.append(f"Valid names: {', '.join(operator_names())}")
    if len(problems) == 1:
        raise UsageError(problems[0])
    if problems:
        raise UsageError("this recipe cannot run:\n  " + "\n  ".join(problems))
    return steps


def parse_recipe(text: str, path: str, source: Optional[str] = None,
                 dclm_root: Optional[str] = None) -> Recipe:
    """Validate recipe text; ``path`` is used for messages and relative file names."""
    try:
        data = bounded_yaml.safe_load(text)
    except bounded_yaml.YamlLimitError as exc:
        raise UsageError(f"{path}: {exc}") from None
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
    steps = _compile_steps(steps_raw, os.path.dirname(os.path.abspath(path)), warnings,
                           dclm_root_from(dclm_root))
    name = os.path.basename(path)
    name = name[:-5] if name.endswith(".yaml") else name
    # A block without ``source`` runs as it is; recording None (not "") lets workers find it again.
    block_source = None if block.get("source") is None else str(block["source"])
    return Recipe(name=name, path=path, source=block_source, steps=steps,
                  digest=hashlib.sha256(text.encode()).hexdigest(), warnings=warnings)


def load_recipe(name_or_path: str, source: Optional[str] = None, announce: bool = True,
                dclm_root: Optional[str] = None) -> Recipe:
    """A built-in recipe by name (``dclm_baseline``) or a YAML file, fully validated."""
    path = _find_recipe(name_or_path)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read recipe {path}: {exc.strerror}") from exc
    recipe = parse_recipe(text, path, source, dclm_root)
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
