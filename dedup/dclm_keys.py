"""DCLM's ``exact_dedup`` parameters: its key normalizers and its choice of survivor.

DCLM's ``exact_dedup(content_key, normalize, selection_key,
selection_normalize, selection_reverse)`` (``ray_processing/dedup_jsonl.py``)
groups pages whose ``normalize(page[content_key])`` is equal and keeps, in
each group, the page with the smallest ``selection_normalize(page[selection_key])``
(the largest with ``selection_reverse``). Without a selection key DCLM keeps
whichever row its Ray groupby saw first; we keep the first in input order.

The normalizers are DCLM's (``baselines/mappers/core_utils.py``), which are
not ours (``dedup.exact_keys``): DCLM's ``normalize_url`` removes
``http(s)://`` and ``www.`` anywhere in the string and keeps the host's case;
``normalize_whitespace_and_lowercase`` is ``strip().lower()``. DCLM
silently treats an unknown normalizer name as none; we refuse it.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Callable, Optional

_SCHEME_WWW = re.compile(r"https?:\/\/(www\.)?")
_QUERY_CUT = re.compile(r"\?(utm_|ref|feed).*")


def _normalize_url(url: str) -> str:
    return _QUERY_CUT.sub("", _SCHEME_WWW.sub("", url)).rstrip("/")


def _whitespace_and_lowercase(text: str) -> str:
    return text.strip().lower()


def _hash_text(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _timestamp(value: str) -> float:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").timestamp()
    except ValueError:
        return -1.0


NORMALIZERS: dict[str, Callable] = {
    "normalize_url": _normalize_url,
    "normalize_whitespace_and_lowercase": _whitespace_and_lowercase,
    "hash_text": _hash_text,
    "normalize_timestamps": _timestamp,
}


def normalizer(name: Optional[str]) -> Optional[Callable]:
    """The normalizer called ``name`` (None: compare raw values); ValueError if unknown."""
    if name is None:
        return None
    if name not in NORMALIZERS:
        supported = ", ".join(NORMALIZERS)
        hint = " (ccnet_dedup_normalizer is not supported)" if name == "ccnet_dedup_normalizer" else ""
        raise ValueError(f"normalize {name!r} is not one of DCLM's normalizers we support: {supported}{hint}")
    return NORMALIZERS[name]


def content_keys(values: list, normalize: Optional[str]) -> list[Optional[str]]:
    """Comparable strings of the content values (None stays None: it never matches)."""
    func = normalizer(normalize)
    if func is None:
        return [None if v is None else str(v) for v in values]
    return [None if v is None else str(func(v)) for v in values]


def selection_values(values: list, normalize: Optional[str]) -> list:
    """What DCLM compares to pick the survivor of a group."""
    func = normalizer(normalize)
    return list(values) if func is None else [None if v is None else func(v) for v in values]
