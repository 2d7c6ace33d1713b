"""Line rules of the default extractor: drop boilerplate lines from resiliparse's output.

resiliparse writes one block per line; its ``minimal_html`` output with links
gives each line's link density for free. A line is dropped when it is mostly
link text, when its wording is a known kind of boilerplate (share, comment,
newsletter and login prompts, ad labels, photo credits, copyright, post meta,
bare dates, single navigation words), or when it heads a "related articles"
block, whose title-like lines go with it. Lines before an early
``<h1>`` (breadcrumbs, datelines) and short non-sentences after the last
sentence (bylines, menus) are trimmed, unless what would go is text: a long
sentence before the ``<h1>``, or a tail longer than everything before it (a
table, a list). The rules are generic web vocabulary
(``dclm.extract.boilerplate_vocabulary``) in German, English, Spanish, French,
Italian and Portuguese, and only look at lines of at most 250 characters, so
running text is left alone. They run on the lower-cased, stripped line, and
are indexed by the words that must occur for them to match, so a line only
meets the few regular expressions its own words call for.
"""
from __future__ import annotations

import html as _html
import re

from dclm.extract.boilerplate_vocabulary import (
    DATE,
    DATE_STRIP,
    DATE_VOCABULARY,
    NAV_WORDS,
    PHRASE_RULES,
    RELATED_CJK,
    RELATED_RULES,
    RELATED_TAIL,
    START_RULES,
    TEASER_END,
    WEAK_STEMS,
)

__all__ = ["clean_lines", "clean_lines_measured"]

_FIRST_WORD = re.compile(r"[\W_]*(\w+)")
# Punctuation that may cling to a word ("Kommentar:", "(Foto").
_CLINGING = ".,;:!?)]\"'“”»«…"
_OPENING = "([\"'„“«»¿¡"
# Last characters of a line that ends like a sentence (or a quotation).
# Full stops of Latin, CJK (also full-width), Devanagari, Arabic and Urdu, Ethiopic script.
_SENTENCE_END_CHARS = frozenset('.!?…"“”»«)]。！？．」』）।؟۔።')
_TAG = re.compile(r"<[^>]*>")
# Only anchors that link somewhere: resiliparse writes a named anchor
# (``<a name="top">``, which old pages wrap round whole paragraphs) as href="".
_ANCHOR = re.compile(r'<a\b(?![^>]*href="")[^>]*>(.*?)</a>', re.DOTALL)
_BLANK_RUNS = re.compile(r"\n{3,}")

_LINK_DENSITY_MAX = 0.5    # share of a line's characters inside <a>
_RULE_MAX_CHARS = 250      # wording rules only look at lines up to this long
_WEAK_MAX_CHARS = 150
_DATE_MAX_CHARS = 60
_NAV_MAX_CHARS = 25
_HEADING_MAX_CHARS = 80
_TITLE_MAX_CHARS = 120     # a "related" block's entries are title-like lines
_SOLID_MIN_CHARS = 40      # a line this long ends the text well even without a full stop
_LEAD_MAX_CHARS = 80       # a sentence this long before the <h1> is text, not a lead-in


def _compile_by_first_word() -> dict[str, tuple[tuple[re.Pattern, bool], ...]]:
    index: dict[str, list[tuple[re.Pattern, bool]]] = {}
    for rules, related in ((RELATED_RULES, True), (START_RULES, False)):
        for words, pattern in rules:
            compiled = re.compile("(?:" + pattern + ")" + (RELATED_TAIL if related else ""))
            for word in words.split():
                index.setdefault(word, []).append((compiled, related))
    return {word: tuple(rules) for word, rules in index.items()}


def _compile_by_word() -> tuple[dict[str, tuple[re.Pattern, ...]], dict[str, str]]:
    index: dict[str, list[re.Pattern]] = {}
    for words, pattern in PHRASE_RULES:
        compiled = re.compile(pattern)
        for word in words.split():
            index.setdefault(word, []).append(compiled)
    # Every spelling a whitespace-split token may have: the word with a
    # punctuation mark clinging to it on either side, or both.
    spellings = {}
    for word in index:
        for before in ("",) + tuple(_OPENING):
            for after in ("",) + tuple(_CLINGING):
                spellings.setdefault(before + word + after, word)
    return {word: tuple(rules) for word, rules in index.items()}, spellings


_BY_FIRST_WORD = _compile_by_first_word()
_PHRASES_BY_WORD, _TRIGGER_SPELLINGS = _compile_by_word()
_TRIGGERS = frozenset(_TRIGGER_SPELLINGS)


def _is_date_line(low: str) -> bool:
    """A dateline or timestamp and nothing else ("12.12.2022, 08:30 Uhr")."""
    for token in low.split():
        token = token.strip(DATE_STRIP)
        if token and token not in DATE_VOCABULARY:
            return False
    return DATE.search(low) is not None


def _is_boilerplate_wording(low: str, n: int) -> bool:
    """Whether a line (lower-cased, ``n`` characters) reads as boilerplate, wherever it stands."""
    if n <= _NAV_MAX_CHARS and low.strip(" :|»›>-–•.!") in NAV_WORDS:
        return True
    if n <= _DATE_MAX_CHARS and _is_date_line(low):
        return True
    if ("…" in low or "..." in low) and TEASER_END.search(low):
        return True
    found = _TRIGGERS.intersection(low.split())
    if found:
        for word in {_TRIGGER_SPELLINGS[token] for token in found}:
            for rule in _PHRASES_BY_WORD[word]:
                if rule.search(low):
                    return True
    if n <= _WEAK_MAX_CHARS:
        for stem in WEAK_STEMS:
            if stem in low:
                return True
    return False


def _link_chars(raw: str) -> int:
    """Characters of a minimal-HTML line that sit inside <a> elements."""
    chars = 0
    for inner in _ANCHOR.findall(raw):
        if "<" in inner:
            inner = _TAG.sub("", inner)
        chars += len(inner.strip())
    return chars


def _first_word_verdict(low: str, n: int) -> bool | None:
    """True: a "related articles" heading; False: boilerplate by its start; None: neither."""
    first = _FIRST_WORD.match(low)
    if not first:
        return None
    rules = _BY_FIRST_WORD.get(first.group(1))
    if rules:
        start = low[first.start(1):]
        for rule, related in rules:
            if (not related or n <= _HEADING_MAX_CHARS) and rule.match(start):
                return related
    elif n <= _HEADING_MAX_CHARS and ord(low[first.start(1)]) >= 0x3000 and RELATED_CJK.match(low, first.start(1)):
        return True
    return None


def clean_lines(marked: str, safe: bool = False) -> str:
    """Filter resiliparse's ``minimal_html`` output (``links=True``) down to main-text lines.

    ``safe`` keeps to the rules backed by what a line says (link density,
    boilerplate wording, the titles under a "related articles" heading) and
    leaves out those that go by where it stands alone (before an early
    ``<h1>``, after the last sentence): the main extractor's safety net uses
    it when the full rules kept too little of a page.
    """
    return clean_lines_measured(marked, safe)[0]


def clean_lines_measured(marked: str, safe: bool = False) -> tuple[str, int]:
    """``clean_lines``, and the characters of text (tags left out) it was given."""
    raws = marked.split("\n")
    texts = raws
    visible = len(marked)
    if "<" in marked:
        stripped = _TAG.sub("", marked)
        visible = len(stripped)
        texts = stripped.split("\n")
        if len(texts) != len(raws):      # a tag spanning lines: strip line by line
            texts = [_TAG.sub("", raw) for raw in raws]
    has_entities = "&" in marked
    has_pre = "<pre" in marked
    begin = 0 if safe else _lead_end(raws, texts)
    kept: list[str] = []
    last_solid = -1          # index in kept of the last line that ends the text well
    in_related = False
    in_pre = False
    for i in range(begin, len(raws)):
        text = texts[i]
        if has_entities and "&" in text:
            text = _html.unescape(text)
        if has_pre:
            raw = raws[i]
            if in_pre or "<pre" in raw:
                in_pre = "</pre>" not in raw
                text = text.rstrip()     # code and poetry: kept as they are
                if text:
                    in_related = False
                    last_solid = len(kept)
                kept.append(text)
                continue
        text = text.strip()
        if not text:
            kept.append("")
            continue
        n = len(text)
        raw = raws[i]
        if "<a" in raw and _link_chars(raw) > _LINK_DENSITY_MAX * n:
            continue
        ends_sentence = text[-1] in _SENTENCE_END_CHARS
        if in_related:
            if n <= _TITLE_MAX_CHARS and not ends_sentence:
                continue
            in_related = False
        if n <= _RULE_MAX_CHARS:
            low = text.lower()
            verdict = _first_word_verdict(low, n)
            if verdict is not None:
                in_related = verdict
                continue
            if _is_boilerplate_wording(low, n):
                continue
        if ends_sentence or n >= _SOLID_MIN_CHARS:
            last_solid = len(kept)
        kept.append(text)
    # Short title-like lines after the last sentence: bylines, menus, teaser
    # titles. Not when they are most of the text: then they are the text (a
    # table, a list, a glossary), not its tail.
    if last_solid >= 0 and not safe:
        tail = sum(len(line) for line in kept[last_solid + 1:])
        if tail <= sum(len(line) for line in kept[:last_solid + 1]):
            del kept[last_solid + 1:]
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip(), visible


def _lead_end(raws: list[str], texts: list[str]) -> int:
    """Where the text starts when an early ``<h1>`` follows only a lead-in (breadcrumbs, datelines, menus).

    A sentence of some length before the ``<h1>`` means the heading is not
    the article's title (a widget heading, a site name after the post): then
    nothing is cut.
    """
    for i in range(min(len(raws), max(1, len(raws) * 3 // 10))):
        if raws[i].startswith("<h1"):
            for text in texts[:i]:
                text = text.strip()
                if len(text) >= _LEAD_MAX_CHARS and text[-1] in _SENTENCE_END_CHARS:
                    return 0
            return i
    return 0
