"""Splitting text into the units that filters count: lines, paragraphs, words, sentences.

Every filter counts with these helpers so that "a word" means the same thing in
the page-length filter, the word counter and the removal-ratio check.

The definitions follow DCLM's ``baselines/mappers/core_utils.py`` where that
is possible without its native tokenizers:

* lines and paragraphs are stripped and blank ones dropped, as DCLM's
  ``split_paragraphs`` does;
* a word is a white-space token; with ``ignore_punctuation`` only tokens whose
  *first* character is alphanumeric count.  With ``model="fasttext"`` (DCLM's
  default) white space means exactly what fastText's tokenizer splits on, so
  our counts equal DCLM's ``word_count`` / ``previous_word_count``;
* ``model="uniseg"`` approximates Unicode word segmentation (UAX #29), which
  DCLM uses for the Gopher n-gram measures, with regular expressions;
* sentences come from a rule-based splitter, not blingfire or punkt: a
  sentence ends at ``. ! ?`` followed by white space and a character that is
  not a lower-case ASCII letter (or at a CJK full stop), and every line break
  ends one.
"""
from __future__ import annotations

import re

_PARAGRAPH_BREAK = re.compile(r"\n{2,}")

# fastText splits on the ASCII bytes space, \n, \r, \t, \v, \f and NUL only;
# str.split also splits on no-break and other Unicode spaces (common in web
# text) and not on NUL.  When a page holds none of those, str.split agrees.
_FASTTEXT_TOKEN = re.compile(r"[^ \n\r\t\v\f\x00]+")
_SPLIT_DISAGREES = re.compile("[\x00\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")

# UAX #29 keeps "don't", "e.g", "x:y" (a letter on both sides of . ' ‘ ’ : ·)
# and "3.14", "1,000" (a digit on both sides of . , ; ' ‘ ’) in one word;
# "a.1" breaks.  Combining marks, soft hyphen and joiners stay inside the word
# they follow.  On the dev corpus 95% of pages segment exactly as uniseg does.
_JOINER = r"(?:(?<=[^\W\d_])[.'‘’:·](?=[^\W\d_])|(?<=\d)[.,;'‘’](?=\d))"
_WORD_RUN = r"[\w\u0300-\u036f\u00ad\u200c\u200d\u2060]+"
_UNISEG_WORD = re.compile(rf"{_WORD_RUN}(?:{_JOINER}{_WORD_RUN})*")
# Hiragana and CJK ideographs are one word per character under UAX #29.  The
# fast pattern above glues them together; the rare runs that hold one are cut
# again with this slower pattern.
_IDEOGRAPHIC = "\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_IDEOGRAPH = re.compile(f"[{_IDEOGRAPHIC}]")
_NON_IDEOGRAPHIC_RUN = rf"(?:[^\W{_IDEOGRAPHIC}]|[\u0300-\u036f\u00ad\u200c\u200d\u2060])+"
_UNISEG_SEGMENT = re.compile(
    rf"[{_IDEOGRAPHIC}]|{_NON_IDEOGRAPHIC_RUN}(?:{_JOINER}{_NON_IDEOGRAPHIC_RUN})*|\S"
)

# Treebank-like tokens (what nltk.word_tokenize yields, approximately):
# decimals and hyphenated words stay whole, clitics ("'s", "'t") and each
# punctuation mark become tokens of their own.
_TREEBANK_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:-\w+)*|'\w+|\.\.\.|--|[^\w\s]")

# A sentence ends at . ! ? (maybe doubled, maybe followed by a closing quote or
# bracket) when white space and a character that does not start in lower case
# follow; "e.g. the" or "3 p.m. today" therefore do not break.  CJK full stops
# end a sentence without any space after them.
_SENTENCE_END = re.compile(
    r"[.!?]+[\"'”’)\]]*\s+(?=[^\sa-z])"
    r"|[。！？]+[\"'”’」』)\]]*\s*"
)


def split_lines(text: str) -> list[str]:
    """Lines as DCLM sees them: split on ``\\n``, stripped, blank lines dropped."""
    return [s for line in text.split("\n") if (s := line.strip())]


def split_paragraphs(text: str) -> list[str]:
    """Blocks separated by two or more newlines, stripped, blank ones dropped.

    Same result as DCLM's ``split_paragraphs(text, paragraph_end="\\n\\n")``
    (the Gopher definition).  A line holding only spaces does not separate
    paragraphs, in DCLM or in datatrove.
    """
    return [s for block in _PARAGRAPH_BREAK.split(text) if (s := block.strip())]


def split_words(text: str, ignore_punctuation: bool = False, model: str = "split") -> list[str]:
    """Words of ``text``.

    ``model`` is ``"split"`` (``str.split``), ``"fasttext"`` (what fastText's
    tokenizer returns: tokens between ASCII white space, so a no-break space
    does not separate words) or ``"uniseg"`` (UAX #29 word segments,
    punctuation marks as one-character segments).  With
    ``ignore_punctuation`` a token counts only if its first character is a
    letter or digit, so ``"-"``, ``"…"`` and ``"(see"`` are not words, as in
    DCLM.  DCLM's fastText path also emits a ``</s>`` token per newline when
    punctuation is kept; we do not reproduce that artefact.
    """
    if model == "uniseg":
        if ignore_punctuation:
            return _uniseg_words(text)
        words = _UNISEG_SEGMENT.findall(text)
    elif model == "fasttext":
        words = _FASTTEXT_TOKEN.findall(text) if _SPLIT_DISAGREES.search(text) else text.split()
    elif model == "split":
        words = text.split()
    else:
        raise ValueError(f"unknown word model {model!r}; use split, fasttext or uniseg")
    if ignore_punctuation:
        return [w for w in words if w[0].isalnum()]
    return words


def _uniseg_words(text: str) -> list[str]:
    words = []
    for word in _UNISEG_WORD.findall(text):
        if not word.isascii() and _HAS_IDEOGRAPH.search(word):
            words.extend(w for w in _UNISEG_SEGMENT.findall(word) if w[0].isalnum())
        elif word[0].isalnum():
            words.append(word)
    return words


def count_words(text: str, ignore_punctuation: bool = False, model: str = "split") -> int:
    """``len(split_words(...))`` without building the list where avoidable."""
    if ignore_punctuation and (model == "split" or (model == "fasttext" and not _SPLIT_DISAGREES.search(text))):
        return sum(1 for w in text.split() if w[0].isalnum())
    return len(split_words(text, ignore_punctuation=ignore_punctuation, model=model))


def split_treebank_tokens(text: str) -> list[str]:
    """Tokens as an English treebank tokenizer (nltk ``word_tokenize``) roughly makes them.

    Punctuation marks are tokens of their own.  FineWeb's list ratio divides
    by this count, so it is here and not hidden in one filter.
    """
    return _TREEBANK_TOKEN.findall(text)


def split_sentences(text: str) -> list[str]:
    """Sentences, found line by line; a line without an end mark is one sentence."""
    sentences = []
    for line in text.split("\n"):
        start = 0
        for match in _SENTENCE_END.finditer(line):
            piece = line[start:match.end()].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        piece = line[start:].strip()
        if piece:
            sentences.append(piece)
    return sentences


def count_sentences(text: str) -> int:
    """``len(split_sentences(text))`` without building the sentences.

    Every match of the end pattern closes one non-empty sentence (it starts
    with the end mark itself); what follows the last match is one more
    sentence if it is not blank.
    """
    count = 0
    for line in text.split("\n"):
        end = 0
        for match in _SENTENCE_END.finditer(line):
            count += 1
            end = match.end()
        if not line[end:].isspace() and end < len(line):
            count += 1
    return count
