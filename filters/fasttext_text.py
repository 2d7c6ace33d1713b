"""How text is turned into fastText tokens for the quality classifier, written once.

Training (``pipelines.classifier_training.training``) and scoring
(``filters.quality_classifier``) both go through this module, so a model
always sees text prepared the way it was trained on. The rule is the usual
fastText preprocessing (the ``normalize_text`` of fastText's example
scripts, Joulin et al. 2017), made Unicode-aware:

* lower case (Python's one-to-one lower-case mapping; the few characters
  whose lower case is two characters, such as "İ", stay as they are);
* every punctuation mark or symbol (Unicode categories P* and S*, and
  private-use or unassigned code points) becomes a token of its own, so
  "end." and "end" share the token "end";
* letters, marks and digits (L*, M*, N*) form the words between them;
* white space, separators and control or format characters (Z*, Cc, Cf,
  Cs) only separate tokens; the normalized text joins tokens with one space.

DCLM (Li et al. 2024) itself only joins the lines of a page before calling
fastText; a model trained on raw text (such as DCLM's released classifier)
is scored that way instead (``tokenize_batch(..., normalize=False)``). The
two preparations are named ``TEXT_PREPS``: ``normalize`` (the rule above)
and ``dclm`` (DCLM's); a model's card records which one it was trained with
and ``filters.quality_classifier`` reads it from there.

Normalizing with Python's ``re`` costs more than fastText's prediction
itself, so the rule is applied to whole batches at once with numpy: the
batch becomes one array of code points, one table look-up gives each code
point its lower case and its class, and token boundaries are where the class
changes. ``TokenBatch`` keeps those arrays so the scorer can hash tokens
without ever building a Python string per token.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

SPACE, PUNCT, WORD = 0, 1, 2
TEXT_PREPS = ("dclm", "normalize")
# fastText reads a token with this prefix as a label, never as a word: in
# training it would give the line a second label, and ``predict`` skips it.
LABEL_TOKEN_PREFIX = "__label__"
_DOC_END = "\n"          # joins documents in a batch; always a separator
_BMP = 0x10000


def _char_class(char: str) -> int:
    category = unicodedata.category(char)
    if category[0] in "LMN":
        return WORD
    if category[0] == "Z" or category in ("Cc", "Cf", "Cs") or char.isspace():
        return SPACE
    return PUNCT         # P*, S*, Co (private use), Cn (unassigned)


def _lower(char: str) -> int:
    lowered = char.lower()
    return ord(lowered) if len(lowered) == 1 else ord(char)


_CLASS_SHIFT = 24       # packed table: lower-case code point in the low 24 bits, class above
_LOW_BITS = (1 << _CLASS_SHIFT) - 1


@lru_cache(maxsize=1)
def _bmp_table() -> np.ndarray:
    """Lower case and class of every code point below U+10000, packed (about 0.1 s, once per process)."""
    table = np.empty(_BMP, dtype=np.uint32)
    for code in range(_BMP):
        char = chr(code)
        table[code] = _lower(char) | (_char_class(char) << _CLASS_SHIFT)
    return table


def _packed(codes: np.ndarray) -> np.ndarray:
    """Lower case and class of each code point, packed as in ``_bmp_table``."""
    if not len(codes) or int(codes.max()) < _BMP:
        return _bmp_table()[codes]
    astral = codes >= _BMP
    packed = _bmp_table()[np.where(astral, 0, codes)]
    # Emoji and rare scripts: few distinct code points, looked up one by one.
    where = np.flatnonzero(astral)
    distinct, inverse = np.unique(codes[where], return_inverse=True)
    packed[where] = np.array([_lower(chr(c)) | (_char_class(chr(c)) << _CLASS_SHIFT)
                              for c in distinct], dtype=np.uint32)[inverse]
    return packed


@dataclass
class TokenBatch:
    """The tokens of a batch of documents, as positions in one code-point array.

    ``codes`` holds the (lower-cased) code points of all documents, each
    document followed by a newline at ``doc_ends``; token ``i`` is
    ``codes[starts[i]:ends[i]]`` and belongs to document ``doc_of_token[i]``.
    Tokens are in document order, then text order.
    """

    codes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    doc_of_token: np.ndarray
    doc_ends: np.ndarray
    n_docs: int

    @property
    def lengths(self) -> np.ndarray:
        return self.ends - self.starts

    def utf8(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The batch as UTF-8 bytes, with each token's byte offset and byte length.

        fastText hashes bytes, so the scorer works on these. A code point
        at or above U+0080 takes 2 to 4 bytes; those are rare enough in most
        text that offsets are corrected only where they occur.
        """
        wide = np.flatnonzero(self.codes >= 0x80)
        if not len(wide):
            return self.codes.astype(np.uint8), self.starts, self.lengths
        text = self.codes.astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")
        data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        wide_codes = self.codes[wide]
        # Extra bytes before each position; a running sum beats a binary search per token.
        extra = np.zeros(len(self.codes) + 1, dtype=np.int32)
        extra[wide + 1] = 1 + (wide_codes >= 0x800).astype(np.int32) + (wide_codes >= 0x10000)
        extra_before = np.cumsum(extra, dtype=np.int32)     # a batch stays far below 2**31 bytes
        byte_starts = self.starts + extra_before[self.starts]
        byte_ends = self.ends + extra_before[self.ends]
        return data, byte_starts, byte_ends - byte_starts

    def texts(self) -> list[str]:
        """The normalized documents: their tokens joined by single spaces."""
        depth = np.zeros(len(self.codes) + 1, dtype=np.int32)
        np.add.at(depth, self.starts, 1)
        np.add.at(depth, self.ends, -1)
        keep = np.cumsum(depth[:-1]) > 0
        # Keep the document ends too, so the output splits back into documents.
        keep[self.doc_ends] = True
        kept_positions = np.flatnonzero(keep)
        out = self.codes[kept_positions]
        if len(self.starts) > 1:
            # One space after every token that another token of the same document follows.
            same_doc_next = self.doc_of_token[1:] == self.doc_of_token[:-1]
            last_chars = np.searchsorted(kept_positions, self.ends[:-1][same_doc_next] - 1)
            out = np.insert(out, last_chars + 1, ord(" "))
        return out.astype("<u4").tobytes().decode("utf-32-le").split(_DOC_END)[: self.n_docs]


# What fastText itself splits tokens on (``Dictionary::readWord``).
FASTTEXT_SEPARATORS = " \n\r\t\v\f\x00"


def tokenize_batch(texts: Sequence[Optional[str]], normalize: bool = True) -> TokenBatch:
    """Split many documents into tokens at once (``None`` counts as empty).

    With ``normalize`` (the default) the rule of this module applies. Without
    it the text is prepared as DCLM does for a model trained on raw text
    (``dclm_line``) and split exactly where fastText splits, case kept; tokens
    that fastText would read as labels (``__label__...``) are left out, as
    ``predict`` leaves them out of the words and n-grams.
    """
    texts = ["" if t is None else str(t) for t in texts]
    if not normalize:
        texts = [dclm_line(t) for t in texts]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    doc_ends = np.cumsum(lengths + 1) - 1
    joined = _DOC_END.join(texts) + _DOC_END if texts else ""
    # surrogatepass: a lone surrogate (left by broken decoding) is one code
    # point that only separates tokens, rather than an encoding error.
    raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if normalize:
        packed = _packed(raw)
        codes = packed & np.uint32(_LOW_BITS)
        in_token = packed >= np.uint32(PUNCT << _CLASS_SHIFT)
        word = packed >= np.uint32(WORD << _CLASS_SHIFT)
    else:
        codes = raw
        separator = np.isin(raw, [ord(c) for c in FASTTEXT_SEPARATORS])
        in_token = word = ~(separator | ((raw >= 0xD800) & (raw < 0xE000)))
    # A token starts at a non-separator that does not continue a word, and
    # ends likewise; document ends are separators, so tokens never span two.
    word_continues = word[1:] & word[:-1]
    start = in_token.copy()
    start[1:] &= ~word_continues
    end = in_token.copy()
    end[:-1] &= ~word_continues
    starts = np.flatnonzero(start)
    ends = np.flatnonzero(end) + 1
    if not normalize:
        keep = ~_label_tokens(codes, starts, ends)
        starts, ends = starts[keep], ends[keep]
    return TokenBatch(codes=codes, starts=starts, ends=ends,
                      doc_of_token=np.searchsorted(doc_ends, starts), doc_ends=doc_ends,
                      n_docs=len(texts))


def _label_tokens(codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which tokens begin with ``__label__`` (almost never: the first character rules most out)."""
    prefix = np.array([ord(c) for c in LABEL_TOKEN_PREFIX], dtype=codes.dtype)
    found = np.zeros(len(starts), dtype=bool)
    maybe = np.flatnonzero((ends - starts >= len(prefix)) & (codes[starts] == prefix[0])) \
        if len(starts) else np.zeros(0, dtype=np.int64)
    if len(maybe):
        windows = codes[starts[maybe][:, None] + np.arange(len(prefix))]
        found[maybe] = (windows == prefix).all(axis=1)
    return found


def prepare_texts(texts: Sequence[Optional[str]], text_prep: str) -> list[str]:
    """Each text as the one line fastText is given under ``text_prep`` (``dclm`` or ``normalize``).

    Tokens are joined by single spaces: fastText splits the line exactly
    there, so training files and scoring see the same tokens.
    """
    if text_prep not in TEXT_PREPS:
        raise ValueError(f"text preparation must be one of {', '.join(TEXT_PREPS)}, not {text_prep!r}")
    return tokenize_batch(texts, normalize=text_prep == "normalize").texts() if len(texts) else []


def normalize_texts(texts: Sequence[Optional[str]]) -> list[str]:
    """The normalized form of each text (see the module docstring for the rule)."""
    return tokenize_batch(texts).texts() if len(texts) else []


def normalize_text(text: str) -> str:
    """One text's normalized form: ``normalize_text("Hello, World!") == "hello , world !"``."""
    return normalize_texts([text])[0]


def dclm_line(text: str) -> str:
    """DCLM's own preparation for a model trained on raw text: strip, then join the lines with spaces."""
    return " ".join((text or "").strip().splitlines())
