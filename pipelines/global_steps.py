"""Recipe global steps (``minhash_dedup``, ``exact_dedup``, ``url_dedup``, ``bff_dedup``).

A recipe is cut at its global steps into segments. The recipe runner writes
a segment's output, calls ``run_global_step`` on those shards, and feeds
its output directory to the next segment. The step's keyword arguments are
those of the recipe YAML (DCLM's names):

* ``minhash_dedup(ngram=5, num_bands=14, rows_per_band=8, threshold=None,
  keep=lowest_id, num_hashes_budget=112, verify_threshold=default, seed=1,
  fold_digits=False, keeper_threshold=default, keeper_rounds=8)``: with
  ``threshold`` and no bands/rows, b × r is chosen to fit it within the
  budget; candidate pairs are kept only if they match at
  ``verify_threshold``, and a document is removed only if it matches its
  cluster's survivor at ``keeper_threshold`` (``default``: ``threshold``
  when given, else 0.8 and 0.725; null or false: off);
* ``exact_dedup(column=text, raw=False)``, or with DCLM's parameters
  ``exact_dedup(content_key, normalize, selection_key, selection_normalize,
  selection_reverse)`` (see ``dedup.dclm_keys``); after DCLM's
  ``split_lines_modifier`` the loader adds ``lines_delimiter`` and the dedup
  runs on lines (``dedup.dclm_lines``);
* ``url_dedup(column=url)``;
* ``bff_dedup(ngram=13, threshold=0.8, min_ngram_size=ngram, fp_rate=1e-4,
  remove_type=old-both, groups=1)``; DCLM's own spellings
  ``max_ngram_size`` and ``filtering_threshold`` are accepted too.

``check_global_step`` validates the arguments without running anything, so
the recipe loader can report a bad step before any document is read.
"""
from __future__ import annotations

import inspect
from typing import Any, Optional

from dclm.errors import UsageError

GLOBAL_STEPS = ("minhash_dedup", "exact_dedup", "url_dedup", "bff_dedup")


def _minhash(ngram: int = 5, num_bands: Optional[int] = None, rows_per_band: Optional[int] = None,
             threshold: Optional[float] = None, keep: Optional[str] = None,
             num_hashes_budget: int = 112, verify_threshold: Any = "default",
             seed: int = 1, fold_digits: bool = False, text_column: str = "text",
             id_column: str = "id", keeper_threshold: Any = "default",
             keeper_rounds: Optional[int] = None):
    from dedup.minhash_config import MinHashConfig
    from pipelines.dedup_methods import minhash_method

    # A check left at "default" follows the step's threshold (or takes its
    # default); YAML's null and off (False) turn it off.
    checks = {name: value or None for name, value in (("verify_threshold", verify_threshold),
                                                      ("keeper_threshold", keeper_threshold))
              if value != "default"}
    if keeper_rounds is not None:
        checks["keeper_rounds"] = keeper_rounds
    config = MinHashConfig.from_recipe(ngram=ngram, num_bands=num_bands,
                                       rows_per_band=rows_per_band, threshold=threshold,
                                       keep=keep, num_hashes_budget=num_hashes_budget,
                                       seed=seed, fold_digits=fold_digits,
                                       text_column=text_column, id_column=id_column, **checks)
    return minhash_method(config)


def _exact(column: str = "text", raw: bool = False, id_column: str = "id",
           content_key: Optional[str] = None, normalize: Optional[str] = None,
           selection_key: Optional[str] = None, selection_normalize: Optional[str] = None,
           selection_reverse: bool = False, lines_delimiter: Optional[str] = None):
    from dedup.dclm_keys import normalizer
    from pipelines.dedup_methods import dclm_lines_method, exact_method

    if (content_key, normalize, selection_key, selection_normalize, lines_delimiter) == (None,) * 5:
        return exact_method(column, raw=raw, id_column=id_column)
    # DCLM's spelling: its normalizers and choice of survivor (dedup.dclm_keys).
    normalizer(normalize)
    normalizer(selection_normalize)
    dclm = {"normalize": normalize, "selection_key": selection_key,
            "selection_normalize": selection_normalize, "selection_reverse": selection_reverse}
    if lines_delimiter is not None:
        # Set by the recipe loader after split_lines_modifier: dedup the lines.
        return dclm_lines_method(content_key or column, lines_delimiter, dclm)
    return exact_method(content_key or column, id_column=id_column, dclm=dclm)


def _url(column: str = "url", id_column: str = "id"):
    from pipelines.dedup_methods import url_method

    return url_method(column, id_column=id_column)


def _bff(ngram: int = 13, threshold: float = 0.8, min_ngram_size: Optional[int] = None,
         fp_rate: float = 1e-4, remove_type: str = "old-both", groups: int = 1,
         text_column: str = "text", max_ngram_size: Optional[int] = None,
         filtering_threshold: Optional[float] = None):
    from dedup.bff_dedup import BffConfig
    from pipelines.dedup_methods import bff_method

    if remove_type.replace("_", "-") != "old-both":
        raise ValueError(f"bff_dedup supports remove_type old-both (DCLM-Baseline's), "
                         f"not {remove_type!r}")
    ngram = max_ngram_size or ngram
    threshold = threshold if filtering_threshold is None else filtering_threshold
    config = BffConfig(ngram=ngram, min_ngram=min_ngram_size or ngram, threshold=threshold,
                       fp_rate=fp_rate, groups=groups, text_column=text_column)
    return bff_method(config)


_BUILDERS = {"minhash_dedup": _minhash, "exact_dedup": _exact, "url_dedup": _url,
             "bff_dedup": _bff}


def build_global_method(name: str, kwargs: dict[str, Any]):
    """The ``DedupMethod`` of a recipe step; UsageError for unknown names or arguments."""
    builder = _BUILDERS.get(name)
    if builder is None:
        raise UsageError(f"unknown global step {name!r}; known: {', '.join(GLOBAL_STEPS)}")
    signature = inspect.signature(builder)
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise UsageError(f"{name}: {exc}; {name} accepts: {', '.join(signature.parameters)}") from exc
    try:
        return builder(**kwargs)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{name}: {exc}") from exc


def check_global_step(name: str, kwargs: dict[str, Any]) -> None:
    """Validate a recipe's global step without running it (raises UsageError)."""
    build_global_method(name, kwargs)


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
    from pipelines.dedup_stage import run_dedup

    method = build_global_method(name, dict(kwargs))
    code, stats = run_dedup(method, sorted(input_shards), output_dir, ray_address=ray_address,
                            num_cpus=num_cpus, force=force, progress=progress, out=out,
                            output_format=output_format)
    return {**stats, "exit_code": code}
