"""Running a recipe that has global steps: local segments between whole-run steps.

A recipe such as DCLM-Baseline is heuristics → dedup → top 10% by a
classifier. Local steps run per shard; a global step (``minhash_dedup``,
``exact_dedup``, ``url_dedup``, ``bff_dedup``, ``quality_filter`` with a
``top_fraction``) needs every shard. So the recipe is cut into segments; each
segment writes a complete stage directory under ``OUTPUT/.dclm/work/NN_name/``
(shards, ledger, stats, always Parquet), and the last one writes ``OUTPUT``
itself, in the run's output format. Every segment resumes on its own, so an
interrupted run restarts at the first segment that did not finish. Then
``OUTPUT/.dclm/stats.json`` is rewritten to cover the whole recipe: every
segment's steps in order (``dclm.runtime.recipe_stats``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from dclm.io.inputs import resolve_document_inputs
from dclm.io.output_layout import stats_path, work_dir
from dclm.recipe import Recipe, RecipeStep, is_global
from dclm.runtime.executor import plan_jobs
from dclm.runtime.recipe_stats import write_recipe_stats
from dclm.runtime.stage import EXIT_OK, run_stage


@dataclass
class Segment:
    start: int                      # index into recipe.steps
    end: int
    steps: list[RecipeStep]

    @property
    def is_global(self) -> bool:
        return len(self.steps) == 1 and is_global(self.steps[0])

    @property
    def label(self) -> str:
        return self.steps[0].label if self.is_global else "local"


def split_segments(steps: list[RecipeStep], extract_first: bool) -> list[Segment]:
    """Maximal runs of local steps, and each global step alone.

    With ``extract_first`` (``dclm run``) the first segment is always local,
    even if empty, because extraction happens there.
    """
    segments: list[Segment] = []
    start = 0
    for index, step in enumerate(steps):
        if is_global(step):
            if index > start or (extract_first and not segments and index == 0):
                segments.append(Segment(start, index, steps[start:index]))
            segments.append(Segment(index, index + 1, [step]))
            start = index + 1
    if start < len(steps) or not segments:
        segments.append(Segment(start, len(steps), steps[start:]))
    return segments


def _run_global(step: RecipeStep, shards: list[str], output_dir: str, execution: dict,
                output_format: str) -> int:
    if step.name == "quality_filter":
        from pipelines.top_fraction import select_top_fraction

        return select_top_fraction(shards, output_dir, by=step.kwargs.get("key", "fasttext_hq_prob"),
                                   fraction=float(step.kwargs["top_fraction"]),
                                   lower_better=bool(step.kwargs.get("lower_better", False)),
                                   output_format=output_format, **execution)
    from pipelines.global_steps import run_global_step

    stats = run_global_step(step.name, step.kwargs, shards, output_dir, output_format=output_format,
                            **execution)
    return stats["exit_code"]


def run_recipe_segments(stage: str, recipe: Recipe, inputs: list[str], output_dir: str, params: dict,
                        first_work: Callable, later_work: Callable, *, ray_address: Optional[str],
                        num_cpus: Optional[int], progress: bool, force: bool) -> int:
    """Run every segment in order; returns the first non-zero exit code, or 0."""
    import ray

    from dclm.runtime.executor import ensure_ray

    # One Ray runtime for all segments: starting one costs ~10 s each time.
    started_here = ensure_ray(ray_address, num_cpus)
    try:
        return _run_segments(stage, recipe, inputs, output_dir, params, first_work, later_work,
                             dict(ray_address=ray_address, num_cpus=num_cpus, progress=progress, force=force))
    finally:
        if started_here:
            ray.shutdown()


def _run_segments(stage: str, recipe: Recipe, inputs: list[str], output_dir: str, params: dict,
                  first_work: Callable, later_work: Callable, execution: dict) -> int:
    segments = split_segments(recipe.steps, extract_first=(stage == "run"))
    output_dir = output_dir.rstrip("/")
    shards = inputs
    targets = []
    for number, segment in enumerate(segments, start=1):
        last = number == len(segments)
        target = output_dir if last else f"{work_dir(output_dir)}/{number:02d}_{segment.label}"
        targets.append(target)
        # Segments between steps stay Parquet; the run's format is for its result.
        segment_params = params if last else {k: v for k, v in params.items() if k != "output_format"}
        if segment.is_global:
            code = _run_global(segment.steps[0], shards, target, execution,
                               segment_params.get("output_format", "parquet"))
        else:
            work = first_work if number == 1 else later_work
            segment_params = {**segment_params, "step_range": [segment.start, segment.end]}
            jobs = plan_jobs(shards, target, segment_params)
            code = run_stage(stage if number == 1 else "filter", jobs, work, target, segment_params,
                             **execution)
        if code != EXIT_OK:
            return code
        if not last:
            shards = resolve_document_inputs([target])
    combined = write_recipe_stats(output_dir, targets,
                                  [f"{n:02d}_{s.label}" for n, s in enumerate(segments, start=1)])
    print(f"\nrecipe {recipe.name}: {combined['documents_in']} in, {combined['documents_out']} out, over "
          f"{len(segments)} segments in {combined['wall_seconds']:.1f} s; every step's counts: "
          f"{stats_path(output_dir)}")
    return EXIT_OK


def run_recipe(stage: str, recipe: Recipe, inputs: list[str], output_dir: str, params: dict,
               first_work: Callable, later_work: Callable, *, ray_address: Optional[str],
               num_cpus: Optional[int], progress: bool, force: bool) -> int:
    """A whole recipe over its inputs: one stage when every step is local, else segments."""
    execution = dict(ray_address=ray_address, num_cpus=num_cpus, progress=progress, force=force)
    if any(is_global(step) for step in recipe.steps):
        return run_recipe_segments(stage, recipe, inputs, output_dir, params, first_work, later_work,
                                   **execution)
    return run_stage(stage, plan_jobs(inputs, output_dir, params), first_work, output_dir, params, **execution)
