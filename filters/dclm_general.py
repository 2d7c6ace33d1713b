"""DCLM's general-purpose mappers that no RefinedWeb step uses (DCLM, Li et al. 2024).

They let any recipe written for DCLM's ``baselines/`` load here: key
renaming and the split/join pair of its ``c4.yaml``,
and a few page filters and counters of ``content_filters.py`` and
``enrichers.py``. Behaviour is DCLM's, quirks included (docs/dclm-parity.md):

* ``alphanumeric_char_ratio_filter``'s ``max_alnum_ratio`` is a *minimum*:
  DCLM drops pages whose alphanumeric share is below it;
* ``alphabetic_characters_to_tokens_filter``'s ``max_ratio`` is likewise a
  minimum, and DCLM's recipe format cannot set it (it is a parameter of the
  inner function, so 1.5 always applies); here the step accepts it;
* ``line_counter_enricher`` splits on ``paragraph_end`` as a regular
  expression, as DCLM's ``re.split`` does.
"""
from __future__ import annotations

import re
import warnings
from functools import lru_cache

from filters.operator import ENRICHER, FILTER, MODIFIER, Operator

_NAN = float("nan")


# -- keys and line lists ------------------------------------------------------

def key_name_modifier(page: dict, old_key: str = "content", new_key: str = "text",
                      allow_overwrite: bool = False) -> list[dict]:
    """Rename ``old_key`` to ``new_key``; a no-op when ``old_key`` is absent.

    DCLM's older raw pages kept their text under ``content``; ours always
    have ``text``, so in DCLM's recipes this step changes nothing here.
    """
    if old_key not in page:
        return [page]
    if new_key in page and not allow_overwrite:
        warnings.warn(f"key_name_modifier: {new_key!r} is already in the page and "
                      "allow_overwrite is false; nothing renamed", stacklevel=2)
        return [page]
    out = {k: v for k, v in page.items() if k != old_key}
    out[new_key] = page[old_key]
    return [out]


# Set by split_lines_modifier: the page's text stands for its lines, cut at this delimiter.
SPLIT_DELIMITER = "dclm_split_delimiter"


def split_lines_modifier(page: dict, delimiter: str = "\n") -> list[dict]:
    """Mark the text as its list of lines (DCLM); an empty text drops the page.

    DCLM makes the text a Python list here, for its line-level
    ``exact_dedup`` and ``join_lines_modifier``. Pages are written as Parquet
    between recipe segments, so the text stays a string and the delimiter is
    recorded in ``dclm_split_delimiter``: an ``exact_dedup`` on ``text`` before
    the join then works on lines, as in DCLM (``pipelines.deduplication.dclm_lines``).
    """
    text = page["text"]
    if not isinstance(text, str):
        raise TypeError(f"split_lines_modifier: text is a {type(text).__name__}")
    if SPLIT_DELIMITER in page:
        return [page]
    return [{**page, SPLIT_DELIMITER: delimiter}] if text else []


def join_lines_modifier(page: dict, delimiter: str = "\n") -> list[dict]:
    """Join the lines of ``split_lines_modifier`` with ``delimiter`` (DCLM); no lines drops the page."""
    if SPLIT_DELIMITER not in page:
        return [page]
    split_at = page[SPLIT_DELIMITER]
    out = {k: v for k, v in page.items() if k != SPLIT_DELIMITER}
    if not page["text"]:
        return []
    if split_at != delimiter:
        out["text"] = delimiter.join(page["text"].split(split_at))
    return [out]


# -- page filters ---------------------------------------------------------------

def alphanumeric_char_ratio_filter_signals(page: dict, **_unused) -> dict:
    text = page["text"]
    if not text:
        return {"alphanumeric_char_ratio": _NAN}
    return {"alphanumeric_char_ratio": sum(map(str.isalnum, text)) / len(text)}


def alphanumeric_char_ratio_filter_keep(signals: dict, max_alnum_ratio: float = 0.25, **_unused) -> bool:
    ratio = signals["alphanumeric_char_ratio"]
    return ratio == ratio and ratio >= max_alnum_ratio  # NaN (empty page) is dropped


def alphanumeric_char_ratio_filter(page: dict, max_alnum_ratio: float = 0.25) -> list[dict]:
    """Drop pages whose share of alphanumeric characters is *below* ``max_alnum_ratio`` (DCLM's naming)."""
    signals = alphanumeric_char_ratio_filter_signals(page)
    return [page] if alphanumeric_char_ratio_filter_keep(signals, max_alnum_ratio) else []


@lru_cache(maxsize=2)
def _hf_tokenizer(tokenizer_name: str):
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise ImportError("alphabetic_characters_to_tokens_filter needs the transformers package "
                          f"and the tokenizer {tokenizer_name!r} (pip install transformers)") from exc
    try:
        return AutoTokenizer.from_pretrained(tokenizer_name)
    except OSError as exc:
        raise OSError(f"alphabetic_characters_to_tokens_filter: cannot load the tokenizer "
                      f"{tokenizer_name!r} (download it from the Hugging Face Hub first): {exc}") from exc


def _check_alpha_tokens(tokenizer_name: str = "EleutherAI/pythia-6.9b-deduped", **_unused) -> None:
    _hf_tokenizer(tokenizer_name)


def alphabetic_characters_to_tokens_filter_signals(
        page: dict, tokenizer_name: str = "EleutherAI/pythia-6.9b-deduped", **_unused) -> dict:
    text = page["text"]
    tokens = len(_hf_tokenizer(tokenizer_name).tokenize(text)) if text else 0
    if not tokens:  # DCLM drops an empty page and fails (drops) a token-less one
        return {"alpha_chars_per_token": _NAN}
    return {"alpha_chars_per_token": sum(map(str.isalpha, text)) / tokens}


def alphabetic_characters_to_tokens_filter_keep(signals: dict, max_ratio: float = 1.5, **_unused) -> bool:
    ratio = signals["alpha_chars_per_token"]
    return ratio == ratio and ratio >= max_ratio


def alphabetic_characters_to_tokens_filter(page: dict,
                                           tokenizer_name: str = "EleutherAI/pythia-6.9b-deduped",
                                           max_ratio: float = 1.5) -> list[dict]:
    """Drop pages with fewer than ``max_ratio`` letters per token of ``tokenizer_name`` (DCLM's naming)."""
    signals = alphabetic_characters_to_tokens_filter_signals(page, tokenizer_name)
    return [page] if alphabetic_characters_to_tokens_filter_keep(signals, max_ratio) else []


def line_length_filter_signals(page: dict, length_type: str = "max", **_unused) -> dict:
    if length_type not in ("max", "avg"):
        raise ValueError(f"line_length_filter: length_type must be max or avg, not {length_type!r}")
    lines = page["text"].splitlines()   # DCLM: splitlines, so \r and \x0b break lines too
    if not page["text"] or not lines:
        return {f"{length_type}_line_length": _NAN}
    lengths = [len(line) for line in lines]
    value = max(lengths) if length_type == "max" else sum(lengths) / len(lengths)
    return {f"{length_type}_line_length": value}


def line_length_filter_keep(signals: dict, length_type: str = "max", max_length: float = 1000,
                            **_unused) -> bool:
    value = signals[f"{length_type}_line_length"]
    return value == value and value <= max_length


def line_length_filter(page: dict, length_type: str = "max", max_length: float = 1000) -> list[dict]:
    """Drop pages whose longest (``max``) or mean (``avg``) line exceeds ``max_length`` characters."""
    signals = line_length_filter_signals(page, length_type)
    return [page] if line_length_filter_keep(signals, length_type, max_length) else []


# -- counters -------------------------------------------------------------------

def line_counter_enricher(page: dict, paragraph_end: str = "\n", remove_empty: bool = True,
                          key: str = "num_lines", overwrite: bool = False) -> list[dict]:
    """Store the number of lines (or ``paragraph_end``-separated units) under ``key``.

    With ``remove_empty`` units that are blank once stripped do not count.
    """
    if key in page and not overwrite:
        raise ValueError(f"line_counter_enricher: page already has {key!r}; pass overwrite: true")
    units = re.split(paragraph_end, page["text"])
    if remove_empty:
        units = [u for u in units if u.strip()]
    return [{**page, key: len(units)}]


OPERATORS = [
    Operator("key_name_modifier", MODIFIER, key_name_modifier),
    Operator("split_lines_modifier", MODIFIER, split_lines_modifier),
    Operator("join_lines_modifier", MODIFIER, join_lines_modifier),
    Operator("alphanumeric_char_ratio_filter", FILTER, alphanumeric_char_ratio_filter,
             signals=alphanumeric_char_ratio_filter_signals, keep=alphanumeric_char_ratio_filter_keep),
    Operator("alphabetic_characters_to_tokens_filter", FILTER, alphabetic_characters_to_tokens_filter,
             signals=alphabetic_characters_to_tokens_filter_signals,
             keep=alphabetic_characters_to_tokens_filter_keep, check=_check_alpha_tokens),
    Operator("line_length_filter", FILTER, line_length_filter,
             signals=line_length_filter_signals, keep=line_length_filter_keep),
    Operator("line_counter_enricher", ENRICHER, line_counter_enricher),
]
