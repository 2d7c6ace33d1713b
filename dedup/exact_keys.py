"""Keys for exact and URL dedup: the normalized string, hashed to 128 bits.

Exact-text normalization (``normalize_exact_text``), in this order:

1. Unicode NFKC, so compatibility forms (full-width letters, ligatures,
   non-breaking spaces) compare equal to their plain forms;
2. ``str.casefold`` (a stronger lowercase: "ß" and "ss" are equal);
3. every run of Unicode whitespace becomes one space, and leading and
   trailing whitespace is dropped.

Punctuation, digits and line order are kept: two texts are duplicates when
they differ only in case, spacing or Unicode compatibility forms. ``raw=True``
compares the text byte for byte instead.

URL normalization follows C4's ``normalize_url`` (TensorFlow Datasets
``c4_utils``), which strips ``http://``/``https://`` and a ``www.`` prefix,
cuts the query from a ``?utm_…``, ``?ref…`` or ``?feed…`` on, and strips
trailing slashes. C4 applies its patterns anywhere in the string; here they
apply at the start and to the query only, so a URL quoted inside a path is
left alone. On top, the equivalences RFC 3986 defines: the host is
lowercased (paths stay case-sensitive), a default port (``:80``, ``:443``)
and the ``#fragment`` (never sent to the server) are dropped.

Keys are xxh3-128 digests split in two uint64 columns: at 10^10 documents a
64-bit key would collide somewhere with probability ~1 (birthday bound), a
128-bit key with ~10^-19.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional

import numpy as np
import xxhash

_WHITESPACE = re.compile(r"\s+")
_SCHEME_WWW = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:www\.)?", re.IGNORECASE)
# C4 cuts at "?utm_", "?ref" or "?feed"; the rest of the query goes with it.
_C4_QUERY_CUT = re.compile(r"\?(?:utm_|ref|feed).*$", re.DOTALL)
_DEFAULT_PORT = re.compile(r":(?:80|443)$")
_MASK64 = (1 << 64) - 1


def normalize_exact_text(text: str, raw: bool = False) -> str:
    """Canonical form of a document for exact dedup (see module docstring)."""
    if raw:
        return text
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WHITESPACE.sub(" ", text).strip()


def normalize_url(url: str) -> str:
    """C4-style URL key (see module docstring); never raises."""
    url = url.strip()
    url = url.split("#", 1)[0]
    match = _SCHEME_WWW.match(url)
    rest = url[match.end():] if match else url
    # The authority runs to the first "/", "?" (or the end).
    cut = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0], default=len(rest))
    host, tail = rest[:cut], rest[cut:]
    host = _DEFAULT_PORT.sub("", host.lower())
    if not match and host.startswith("www."):
        host = host[4:]
    tail = _C4_QUERY_CUT.sub("", tail)
    return (host + tail).rstrip("/")


def key_strings(values: Iterable[Optional[str]], kind: str, raw: bool = False
                ) -> tuple[list[Optional[str]], np.ndarray]:
    """Normalized strings (None stays None) and a mask of the non-null ones."""
    if kind == "text":
        keys = [None if v is None else normalize_exact_text(v, raw) for v in values]
    elif kind == "url":
        keys = [None if v is None or not v.strip() else normalize_url(v) for v in values]
    else:
        raise ValueError(f"unknown key kind {kind!r}")
    present = np.fromiter((k is not None for k in keys), dtype=bool, count=len(keys))
    return keys, present


def hash128(keys: list[Optional[str]]) -> tuple[np.ndarray, np.ndarray]:
    """``(hi, lo)`` uint64 halves of the xxh3-128 digest of each key (None → 0, 0)."""
    digest = xxhash.xxh3_128_intdigest
    values = [0 if k is None else digest(k.encode("utf-8", "surrogatepass")) for k in keys]
    hi = np.fromiter((v >> 64 for v in values), dtype=np.uint64, count=len(values))
    lo = np.fromiter((v & _MASK64 for v in values), dtype=np.uint64, count=len(values))
    return hi, lo
