"""Splitting text into the units that filters count: lines, paragraphs, words, sentences.

Every filter counts with these helpers so that "a word" means the same thing in
the page-length filter, the word counter and the removal-ratio check.
"""
from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def split_lines(text: str) -> list[str]:
    """Lines as DCLM sees them: split on ``\\n``, empty lines dropped."""
    return [line for line in text.split("\n") if line.strip()]


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs are blocks separated by a blank line (Gopher's definition)."""
    return [p for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def split_words(text: str, ignore_punctuation: bool = False) -> list[str]:
    """Whitespace-separated tokens.

    With ``ignore_punctuation`` a token made only of punctuation or symbols
    (``-``, ``|``, ``…``) is not a word, as in DCLM's page-length filter.
    """
    words = text.split()
    if ignore_punctuation:
        return [w for w in words if any(ch.isalnum() for ch in w)]
    return words


def split_sentences(text: str) -> list[str]:
    """Sentences end with ., !, ? (or their CJK forms) followed by white space."""
    sentences = []
    for line in text.split("\n"):
        sentences.extend(s for s in _SENTENCE_END.split(line) if s.strip())
    return sentences
