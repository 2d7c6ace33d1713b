"""Running a recipe's global steps (``minhash_dedup``, ``exact_dedup``, ``url_dedup``, ``bff_dedup``).

A recipe is cut at its global steps into segments. The recipe runner writes
a segment's output, calls ``run_global_step`` on those shards, and feeds
its output directory to the next segment. The step's keyword arguments are
those of the recipe YAML (DCLM's names), read and checked by
``dedup.step_settings``; this module picks the Ray job that runs them.
"""
from __future__ import annotations

from typing import Any, Optional

from dedup.bff_config import BffConfig
from dedup.minhash_config import MinHashConfig
from dedup.step_settings import UrlSettings, global_step_settings


def build_global_method(name: str, kwargs: dict[str, Any]):
    """The ``DedupMethod`` of a recipe step; UsageError for unknown names or arguments."""
    from pipelines.deduplication.methods import bff_method, dclm_lines_method, exact_method, minhash_method, url_method

    settings = global_step_settings(name, kwargs)
    if isinstance(settings, MinHashConfig):
        return minhash_method(settings)
    if isinstance(settings, BffConfig):
        return bff_method(settings)
    if isinstance(settings, UrlSettings):
        return url_method(settings.column, id_column=settings.id_column)
    if settings.lines_delimiter is not None:
        return dclm_lines_method(settings.column, settings.lines_delimiter, settings.dclm)
    return exact_method(settings.column, raw=settings.raw, id_column=settings.id_column, dclm=settings.dclm)


def run_global_step(name: str, kwargs: dict[str, Any], input_shards: list[str], output_dir: str,
                    ray_address: Optional[str] = None, num_cpus: Optional[int] = None, *,
                    force: bool = False, progress: bool = True, out=None,
                    output_format: str = "parquet") -> dict:
    """Run a recipe's global step over ``input_shards``; the run's stats.

    Writes ``output_dir`` in the stage layout (shards, ``dropped/``,
    ``ledger/``, ``stats.json``); resumes like ``dclm dedup``. The returned
    stats are those of ``stats.json`` plus ``exit_code`` (0 ok, 2 shards
    failed, 3 ledger mismatch), so the caller can stop the recipe.
    """
    from pipelines.deduplication.stage import run_dedup

    method = build_global_method(name, dict(kwargs))
    code, stats = run_dedup(method, sorted(input_shards), output_dir, ray_address=ray_address,
                            num_cpus=num_cpus, force=force, progress=progress, out=out,
                            output_format=output_format)
    return {**stats, "exit_code": code}
