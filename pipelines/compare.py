"""``dclm compare``: the controlled experiment, from WARC files to a ranked report.

Everything that is not data is fixed by the scale (model, tokenizer, token
budget, optimizer) and the task set; the recipes only decide which documents
the model sees. The experiment directory holds every intermediate product,
so a rerun, or a rerun with one more recipe or seed, redoes nothing that
already exists::

    DIR/experiment.json           inputs, extractor, scale and task set (fixed for DIR)
    DIR/extracted/                 one extraction of the WARC files, shared by every recipe
    DIR/curated/<recipe>/          the recipe's steps over the shared extraction
    DIR/exclusions.json            evaluation items the pool (or a classifier's data) contains
    DIR/tokens/<recipe>/           tokenized with the scale's tokenizer and shuffle seed
    DIR/runs/<recipe>/seed<N>/     one training run, with eval_<set>.json
    DIR/comparison.json, .md       the report (deterministic: no wall-clock fields)
    DIR/timings.json               where the time went in the latest invocation

The expensive part of curation, reading WARC records and extracting main
text, happens once. Each recipe's steps then run on that extraction (line
modifiers rewrite the text, so one recipe's signals are not another's).

A comparison is only valid when every recipe has enough data: a recipe whose
curated tokens are under a quarter of the scale's budget would be repeated
more than four times, and the model would memorise it rather than learn from
it (DCLM picks its top 10% from a pool many times its budget). Every recipe
is tokenized before any training, and such a recipe stops the comparison
with exit code 1 unless ``allow_repetition``; the report then flags it.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from dclm.errors import UsageError
from dclm.io.atomic_files import write_bytes_atomic
from dclm.recipe import Recipe, recipe_for_record
from dclm.runtime.stage import EXIT_OK
from dclm.training.scales import Scale, scale_hash
from pipelines.compare_contamination import compute_exclusions, exclusions_line, read_document

FORMAT = "dclm-compare/1"
# Below this share of the budget a recipe's data would be seen more than 4 times.
MIN_BUDGET_SHARE = 0.25


@dataclass
class Experiment:
    recipes: list[tuple[str, Recipe]]      # (label, recipe), in the order given
    inputs: list[str]                      # WARC shard URLs
    scale: Scale
    seeds: list[int]
    task_set: str
    output: Path
    extractor: str = "resiliparse"
    time_limit_s: float = 10.0
    device: str = "auto"
    threads: Optional[int] = None
    ray_address: Optional[str] = None
    num_cpus: Optional[int] = None
    progress: bool = True
    allow_repetition: bool = False
    pool_label: Optional[str] = None             # what the input is, for the report ("blog pool", ...)
    decontaminate_against: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    exclusions_path: Optional[Path] = None

    def curated_dir(self, label: str) -> Path:
        return self.output / "curated" / label

    def tokens_dir(self, label: str) -> Path:
        return self.output / "tokens" / label

    def run_dir(self, label: str, seed: int) -> Path:
        return self.output / "runs" / label / f"seed{seed}"


def describe_pool(inputs: list[str]) -> str:
    """The input's own description when a README.md beside it has a title, else a count of files."""
    folders = sorted({str(Path(url).parent) for url in inputs if "://" not in url})
    for folder in folders[:1]:
        readme = Path(folder) / "README.md"
        if readme.is_file():
            for line in readme.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("# "):
                    return f"{line[2:].strip()} ({len(inputs)} files in {folder})"
    return f"{len(inputs)} input files"


def recipe_label(spec: str, recipe: Recipe) -> str:
    """A directory-safe name: the built-in name, or a YAML file's stem."""
    stem = Path(spec).stem if spec.endswith((".yaml", ".yml")) else spec
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or recipe.name
    return label


def label_recipes(specs: list[str], recipes: list[Recipe]) -> list[tuple[str, Recipe]]:
    labels = [recipe_label(spec, recipe) for spec, recipe in zip(specs, recipes, strict=True)]
    seen: dict[str, str] = {}
    for label, spec in zip(labels, specs, strict=True):
        if label in seen:
            raise UsageError(f"recipes {seen[label]!r} and {spec!r} would share the directory name {label!r}; "
                             "rename one of the files")
        seen[label] = spec
    return list(zip(labels, recipes, strict=True))


def _identity(exp: Experiment) -> dict:
    """What every run in DIR shares; a later invocation must agree on all of it."""
    from dclm.io.digests import file_sha256

    inputs = [{"name": Path(url).name, "sha256": file_sha256(url)} for url in exp.inputs]
    return {"format": FORMAT, "inputs": inputs, "extractor": exp.extractor, "time_limit_s": exp.time_limit_s,
            "scale": exp.scale.name, "scale_hash": scale_hash(exp.scale), "task_set": exp.task_set}


def recipe_fingerprint(recipe: Recipe) -> dict:
    """What a recipe's curated data depends on besides the code: its YAML and the model files it names."""
    from dclm.io.digests import file_sha256
    from filters.quality_classifier import QualityModelError, resolve_model_path

    models = {}
    for step in recipe.steps:
        name = step.kwargs.get("model_filename")
        if name:
            try:
                models[Path(name).name] = file_sha256(resolve_model_path(name))
            except QualityModelError:
                models[Path(name).name] = None
    return {"recipe_sha256": recipe.digest, "models": models}


def check_experiment(exp: Experiment) -> dict:
    """Record the experiment's identity, or check it against the one DIR already holds.

    Recipes may be added to a directory later, but a recipe whose YAML or
    classifier changed since its data was curated there is refused: its
    curated shards would be reused as they are, made by the old recipe.
    """
    identity = _identity(exp)
    recipes = {label: recipe_fingerprint(recipe) for label, recipe in exp.recipes}
    path = exp.output / "experiment.json"
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        for key, value in identity.items():
            if old.get(key) != value:
                what = "input WARC files" if key == "inputs" else key
                raise UsageError(f"{exp.output} holds an experiment with other {what} "
                                 f"({old.get(key)!r} there, {value!r} now); choose another --output")
        known = old.get("recipes", {})
        changed = [label for label, print_ in recipes.items() if label in known and known[label] != print_]
        if changed:
            raise UsageError(f"{exp.output} holds data curated by another version of recipe(s) "
                             f"{', '.join(changed)} (YAML or classifier changed); choose another --output")
        recipes = {**known, **recipes}
    exp.output.mkdir(parents=True, exist_ok=True)
    record = {**identity, "recipes": dict(sorted(recipes.items()))}
    write_bytes_atomic(str(path), (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    return identity


def _stage_failed(what: str, code: int, directory: Path) -> UsageError:
    return UsageError(f"{what} ended with exit code {code}; see {directory}/stats.json and the ledgers "
                      "there, fix the cause, and rerun the same command to resume")


def curate(exp: Experiment, log=lambda message: None) -> None:
    """Extract once, then run each recipe over the extraction and find the contaminated
    evaluation items in it (one Ray runtime for all of it)."""
    import ray

    from dclm.io.inputs import resolve_document_inputs
    from dclm.runtime.executor import ensure_ray, plan_jobs
    from dclm.runtime.stage import run_stage
    from pipelines.extract import extract_shard
    from pipelines.filter import filter_shard
    from pipelines.recipe_plan import run_recipe

    execution = dict(ray_address=exp.ray_address, num_cpus=exp.num_cpus, progress=exp.progress, force=False)
    started_here = ensure_ray(exp.ray_address, exp.num_cpus)
    try:
        began = time.monotonic()
        extracted = exp.output / "extracted"
        params = {"extractor": exp.extractor, "time_limit_s": exp.time_limit_s}
        code = run_stage("extract", plan_jobs(exp.inputs, str(extracted), params), extract_shard,
                         str(extracted), params, **execution)
        if code != EXIT_OK:
            raise _stage_failed("extraction", code, extracted)
        exp.timings["extract_s"] = round(time.monotonic() - began, 2)
        shards = resolve_document_inputs([str(extracted)])
        for label, recipe in exp.recipes:
            began = time.monotonic()
            target = exp.curated_dir(label)
            params = {"recipe_path": recipe.path, "source": recipe.source, "annotate": False,
                      "dropped_sample": None, **recipe_for_record(recipe)}
            code = run_recipe("filter", recipe, shards, str(target), params, filter_shard, filter_shard,
                              **execution)
            if code != EXIT_OK:
                raise _stage_failed(f"recipe {label}", code, target)
            exp.timings.setdefault("curate_s", {})[label] = round(time.monotonic() - began, 2)
        began = time.monotonic()
        exp.exclusions_path, document = compute_exclusions(exp.output, exp.task_set, shards, exp.recipes,
                                                           exp.decontaminate_against, log)
        log(exclusions_line(document))
        exp.timings["decontaminate_s"] = round(time.monotonic() - began, 2)
    finally:
        if started_here:
            # Training wants both cores and the memory Ray's idle workers hold.
            ray.shutdown()


def tokenize(exp: Experiment, label: str) -> dict:
    """The recipe's tokenize manifest; a recipe too small for one sequence gets a manifest of 0 tokens,
    so that the repetition check reports it with the others."""
    from dclm.io.inputs import resolve_document_inputs
    from dclm.training.tokenize_data import TooFewTokens, tokenize_to_dir

    shards = resolve_document_inputs([str(exp.curated_dir(label))])
    if not shards:
        raise UsageError(f"recipe {label} left no shards in {exp.curated_dir(label)}")
    try:
        return tokenize_to_dir(shards, exp.scale, str(exp.tokens_dir(label)))
    except TooFewTokens as exc:
        return {"documents": exc.documents, "dataset_tokens": 0, "epochs": float("inf"), "too_few": str(exc)}
    except UsageError as exc:
        raise UsageError(f"recipe {label}: {exc}") from exc


def train_and_evaluate(exp: Experiment, label: str, seed: int, log) -> dict:
    """One (recipe, seed) cell: train (or resume, or reuse) and evaluate (or reuse)."""
    from dclm.evaluation.run_eval import evaluate_run
    from dclm.training.trainer import train

    run = exp.run_dir(label, seed)
    began = time.monotonic()
    config = train(str(exp.tokens_dir(label)), exp.scale, str(run), seed=seed, device=exp.device,
                   threads=exp.threads, progress=exp.progress, log=log)
    train_s = time.monotonic() - began
    outcome = evaluate_run(run, exp.task_set, device=_eval_device(exp.device), progress=exp.progress,
                           exclusions_path=exp.exclusions_path)
    exp.timings.setdefault("runs", {})[f"{label}/seed{seed}"] = {
        "train_s": round(train_s, 2), "eval_s": round(outcome.seconds, 2), "eval_reused": outcome.reused}
    return {"seed": seed, "run_dir": str(run.relative_to(exp.output)),
            "eval_json": str(outcome.path.relative_to(exp.output)), "report": outcome.report,
            "tokens_trained": config["tokens_trained"], "epochs": config["epochs"]}


def _eval_device(device: str) -> str:
    return "auto" if device in ("auto", "cuda") else device


def budget_tokens(scale: Scale) -> int:
    """Tokens one run trains on: whole steps of the budget."""
    return scale.total_steps * scale.tokens_per_step


def repetition_problems(exp: Experiment, manifests: dict[str, dict]) -> list[str]:
    """One line per recipe whose data is under MIN_BUDGET_SHARE of the budget."""
    budget = budget_tokens(exp.scale)
    problems = []
    for label, _ in exp.recipes:
        tokens = manifests[label]["dataset_tokens"]
        if tokens < MIN_BUDGET_SHARE * budget:
            need = budget / tokens if tokens else float("inf")
            problems.append(f"recipe {label}: {tokens:,} curated tokens against the {exp.scale.name} budget of "
                            f"{budget:,}: it would be repeated {need:.2f} times (epochs)")
    return problems


def check_repetition(exp: Experiment, manifests: dict[str, dict], log) -> None:
    problems = repetition_problems(exp, manifests)
    if not problems:
        return
    empty = [f"recipe {label}: {manifests[label]['too_few']}" for label, _ in exp.recipes
             if "too_few" in manifests[label]]
    if empty:
        raise UsageError("nothing to train on, so nothing was trained:\n  " + "\n  ".join(empty))
    if exp.allow_repetition:
        for line in problems:
            log(f"warning: {line}; allowed by --allow-repetition, and the report flags it")
        return
    raise UsageError("too little data for a valid comparison, so nothing was trained:\n  " + "\n  ".join(problems)
                     + f"\nA recipe needs at least {MIN_BUDGET_SHARE:.0%} of the budget (at most "
                     f"{1 / MIN_BUDGET_SHARE:.0f} epochs). Use a larger pool (--input), a smaller --scale, or "
                     "--allow-repetition to train anyway (the report then flags the recipe).")


def run_experiment(exp: Experiment, log) -> dict:
    """The whole comparison; returns the comparison document (also written to DIR)."""
    from dclm.evaluation.comparison_report import build_comparison, comparison_markdown
    from pipelines.compare_examples import recipe_examples

    began = time.monotonic()
    check_experiment(exp)
    curate(exp, log)
    manifests = {}
    for label, _ in exp.recipes:
        manifests[label] = tokenize(exp, label)
        log(f"{label}: {manifests[label]['documents']:,} documents, {manifests[label]['dataset_tokens']:,} "
            f"tokens, {manifests[label]['epochs']:.2f} epochs at scale {exp.scale.name}")
    check_repetition(exp, manifests, log)
    per_recipe = []
    for label, recipe in exp.recipes:
        manifest = manifests[label]
        runs = []
        for seed in exp.seeds:
            log(f"{label} seed {seed}: training and evaluating in {exp.run_dir(label, seed)}")
            runs.append(train_and_evaluate(exp, label, seed, log))
        per_recipe.append((label, recipe, manifest, runs))
    examples = {label: recipe_examples(recipe, exp.curated_dir(label)) for label, recipe in exp.recipes}
    comparison = build_comparison(exp, per_recipe, examples=examples,
                                  exclusions=read_document(exp.exclusions_path),
                                  flagged=repetition_problems(exp, manifests))
    write_bytes_atomic(str(exp.output / "comparison.json"),
                       (json.dumps(comparison, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    write_bytes_atomic(str(exp.output / "comparison.md"), comparison_markdown(comparison).encode("utf-8"))
    exp.timings["total_s"] = round(time.monotonic() - began, 2)
    write_bytes_atomic(str(exp.output / "timings.json"),
                       (json.dumps(exp.timings, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return comparison
