"""Bookkeeping steps: word counts, removal ratio, sampling and score thresholds.

These steps carry state between other steps or turn a stored score into a
decision:
* ``word_counter_enricher`` + ``word_removal_ratio_filter``: RefinedWeb
  (Penedo et al. 2023, §G.2) drops a page when its line modifiers removed
  more than 5% of its words, since heavy cleanup means the page was mostly
  boilerplate;
* ``random_sampling_filter``: subsample a pool (DCLM, Li et al. 2024);
* ``quality_filter``: keep pages whose model score passes a fixed threshold
  (DCLM's fastText OH+ELI5 filter), or, with ``top_fraction``, the best
  fraction of the whole run (a global step: ``pipelines.top_fraction``).
"""
from __future__ import annotations

from typing import Optional

import xxhash

from filters.operator import ENRICHER, FILTER, Operator
from filters.text_units import split_words


def _word_count(text: str, ignore_punctuation: bool, model: Optional[str]) -> int:
    # DCLM counts with its fastText tokenizer by default: whitespace tokens.
    return len(split_words(text, ignore_punctuation=ignore_punctuation, model=model or "fasttext"))


def word_counter_enricher(page: dict, key: str = "word_count", overwrite: bool = False,
                          ignore_punctuation: bool = True, model: Optional[str] = None,
                          ignore_whitespace: bool = True) -> list[dict]:
    """Store the page's word count under ``key`` (DCLM, Li et al. 2024).

    RefinedWeb recipes use ``key: previous_word_count`` before the line
    modifiers. By default words are whitespace tokens starting with a letter
    or digit (``filters.text_units.split_words``); ``model`` picks DCLM's
    tokenizer (``fasttext``/``split`` or ``uniseg``). ``ignore_whitespace``
    is accepted for DCLM's recipes; whitespace is never a word here.
    """
    if key in page and not overwrite:
        raise ValueError(f"word_counter_enricher: page already has {key!r}; "
                         "pass overwrite: true to recount")
    return [{**page, key: _word_count(page["text"], ignore_punctuation, model)}]


def word_removal_ratio_filter_signals(page: dict, prev_word_count_key: str,
                                      new_word_count_key: Optional[str] = None,
                                      max_removed_ratio: float = 0.05,
                                      ignore_punctuation: bool = True,
                                      model: Optional[str] = None,
                                      ignore_whitespace: bool = True) -> dict:
    """``word_removal_ratio``: share of the earlier word count that is gone now.

    A page that had no words counts as fully removed (1.0); DCLM drops it.
    """
    if prev_word_count_key not in page:
        raise KeyError(f"word_removal_ratio_filter: page has no {prev_word_count_key!r}; "
                       "run word_counter_enricher with that key first")
    before = page[prev_word_count_key]
    if not before:
        return {"word_removal_ratio": 1.0}
    if new_word_count_key and new_word_count_key in page:
        after = page[new_word_count_key]
    else:
        after = _word_count(page["text"], ignore_punctuation, model)
    return {"word_removal_ratio": (before - after) / before}


def word_removal_ratio_filter_keep(signals: dict, max_removed_ratio: float = 0.05,
                                   **_step_params) -> bool:
    return signals["word_removal_ratio"] <= max_removed_ratio


def word_removal_ratio_filter(page: dict, prev_word_count_key: str,
                              new_word_count_key: Optional[str] = None,
                              max_removed_ratio: float = 0.05, ignore_punctuation: bool = True,
                              model: Optional[str] = None,
                              ignore_whitespace: bool = True) -> list[dict]:
    """Drop a page whose modifiers removed more than ``max_removed_ratio`` of its words.

    RefinedWeb (Penedo et al. 2023): more than 5% removed by the line
    modifiers means the page was mostly boilerplate. The earlier count is
    read from ``prev_word_count_key``; the current one from
    ``new_word_count_key`` if the page has it, else counted now.
    """
    signals = word_removal_ratio_filter_signals(
        page, prev_word_count_key, new_word_count_key=new_word_count_key,
        ignore_punctuation=ignore_punctuation, model=model)
    return [page] if word_removal_ratio_filter_keep(signals, max_removed_ratio) else []


_TWO_TO_64 = float(1 << 64)


def random_sampling_filter_signals(page: dict, keep_probability: float = 0.1,
                                   seed: int = 0) -> dict:
    """``random_draw``: a uniform number in [0, 1) fixed by the page id and ``seed``.

    DCLM draws with ``random.random()``, so reruns keep different pages; a
    hash of the id gives the same sample on every run and every worker
    count. Pages without an id are keyed by URL, then by text.
    """
    ident = page.get("id") or page.get("url") or page.get("text") or ""
    draw = xxhash.xxh64_intdigest(str(ident).encode("utf-8"), seed=int(seed or 0)) / _TWO_TO_64
    return {"random_draw": draw}


def random_sampling_filter_keep(signals: dict, keep_probability: float = 0.1,
                                **_step_params) -> bool:
    if not 0 <= keep_probability <= 1:
        raise ValueError(f"random_sampling_filter: keep_probability must be in [0, 1], "
                         f"not {keep_probability}")
    return signals["random_draw"] < keep_probability


def random_sampling_filter(page: dict, keep_probability: float = 0.1, seed: int = 0) -> list[dict]:
    """Keep each page with probability ``keep_probability`` (DCLM, Li et al. 2024), deterministically.

    The draw is a hash of the page id and ``seed`` (xxhash64), so the kept
    subset is identical across reruns; change ``seed`` for another sample.
    """
    signals = random_sampling_filter_signals(page, keep_probability, seed)
    return [page] if random_sampling_filter_keep(signals, keep_probability) else []


class TopFractionUnresolvedError(RuntimeError):
    """``quality_filter(top_fraction=...)`` reached a single page: only the whole run can decide it."""


def check_top_fraction(top_fraction, where: str = "quality_filter") -> float:
    """``top_fraction`` as a float in (0, 1], else ValueError naming ``where``."""
    try:
        value = float(top_fraction)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: top_fraction must be a number in (0, 1], "
                         f"not {top_fraction!r}") from None
    if not 0 < value <= 1:             # also refuses NaN
        raise ValueError(f"{where}: top_fraction must be in (0, 1], not {top_fraction!r}")
    return value


def quality_filter_is_global(params: dict) -> bool:
    """True when a ``quality_filter`` step needs the whole run (it names a ``top_fraction``).

    The recipe runner checks this and runs such a step as a global step:
    ``pipelines.top_fraction.find_cut`` over all shards, then
    ``pipelines.top_fraction.keep_mask`` per shard (both passes in
    ``pipelines.top_fraction.select_top_fraction``), keeping exactly
    ``ceil(top_fraction * N)`` pages, ties broken by id.
    """
    if params.get("top_fraction") is None:
        return False
    check_top_fraction(params["top_fraction"])
    return True


def quality_filter_signals(page: dict, key: str = "fasttext_hq_prob", threshold: float = 0.0,
                           lower_better: bool = False, key_must_exist: bool = True,
                           top_fraction: Optional[float] = None) -> dict:
    """``quality_score``: the stored score under ``key``.

    A missing score is an error, or with ``key_must_exist: false`` the worst
    possible score, so the page is dropped. The signal does not depend on
    ``threshold`` or ``top_fraction``, so it can be stored before either is known.
    """
    if key in page:
        return {"quality_score": float(page[key])}
    if key_must_exist:
        raise KeyError(f"quality_filter: page has no {key!r}; run the enricher that "
                       "writes it first (e.g. classify_fasttext_hq_prob_enricher)")
    return {"quality_score": float("inf") if lower_better else float("-inf")}


def quality_filter_keep(signals: dict, threshold: float = 0.0, lower_better: bool = False,
                        top_fraction: Optional[float] = None, **_step_params) -> bool:
    """At the threshold the page is kept, on both sides (as in DCLM).

    With ``top_fraction`` there is no threshold yet: raises
    ``TopFractionUnresolvedError`` (see ``quality_filter_is_global``).
    """
    if top_fraction is not None:
        fraction = check_top_fraction(top_fraction)
        raise TopFractionUnresolvedError(
            f"quality_filter(top_fraction={fraction:g}) keeps the best {fraction:g} of the "
            "whole run, which no single page can decide; the recipe runner must run it as a "
            "global step (pipelines.top_fraction), or give a fixed threshold instead")
    score = signals["quality_score"]
    return score <= threshold if lower_better else score >= threshold


def quality_filter(page: dict, key: str = "fasttext_hq_prob", threshold: float = 0.0,
                   lower_better: bool = False, key_must_exist: bool = True,
                   top_fraction: Optional[float] = None) -> list[dict]:
    """Keep pages whose score under ``key`` reaches ``threshold`` (DCLM, Li et al. 2024).

    DCLM-Baseline keeps ``fasttext_oh_eli5_vs_rw_v2_prob >= 0.018112``,
    its top 10%. ``lower_better`` flips the test for scores such as
    perplexity.

    ``top_fraction`` (our addition, in (0, 1]) keeps the best fraction of
    the whole run instead, ``ceil(top_fraction * N)`` pages, ties broken by
    page id. That is a GLOBAL step: the recipe runner resolves it over all
    shards with ``pipelines.top_fraction`` (see ``quality_filter_is_global``);
    called on one page it raises ``TopFractionUnresolvedError``.
    """
    signals = quality_filter_signals(page, key=key, lower_better=lower_better,
                                     key_must_exist=key_must_exist)
    keep = quality_filter_keep(signals, threshold, lower_better, top_fraction=top_fraction)
    return [page] if keep else []


OPERATORS = [
    Operator("word_counter_enricher", ENRICHER, word_counter_enricher),
    Operator("word_removal_ratio_filter", FILTER, word_removal_ratio_filter,
             signals=word_removal_ratio_filter_signals, keep=word_removal_ratio_filter_keep),
    Operator("random_sampling_filter", FILTER, random_sampling_filter,
             signals=random_sampling_filter_signals, keep=random_sampling_filter_keep),
    Operator("quality_filter", FILTER, quality_filter,
             signals=quality_filter_signals, keep=quality_filter_keep),
]
