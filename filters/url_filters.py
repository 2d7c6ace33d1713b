"""URL-based steps: where a page came from decides whether it is kept.

RefinedWeb (Penedo et al. 2023, §G.1) drops pages by URL before looking at
their text: a curated list of adult/spam domains matched exactly, a "strict"
word list matched anywhere in the URL, a "hard" list matched as whole words,
and a "soft" list that needs two distinct hits. DCLM (Li et al. 2024)
expresses all four as one step, ``url_substring_filter``, with different
parameters; its ``refinedweb.yaml`` also bans a list of high-quality domains
(wikipedia.org, arxiv.org, github.com, ...) that other sources already cover.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Iterable, Optional, Sequence, Union
from urllib.parse import urlsplit

from filters.operator import FILTER, MODIFIER, Operator

# DCLM's raw CC jsonl kept the URL only in the WARC headers.
_WARC_URI = "WARC-Target-URI"

BANLIST_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "banlists")

# Our small stand-ins for the lists DCLM's recipes name (banlists/README.md).
# This filter reads exactly the path it is given; a recipe loader may swap a
# missing DCLM file for its stand-in, but should say so, since the stand-ins
# are far shorter than the real lists.
DCLM_BANLIST_STANDINS = {
    dclm_name: os.path.join(BANLIST_DIR, ours) for dclm_name, ours in {
        "refinedweb_banned_domains_curated.txt": "url_banned_domains.txt",
        "refinedweb_banned_words_strict_reverse_engineered.txt": "url_banned_words_strict.txt",
        "refinedweb_banned_words_hard_reverse_engineered.txt": "url_banned_words_hard.txt",
        "refinedweb_banned_words_soft_reverse_engineered.txt": "url_banned_words_soft.txt",
        "ldnoobw.txt": "c4_bad_words.txt",
        "iana_tlds.txt": "iana_tlds.txt",
    }.items()
}


def words_to_regex(words: Iterable[str]) -> str:
    """A regex alternation of literal ``words`` shaped as a prefix trie.

    Python's ``re`` tries alternatives one by one; sharing prefixes means a
    list of a thousand words costs a few character tests per position
    instead of a thousand. Longer words win over their prefixes
    ("sexy" before "sex") because every branch is greedy and optional
    endings come last.
    """
    trie: dict = {}
    for word in words:
        if not word:
            continue
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # end-of-word marker
    return _trie_to_regex(trie) if trie else "(?!)"


def _trie_to_regex(node: dict) -> str:
    ends_here = "" in node
    branches = [re.escape(ch) + _trie_to_regex(child)
                for ch, child in sorted(node.items()) if ch != ""]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends_here:
        # A word may stop here, but try the longer continuations first.
        body = ("(?:" + body + ")?") if len(branches) == 1 else body + "?"
    return body


def move_url_modifier(page: dict) -> list[dict]:
    """Copy ``metadata['WARC-Target-URI']`` into ``page['url']`` (DCLM, Li et al. 2024).

    DCLM's pool kept the URL only in the WARC headers; this step makes it a
    top-level field so URL filters can see it. Our extractor already fills
    ``url``, so a page without that header is returned unchanged.
    """
    metadata = page.get("metadata") or {}
    uri = metadata.get(_WARC_URI)
    if uri is None or page.get("url") == uri:
        return [page]
    return [{**page, "url": uri}]


# --------------------------------------------------------------------------
# url_substring_filter
# --------------------------------------------------------------------------

@lru_cache(maxsize=64)
def _read_banlist(path: str) -> tuple[str, ...]:
    """Entries of a one-per-line banlist; read once per process and path.

    Blank lines and ``#`` comments are skipped so a list can carry notes.
    """
    if path.endswith((".pkl", ".pickle")):
        raise ValueError(
            f"url_substring_filter: banlist {path!r} is a pickle; only plain "
            "text lists (one entry per line) are supported")
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise OSError(f"url_substring_filter: cannot read banlist file {path!r}: {exc}") from exc
    return tuple(e for e in (ln.strip() for ln in lines) if e and not e.startswith("#"))


def _normalize(s: str, case_sensitive: bool, ignore_chars: tuple[str, ...]) -> str:
    if not case_sensitive:
        s = s.lower()
    for chars in ignore_chars:
        s = s.replace(chars, "")
    return s


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc
    except ValueError:  # malformed, e.g. an unbalanced IPv6 bracket
        return ""


def _host(url: str) -> str:
    """The host of ``url`` without user info or port."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # malformed, e.g. an unbalanced IPv6 bracket
        return ""
    netloc = netloc.rpartition("@")[2]
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc.partition(":")[0]


class _Matcher:
    """A compiled banlist: a set of domains or a regex of substrings."""

    __slots__ = ("domains", "pattern")

    def __init__(self, domains: Optional[frozenset], pattern: Optional[re.Pattern]):
        self.domains = domains
        self.pattern = pattern


@lru_cache(maxsize=64)
def _matcher(source: tuple[str, ...], from_file: bool, exact_domain_match: bool,
             match_substrings: bool, case_sensitive: bool,
             ignore_chars: tuple[str, ...], clean_domain: bool,
             normalize_banlist: bool) -> _Matcher:
    # Keyed by the file path rather than its entries: hashing a tuple of
    # millions of domains on every page would cost more than the match.
    entries = _read_banlist(source[0]) if from_file else source
    if exact_domain_match:
        if clean_domain:
            # Entries get the URL's normalization, so "www.foo.com" in a
            # list still matches when ignore_chars strips "www".
            domains = (_normalize(e, case_sensitive, ignore_chars).strip(".") for e in entries)
            # An entry that normalizes to "" would ban every page without a URL.
            return _Matcher(frozenset(d for d in domains if d), None)
        # DCLM: entries only case-folded; ignore_chars apply to the URL alone.
        return _Matcher(frozenset(_normalize(e, case_sensitive, ()) for e in entries), None)
    # DCLM removes ignore_chars from the URL only, so an entry holding one
    # ("g-spot" with ignore_chars ['-', '.']) can never match. Normalizing
    # the entries too (normalize_banlist) revives it, as "gspot", which
    # then also hits every *.blogspot.com URL.
    words = {_normalize(e, case_sensitive, ignore_chars if normalize_banlist else ()) for e in entries}
    body = words_to_regex(words)
    if not match_substrings:
        body = rf"\b(?:{body})\b"
    flags = 0 if case_sensitive else re.IGNORECASE
    return _Matcher(None, re.compile(body, flags))


def _as_tuple(value: Union[None, str, Sequence[str]]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def url_substring_filter_signals(page: dict, banlist: Union[str, Sequence[str], None] = None,
                                 banlist_from_fname: Optional[str] = None,
                                 ignore_chars: Optional[Sequence[str]] = None,
                                 num_banned_substrs: int = 1, exact_domain_match: bool = False,
                                 match_substrings: bool = True,
                                 case_sensitive: bool = False, clean_domain: bool = False,
                                 normalize_banlist: bool = False) -> dict:
    """``url_banlist_hits``: distinct banlist entries found in the URL.

    With ``exact_domain_match`` it is 1 when the URL's network location
    (DCLM's ``urlparse(url).netloc``, port and user info included) minus
    ``ignore_chars`` is in the list, else 0; with ``clean_domain`` the host
    alone, minus ``ignore_chars`` and the dots they leave at its edges, is
    compared with the entries normalized the same way. Otherwise it counts
    distinct entries found in the whole URL, as substrings or
    (``match_substrings=False``) as whole words.
    """
    if banlist_from_fname is not None:  # the file wins, as in DCLM
        source, from_file = (str(banlist_from_fname),), True
    elif banlist is not None:
        source, from_file = _as_tuple(banlist), False
    else:
        raise ValueError("url_substring_filter needs banlist or banlist_from_fname")
    ignore = _as_tuple(ignore_chars)
    matcher = _matcher(source, from_file, bool(exact_domain_match), bool(match_substrings),
                       bool(case_sensitive), ignore, bool(clean_domain), bool(normalize_banlist))

    url = page.get("url") or (page.get("metadata") or {}).get(_WARC_URI) or ""
    if matcher.domains is not None:
        if clean_domain:
            host = _normalize(_host(url), case_sensitive, ignore).strip(".")
        else:
            # DCLM: "www.reddit.com" with ignore_chars ['www'] becomes
            # ".reddit.com", which is not "reddit.com", so the page stays.
            host = _normalize(_netloc(url), case_sensitive, ignore)
        return {"url_banlist_hits": int(host in matcher.domains)}
    url = _normalize(url, case_sensitive, ignore)
    if not case_sensitive:
        # The entries are lowercased; fold matches the same way before
        # counting so "SEX" and "sex" are one entry, not two.
        hits = {m.lower() for m in matcher.pattern.findall(url)}
    else:
        hits = set(matcher.pattern.findall(url))
    return {"url_banlist_hits": len(hits)}


def url_substring_filter_keep(signals: dict, num_banned_substrs: int = 1,
                              exact_domain_match: bool = False, **_step_params) -> bool:
    """Drop on a banned host, or on ``num_banned_substrs`` distinct hits."""
    hits = signals["url_banlist_hits"]
    if exact_domain_match:
        return hits == 0  # DCLM ignores num_banned_substrs for domains
    return hits < num_banned_substrs


def url_substring_filter(page: dict, banlist: Union[str, Sequence[str], None] = None,
                         banlist_from_fname: Optional[str] = None,
                         ignore_chars: Optional[Sequence[str]] = None,
                         num_banned_substrs: int = 1, exact_domain_match: bool = False,
                         match_substrings: bool = True, case_sensitive: bool = False,
                         clean_domain: bool = False, normalize_banlist: bool = False) -> list[dict]:
    """Drop pages whose URL hits a banlist (RefinedWeb, Penedo et al. 2023; DCLM, Li et al. 2024).

    ``banlist`` is a string or list; ``banlist_from_fname`` a text file with
    one entry per line (already resolved by the recipe loader; it takes
    precedence over ``banlist``). ``ignore_chars`` are removed from the URL
    before matching (RefinedWeb strips ``-`` and ``.`` that spam URLs use to
    dodge word lists); as in DCLM, not from the entries. With
    ``exact_domain_match`` the URL's netloc, minus ``ignore_chars``, must
    equal an entry; otherwise entries are searched in the whole URL, as
    substrings or, with ``match_substrings=False``, between word
    boundaries, and ``num_banned_substrs`` distinct hits drop the page.

    Fixes for DCLM's quirks (docs/dclm-parity.md), off by default:
    ``clean_domain`` compares the bare host with edge dots stripped, so
    ``ignore_chars: ['www']`` bans "www.reddit.com" for "reddit.com";
    ``normalize_banlist`` removes ``ignore_chars`` from the entries too.
    """
    signals = url_substring_filter_signals(
        page, banlist=banlist, banlist_from_fname=banlist_from_fname,
        ignore_chars=ignore_chars, num_banned_substrs=num_banned_substrs,
        exact_domain_match=exact_domain_match, match_substrings=match_substrings,
        case_sensitive=case_sensitive, clean_domain=clean_domain,
        normalize_banlist=normalize_banlist)
    keep = url_substring_filter_keep(signals, num_banned_substrs=num_banned_substrs,
                                     exact_domain_match=exact_domain_match)
    return [page] if keep else []


OPERATORS = [
    Operator("move_url_modifier", MODIFIER, move_url_modifier),
    Operator("url_substring_filter", FILTER, url_substring_filter,
             signals=url_substring_filter_signals, keep=url_substring_filter_keep),
]
