"""Line-level cleanup: rewrite a page by removing lines (or bits of lines).

RefinedWeb (Penedo et al. 2023, §G.2) removes boilerplate lines that survive
extraction: mostly-uppercase lines, lines made only of digits, social
counters ("3 likes"), one-word lines and short "Read more..." style lines.
C4 (Raffel et al. 2020) keeps only lines ending in terminal punctuation and
drops lines mentioning javascript or cookie policies. DCLM (Li et al. 2024)
implements both as "modifiers"; names, parameters and defaults follow it.

Shared conventions, so every modifier behaves alike:
* a page is split on ``\\n`` and empty lines are never the reason for a
  removal (they carry paragraph structure);
* when the text does not change the *same* page object is returned, so
  callers can count "modified" pages by identity and no text is copied;
* whitespace and dropping follow DCLM's code exactly, since a DCLM recipe
  must give DCLM's bytes: a page is dropped only when its text becomes
  the empty string (a page of empty lines can survive), and only the modifiers
  whose DCLM code strips the rebuilt text strip it (uppercase, numeric,
  counter, substring: always, even when no line went; punctuation, line
  length, word length: never). docs/dclm-parity.md lists the quirks.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Optional, Sequence, Union

from filters.operator import MODIFIER, Operator
from filters.text_units import split_words
from filters.url_filters import words_to_regex


def _with_text(page: dict, text: str) -> list[dict]:
    if text == page["text"]:
        return [page] if text else []
    return [{**page, "text": text}] if text else []


def _keep_lines(page: dict, keep_line: Callable[[str], bool], strip: bool) -> list[dict]:
    text = page["text"]
    lines = text.split("\n")
    kept = [line for line in lines if keep_line(line)]
    new_text = text if len(kept) == len(lines) else "\n".join(kept)
    return _with_text(page, new_text.strip() if strip else new_text)


def uppercase_ratio_line_modifier(page: dict, max_ratio: float = 0.5) -> list[dict]:
    """Remove lines whose share of uppercase characters exceeds ``max_ratio``.

    RefinedWeb (Penedo et al. 2023) line rule; the share is over all
    characters of the line, spaces included (as in DCLM).
    """
    def keep(line: str) -> bool:
        return not line or sum(map(str.isupper, line)) / len(line) <= max_ratio
    return _keep_lines(page, keep, strip=True)


def numeric_ratio_line_modifier(page: dict, max_ratio: float = 0.999999) -> list[dict]:
    """Remove lines whose share of digit characters exceeds ``max_ratio``.

    RefinedWeb (Penedo et al. 2023) removes lines that are only numbers;
    ``1 - 1e-6`` expresses "all digits" as a ratio. (DCLM's own default,
    1.0, never removes anything; its RefinedWeb recipes pass 0.999999.)
    """
    def keep(line: str) -> bool:
        return not line or sum(map(str.isdigit, line)) / len(line) <= max_ratio
    return _keep_lines(page, keep, strip=True)


# Social-media counters such as "12 likes", "1.2K views", "- 3,400 shares -",
# matched against the lowercased line, as DCLM does.
_COUNTER_NOUNS = (r"(?:likes|shares|comments|retweets|reposts|quotes|bookmarks|upvotes|downvotes"
                  r"|downloads|views|followers)")
_COUNTER_LINE = re.compile(r"^\W*\d[\d,.]*[kmb]?\s+" + _COUNTER_NOUNS + r"\W*$")
# A superset over the whole text (any line that matches also matches here).
_COUNTER_PROBE = re.compile(_COUNTER_LINE.pattern, re.IGNORECASE | re.MULTILINE)


def counter_line_modifier(page: dict) -> list[dict]:
    """Remove lines that are only a counter, e.g. "3 likes" (RefinedWeb, Penedo et al. 2023).

    The counted nouns are DCLM's (plural forms, case-insensitive).
    """
    # One pass over the whole text first: almost no page has a counter.
    if not _COUNTER_PROBE.search(page["text"]):
        return _with_text(page, page["text"].strip())
    return _keep_lines(page, lambda line: not _COUNTER_LINE.search(line.lower()), strip=True)


def line_length_modifier(page: dict, min_length: int = 0,
                         max_length: float = float("inf")) -> list[dict]:
    """Remove lines with fewer than ``min_length`` or more than ``max_length`` words.

    RefinedWeb (Penedo et al. 2023) drops one-word lines (``min_length: 2``);
    C4 (Raffel et al. 2020) requires five words (``min_length: 5``). Words
    are whitespace-separated tokens; bounds are inclusive.
    """
    def keep(line: str) -> bool:
        return not line or min_length <= len(line.split()) <= max_length
    return _keep_lines(page, keep, strip=False)


def word_length_modifier(page: dict, max_length: int = 1000, model: Optional[str] = None,
                         ignore_punctuation: bool = False,
                         ignore_whitespace: bool = True) -> list[dict]:
    """Remove lines containing a word longer than ``max_length`` characters (C4, Raffel et al. 2020).

    ``model`` is DCLM's tokenizer choice (``split``, ``fasttext`` or
    ``uniseg``; C4's recipe uses ``split``); ``ignore_whitespace`` is
    accepted for DCLM's recipes.
    """
    words_model = model or "fasttext"

    def keep(line: str) -> bool:
        return all(len(w) <= max_length
                   for w in split_words(line, ignore_punctuation, model=words_model))
    if len(page["text"]) <= max_length:  # no word can be too long
        return _with_text(page, page["text"])
    return _keep_lines(page, keep, strip=False)


@lru_cache(maxsize=256)
def _substring_pattern(banlist: tuple[str, ...], case_sensitive: bool, location: str,
                       literal_banlist: bool) -> re.Pattern:
    if literal_banlist:
        body = words_to_regex(banlist)
    else:
        # DCLM joins the entries unescaped, so each is a regular expression:
        # "Read more..." also matches "Read more!!!" (the dots are wildcards).
        body = "|".join(banlist if case_sensitive else [b.lower() for b in banlist])
    body = f"(?:{body})"
    # One whitespace next to the substring goes with it, so removing it
    # from "Sign-in to comment" leaves "to comment", not " to comment".
    located = {"prefix": rf"^{body}\s?", "suffix": rf"\s?{body}$", "any": rf"\s?{body}"}
    return re.compile(located[location], 0 if case_sensitive else re.IGNORECASE)


def substring_line_modifier(page: dict, banlist: Union[str, Sequence[str]],
                            case_sensitive: bool = False, location: str = "any",
                            max_length: Optional[int] = None,
                            remove_substring_only: bool = False,
                            literal_banlist: bool = False) -> list[dict]:
    """Remove lines (or just the substring) containing a banned substring.

    RefinedWeb (Penedo et al. 2023) strips short navigation leftovers such
    as "items in cart", a trailing "Read more..." or a leading "Sign-in";
    C4 (Raffel et al. 2020) drops lines mentioning "javascript" or cookie
    and privacy policies. ``location`` is ``prefix``, ``suffix`` or ``any``;
    only lines of at most ``max_length`` words are touched; with
    ``remove_substring_only`` the substring is cut out and the line is
    kept unless nothing is left of it.

    As in DCLM, entries are regular expressions (``literal_banlist: true``
    matches them as plain text), the rebuilt text is stripped, and with
    ``remove_substring_only`` every whitespace-only line within
    ``max_length`` words goes too, matched or not.
    """
    if location not in ("prefix", "suffix", "any"):
        raise ValueError(f"substring_line_modifier: location must be prefix, suffix or any, "
                         f"not {location!r}")
    entries = (banlist,) if isinstance(banlist, str) else tuple(banlist)
    pattern = _substring_pattern(entries, bool(case_sensitive), location, bool(literal_banlist))
    text = page["text"]
    out = []
    for line in text.split("\n"):
        if max_length is None or len(line.split()) <= max_length:
            if remove_substring_only:
                new_line = pattern.sub("", line)
                if line and (not new_line or new_line.isspace()):
                    continue
                line = new_line
            elif pattern.search(line):
                continue
        out.append(line)
    return _with_text(page, "\n".join(out).strip())


# A line ends a sentence if its last visible character is terminal
# punctuation or a closing quote (C4's rule, with the Unicode ellipsis).
_ENDS_WITH_PUNCT = re.compile(r'[.!?"\u2026]\s*$')
_ENDS_WITH_ELLIPSIS = re.compile(r"(?:\.\.\.|\u2026)\s*$")


def punctuation_line_modifier(page: dict, remove_ellipses: bool = False) -> list[dict]:
    """Keep only lines that end in terminal punctuation (C4, Raffel et al. 2020).

    With ``remove_ellipses`` a line ending in "..." or "…" does not count
    as ending a sentence, which is what C4's TFDS code does.
    """
    def keep(line: str) -> bool:
        if not line:
            return True
        if not _ENDS_WITH_PUNCT.search(line):
            return False
        return not (remove_ellipses and _ENDS_WITH_ELLIPSIS.search(line))
    return _keep_lines(page, keep, strip=False)


_MULTI_NEWLINE: dict[int, re.Pattern] = {}


def newline_removal_modifier(page: dict, max_consecutive: int = 2) -> list[dict]:
    """Collapse runs of more than ``max_consecutive`` newlines (DCLM, Li et al. 2024).

    Extractors leave long blank stretches where layout blocks were; two
    newlines are enough to mark a paragraph.
    """
    if max_consecutive < 0:
        raise ValueError(f"newline_removal_modifier: max_consecutive must be >= 0, "
                         f"not {max_consecutive}")
    text = page["text"]
    if "\n" * (max_consecutive + 1) not in text:
        return [page]  # DCLM never drops a page here, even an empty one
    pattern = _MULTI_NEWLINE.get(max_consecutive)
    if pattern is None:
        pattern = _MULTI_NEWLINE[max_consecutive] = re.compile("\n{%d,}" % (max_consecutive + 1))
    return [{**page, "text": pattern.sub("\n" * max_consecutive, text)}]


_CITATION = re.compile(r"\[(?:\d*|edit|citation needed)\]")


def citation_removal_modifier(page: dict) -> list[dict]:
    """Remove Wikipedia-style markers: "[12]", "[]", "[edit]", "[citation needed]" (C4, Raffel et al. 2020)."""
    text = page["text"]
    return _with_text(page, _CITATION.sub("", text) if "[" in text else text)


def within_page_dedup(page: dict, granularity: str = "line", normalize: bool = True) -> list[dict]:
    """Keep only the first copy of each repeated line or paragraph (C4, Raffel et al. 2020).

    ``granularity`` is ``line`` (units split on ``\\n``) or ``paragraph``
    (split on ``\\n\\n``). With ``normalize`` units are compared stripped
    and lowercased. Empty units are always kept, so spacing survives.
    """
    if granularity == "line":
        sep = "\n"
    elif granularity == "paragraph":
        sep = "\n\n"
    else:
        raise ValueError(f"within_page_dedup: granularity must be line or paragraph, "
                         f"not {granularity!r}")
    units = page["text"].split(sep)
    seen: set[str] = set()
    kept = []
    for unit in units:
        key = unit.strip().lower() if normalize else unit
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(unit)
    if len(kept) == len(units):
        return [page]
    # DCLM never drops a page here, even one left empty.
    return [{**page, "text": sep.join(kept)}]


OPERATORS = [
    Operator("uppercase_ratio_line_modifier", MODIFIER, uppercase_ratio_line_modifier),
    Operator("numeric_ratio_line_modifier", MODIFIER, numeric_ratio_line_modifier),
    Operator("counter_line_modifier", MODIFIER, counter_line_modifier),
    Operator("line_length_modifier", MODIFIER, line_length_modifier),
    Operator("word_length_modifier", MODIFIER, word_length_modifier),
    Operator("substring_line_modifier", MODIFIER, substring_line_modifier),
    Operator("punctuation_line_modifier", MODIFIER, punctuation_line_modifier),
    Operator("newline_removal_modifier", MODIFIER, newline_removal_modifier),
    Operator("citation_removal_modifier", MODIFIER, citation_removal_modifier),
    Operator("within_page_dedup", MODIFIER, within_page_dedup),
]
# url_removal_modifier lives in filters/url_removal.py.
