"""The settings of a recipe's global dedup steps, checked without running anything.

A recipe names its global steps with DCLM's keyword arguments. This module
turns them into settings (``MinHashConfig``, ``BffConfig``, or the exact and
URL settings below) and rejects what cannot run, so that the recipe loader
(``dclm.recipe``) reports a bad step before any document is read. The Ray
jobs that run the settings are ``pipelines.global_steps``' business.

* ``minhash_dedup(ngram=5, num_bands=14, rows_per_band=8, threshold=None,
  keep=lowest_id, num_hashes_budget=112, verify_threshold=default, seed=1,
  fold_digits=False, keeper_threshold=default, keeper_rounds=8)``;
* ``exact_dedup(column=text, raw=False)``, or with DCLM's parameters
  ``exact_dedup(content_key, normalize, selection_key, selection_normalize,
  selection_reverse)`` (see ``dedup.dclm_keys``); ``lines_delimiter`` is set
  by the recipe loader after DCLM's ``split_lines_modifier``;
* ``url_dedup(column=url)``;
* ``bff_dedup(ngram=13, threshold=0.8, min_ngram_size=ngram, fp_rate=1e-4,
  remove_type=old-both, groups=1)``, and DCLM's spellings ``max_ngram_size``
  and ``filtering_threshold``.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Optional

from dclm.errors import UsageError
from dedup.bff_config import BffConfig
from dedup.dclm_keys import normalizer
from dedup.minhash_config import MinHashConfig

GLOBAL_STEPS = ("minhash_dedup", "exact_dedup", "url_dedup", "bff_dedup")


@dataclass(frozen=True)
class ExactSettings:
    """``exact_dedup``: on ``column``, or on its lines when ``lines_delimiter`` is set.

    ``dclm``: DCLM's normalizers and choice of survivor, when the step uses
    DCLM's spelling; None for the plain exact dedup.
    """

    column: str = "text"
    raw: bool = False
    id_column: str = "id"
    dclm: Optional[dict] = None
    lines_delimiter: Optional[str] = None


@dataclass(frozen=True)
class UrlSettings:
    column: str = "url"
    id_column: str = "id"


def minhash_settings(ngram: int = 5, num_bands: Optional[int] = None, rows_per_band: Optional[int] = None,
                     threshold: Optional[float] = None, keep: Optional[str] = None,
                     num_hashes_budget: int = 112, verify_threshold: Any = "default",
                     seed: int = 1, fold_digits: bool = False, text_column: str = "text",
                     id_column: str = "id", keeper_threshold: Any = "default",
                     keeper_rounds: Optional[int] = None) -> MinHashConfig:
    # A check left at "default" follows the step's threshold (or takes its
    # default); YAML's null and off (False) turn it off.
    checks = {name: value or None for name, value in (("verify_threshold", verify_threshold),
                                                      ("keeper_threshold", keeper_threshold))
              if value != "default"}
    if keeper_rounds is not None:
        checks["keeper_rounds"] = keeper_rounds
    return MinHashConfig.from_recipe(ngram=ngram, num_bands=num_bands, rows_per_band=rows_per_band,
                                     threshold=threshold, keep=keep, num_hashes_budget=num_hashes_budget,
                                     seed=seed, fold_digits=fold_digits, text_column=text_column,
                                     id_column=id_column, **checks)


def exact_settings(column: str = "text", raw: bool = False, id_column: str = "id",
                   content_key: Optional[str] = None, normalize: Optional[str] = None,
                   selection_key: Optional[str] = None, selection_normalize: Optional[str] = None,
                   selection_reverse: bool = False, lines_delimiter: Optional[str] = None) -> ExactSettings:
    if (content_key, normalize, selection_key, selection_normalize, lines_delimiter) == (None,) * 5:
        return ExactSettings(column, raw=raw, id_column=id_column)
    normalizer(normalize)             # unknown normalizer names fail here
    normalizer(selection_normalize)
    dclm = {"normalize": normalize, "selection_key": selection_key,
            "selection_normalize": selection_normalize, "selection_reverse": selection_reverse}
    return ExactSettings(content_key or column, id_column=id_column, dclm=dclm, lines_delimiter=lines_delimiter)


def url_settings(column: str = "url", id_column: str = "id") -> UrlSettings:
    return UrlSettings(column, id_column)


def bff_settings(ngram: int = 13, threshold: float = 0.8, min_ngram_size: Optional[int] = None,
                 fp_rate: float = 1e-4, remove_type: str = "old-both", groups: int = 1,
                 text_column: str = "text", max_ngram_size: Optional[int] = None,
                 filtering_threshold: Optional[float] = None) -> BffConfig:
    if remove_type.replace("_", "-") != "old-both":
        raise ValueError(f"bff_dedup supports remove_type old-both (DCLM-Baseline's), not {remove_type!r}")
    ngram = max_ngram_size or ngram
    threshold = threshold if filtering_threshold is None else filtering_threshold
    return BffConfig(ngram=ngram, min_ngram=min_ngram_size or ngram, threshold=threshold,
                     fp_rate=fp_rate, groups=groups, text_column=text_column)


_SETTINGS = {"minhash_dedup": minhash_settings, "exact_dedup": exact_settings, "url_dedup": url_settings,
             "bff_dedup": bff_settings}


def global_step_settings(name: str, kwargs: dict[str, Any]):
    """The settings of a recipe's global step; UsageError for unknown names or arguments."""
    make = _SETTINGS.get(name)
    if make is None:
        raise UsageError(f"unknown global step {name!r}; known: {', '.join(GLOBAL_STEPS)}")
    signature = inspect.signature(make)
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise UsageError(f"{name}: {exc}; {name} accepts: {', '.join(signature.parameters)}") from exc
    try:
        return make(**kwargs)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{name}: {exc}") from exc
