"""C4's cleaning rules (Raffel et al. 2020, "Exploring the Limits of Transfer
Learning with a Unified Text-to-Text Transformer", section 2.2).

DCLM (Li et al. 2024) expresses C4 with generic steps: ``substring_filter``
for "lorem ipsum", ``{`` and the bad-words list, ``substring_line_modifier``
for the javascript and policy lines, and ``page_length_filter`` with
``length_type: sentence`` for the minimum sentence count.  ``substring_filter``
is here under DCLM's name.  DCLM has no dedicated C4 step, so the rest of C4 is
offered under names of our own, following the reference code (TFDS
``c4_utils.clean_page``):

* ``c4_line_modifier`` (modifier) keeps only lines that end in terminal
  punctuation, have at least ``min_words_per_line`` words, no word longer than
  ``max_word_length``, and mention neither javascript nor a cookie/terms
  policy; it also removes Wikipedia citation marks;
* ``c4_page_filter`` (filter) drops a page that contains "lorem ipsum" or a
  curly bracket, or has fewer than ``min_num_sentences`` sentences;
* ``c4_quality_filter`` (modifier) is the two in a row, the analogue of
  datatrove's ``C4QualityFilter``.

Defaults are those of the TFDS code (5 words per line, 3 sentences) which
DCLM's ``c4.yaml`` also uses.  The C4 paper's text and datatrove swap them (3
words per line, 5 sentences).  Other differences from datatrove: its end marks
include ``'`` (TFDS and we: ``. ? ! "``); its word count per line is taken
before citation removal; and sentences are counted with nltk punkt, ours with
the rule-based splitter of ``text_units``.
"""
from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache

from filters.operator import FILTER, MODIFIER, Operator
from filters.text_units import count_sentences
from filters.url_filters import words_to_regex

_LOREM_IPSUM = re.compile("lorem ipsum", re.IGNORECASE)
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
_END_MARKS = (".", "?", "!", '"')
_ELLIPSIS = "..."
_POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                      "use of cookies", "use cookies")


# -- substring_filter -----------------------------------------------------------

def _load_banlist(banlist, banlist_from_fname) -> tuple[str, ...]:
    if banlist_from_fname is not None:
        # Read exactly the path given (a recipe loader may map DCLM's file
        # names to our stand-ins, see filters/banlists/README.md).
        with open(banlist_from_fname, encoding="utf-8") as handle:
            entries = [e for e in handle.read().splitlines() if not e.startswith("#")]
    elif banlist is None:
        raise ValueError("substring_filter needs banlist or banlist_from_fname")
    elif isinstance(banlist, str):
        entries = [banlist]
    else:
        entries = list(banlist)
    # An empty entry would match every page (DCLM's regex has that flaw).
    return tuple(e for e in entries if e)


def _hashable(banlist):
    return banlist if banlist is None or isinstance(banlist, str) else tuple(banlist)


@lru_cache(maxsize=64)
def _load_banlist_cached(banlist, banlist_from_fname) -> tuple:
    # Recipes call a step once per page; the file must be read once per process.
    return _load_banlist(banlist, banlist_from_fname)


@lru_cache(maxsize=64)
def _compile_banlist(entries: tuple, location: str, case_sensitive: bool, exact_word: bool) -> re.Pattern:
    if location not in ("any", "prefix", "suffix"):
        raise ValueError("location must be one of any, prefix, suffix")
    if not case_sensitive:
        entries = tuple(e.lower() for e in entries)
    # A prefix trie, not a flat alternation: Python's re tries alternatives
    # one by one, so a long list would cost one test per entry per position.
    pattern = "(?:" + words_to_regex(entries) + ")"
    if exact_word:
        pattern = rf"\b{pattern}\b"
    if location == "prefix":
        pattern = "^" + pattern
    elif location == "suffix":
        pattern = pattern + "$"
    return re.compile(pattern)


def _slug(text: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else ("_" if ch.isspace() else f"x{ord(ch):x}")
                   for ch in text.lower())


def _substring_column(banlist, banlist_from_fname, location, case_sensitive, exact_word) -> str:
    # The column must name the measurement, so that two substring_filter
    # steps of one recipe (C4 has three) annotate different columns.
    if banlist_from_fname is not None:
        stem = os.path.splitext(os.path.basename(banlist_from_fname))[0]
    else:
        stem = "_".join(_slug(e) for e in ([banlist] if isinstance(banlist, str) else banlist or []))
    if len(stem) > 40:
        stem = stem[:32] + "_" + hashlib.blake2s(stem.encode(), digest_size=4).hexdigest()
    parts = ["substring", stem]
    if location != "any":
        parts.append(location)
    if exact_word:
        parts.append("word")
    if case_sensitive:
        parts.append("cs")
    return "_".join(parts) + "_count"


def substring_filter_signals(page: dict, banlist=None, banlist_from_fname=None, location: str = "any",
                             case_sensitive: bool = False, exact_word: bool = False, **_unused) -> dict:
    entries = _load_banlist_cached(_hashable(banlist), banlist_from_fname)
    pattern = _compile_banlist(entries, location, case_sensitive, exact_word)
    text = page["text"] if case_sensitive else page["text"].lower()
    column = _substring_column(banlist, banlist_from_fname, location, case_sensitive, exact_word)
    return {column: sum(1 for _ in pattern.finditer(text))}


def substring_filter_keep(signals: dict, banlist=None, banlist_from_fname=None, location: str = "any",
                          case_sensitive: bool = False, exact_word: bool = False, **_unused) -> bool:
    return signals[_substring_column(banlist, banlist_from_fname, location, case_sensitive, exact_word)] == 0


def substring_filter(page: dict, banlist=None, banlist_from_fname=None, location: str = "any",
                     case_sensitive: bool = False, exact_word: bool = False) -> list[dict]:
    """Drop pages containing any entry of a banlist (C4: "lorem ipsum", "{", bad words).

    ``location`` is ``any``, ``prefix`` (start of the page) or ``suffix`` (end
    of the page); ``exact_word`` requires word boundaries (``\\b``) around the
    match, as DCLM does for C4's bad-words list (TFDS/datatrove instead require
    a non-word character or the page edge, which differs only for entries that
    begin or end with punctuation).  Unlike DCLM, entries are literal strings,
    not regular expressions; blank entries and, in files, lines starting with
    ``#`` are ignored.  The signal is the
    number of non-overlapping matches.
    """
    params = dict(banlist=banlist, banlist_from_fname=banlist_from_fname, location=location,
                  case_sensitive=case_sensitive, exact_word=exact_word)
    return [page] if substring_filter_keep(substring_filter_signals(page, **params), **params) else []


# -- C4 line rules --------------------------------------------------------------

def _clean_lines(text: str, remove_citations: bool, filter_no_terminal_punct: bool, min_words_per_line: int,
                 max_word_length: int, filter_javascript: bool, filter_policy: bool,
                 keep_lorem_ipsum: bool, keep_curly_bracket: bool) -> list[str]:
    kept = []
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if max_word_length >= 0 and any(len(word) > max_word_length for word in words):
            continue
        if remove_citations and "[" in line:
            line = _CITATION.sub("", line)
            words = line.split()
        if filter_no_terminal_punct and (not line.endswith(_END_MARKS) or line.endswith(_ELLIPSIS)):
            continue
        if len(words) < min_words_per_line:
            continue
        lower = line.lower()
        # C4 drops the whole page when a line that got this far holds "lorem
        # ipsum" (checked before the javascript rule) or "{" (checked after
        # it).  Keeping such lines, in that order, lets c4_page_filter, run
        # next, see them and drop the page exactly when C4 would.
        if keep_lorem_ipsum and "lorem ipsum" in lower:
            kept.append(line)
            continue
        if filter_javascript and "javascript" in lower:
            continue
        if keep_curly_bracket and "{" in line:
            kept.append(line)
            continue
        if filter_policy and any(p in lower for p in _POLICY_SUBSTRINGS):
            continue
        kept.append(line)
    return kept


def c4_line_modifier(page: dict, remove_citations: bool = True, filter_no_terminal_punct: bool = True,
                     min_words_per_line: int = 5, max_word_length: int = 1000, filter_javascript: bool = True,
                     filter_policy: bool = True) -> list[dict]:
    """C4's line rules; returns a copy of the page with only the lines that pass, or [] if none does.

    Lines (``str.splitlines``) are stripped; a line is removed if a word is
    longer than ``max_word_length`` characters (-1: no limit), if it does not
    end in ``. ? ! "`` or ends in ``...``, if it has fewer than
    ``min_words_per_line`` words after citation marks (``[1]``, ``[edit]``,
    ``[citation needed]``) are removed, or if it mentions javascript or a
    cookie / terms-of-use policy.  Lines with "lorem ipsum" or ``{`` are kept
    for ``c4_page_filter`` to drop the page, as C4 does.
    """
    kept = _clean_lines(page["text"], remove_citations, filter_no_terminal_punct, min_words_per_line,
                        max_word_length, filter_javascript, filter_policy,
                        keep_lorem_ipsum=True, keep_curly_bracket=True)
    text = "\n".join(kept).strip()
    return [{**page, "text": text}] if text else []


# -- C4 page rules --------------------------------------------------------------

def c4_page_filter_signals(page: dict, **_unused) -> dict:
    text = page["text"]
    return {
        "c4_lorem_ipsum": int(_LOREM_IPSUM.search(text) is not None),
        "c4_curly_bracket": int("{" in text),
        "c4_sentence_count": count_sentences(text),
    }


def c4_page_filter_keep(signals: dict, min_num_sentences: int = 3, filter_lorem_ipsum: bool = True,
                        filter_curly_bracket: bool = True, **_unused) -> bool:
    if filter_lorem_ipsum and signals["c4_lorem_ipsum"]:
        return False
    if filter_curly_bracket and signals["c4_curly_bracket"]:
        return False
    return signals["c4_sentence_count"] >= min_num_sentences


def c4_page_filter(page: dict, min_num_sentences: int = 3, filter_lorem_ipsum: bool = True,
                   filter_curly_bracket: bool = True) -> list[dict]:
    """C4's page rules: drop pages with "lorem ipsum" (any case), a ``{``, or < ``min_num_sentences`` sentences.

    Run after ``c4_line_modifier`` these see only the lines C4 keeps, as in
    the reference code.  ``min_num_sentences: -1`` disables the count.
    """
    params = dict(min_num_sentences=min_num_sentences, filter_lorem_ipsum=filter_lorem_ipsum,
                  filter_curly_bracket=filter_curly_bracket)
    return [page] if c4_page_filter_keep(c4_page_filter_signals(page), **params) else []


def c4_quality_filter(page: dict, remove_citations: bool = True, filter_no_terminal_punct: bool = True,
                      min_num_sentences: int = 3, min_words_per_line: int = 5, max_word_length: int = 1000,
                      filter_lorem_ipsum: bool = True, filter_javascript: bool = True,
                      filter_curly_bracket: bool = True, filter_policy: bool = True) -> list[dict]:
    """The whole of C4's heuristic cleaning: ``c4_line_modifier`` then ``c4_page_filter``.

    Parameter names are datatrove's ``C4QualityFilter`` ones (without its
    ``split_paragraph`` and ``tokenizer_language``); defaults are C4's code.
    Returns the cleaned page or [].
    """
    kept = _clean_lines(page["text"], remove_citations, filter_no_terminal_punct, min_words_per_line,
                        max_word_length, filter_javascript, filter_policy,
                        keep_lorem_ipsum=filter_lorem_ipsum, keep_curly_bracket=filter_curly_bracket)
    text = "\n".join(kept).strip()
    if not text:
        return []
    cleaned = {**page, "text": text}
    return c4_page_filter(cleaned, min_num_sentences=min_num_sentences, filter_lorem_ipsum=filter_lorem_ipsum,
                          filter_curly_bracket=filter_curly_bracket)


OPERATORS = [
    Operator(name="substring_filter", kind=FILTER, func=substring_filter,
             signals=substring_filter_signals, keep=substring_filter_keep),
    Operator(name="c4_line_modifier", kind=MODIFIER, func=c4_line_modifier),
    Operator(name="c4_page_filter", kind=FILTER, func=c4_page_filter,
             signals=c4_page_filter_signals, keep=c4_page_filter_keep),
    Operator(name="c4_quality_filter", kind=MODIFIER, func=c4_quality_filter),
]
