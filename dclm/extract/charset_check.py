"""Is a decoded page plausible for its bytes? If not, which decoding is?

A declared charset can be wrong in ways that decode without a single error:
a UTF-16 body under a ``utf-8`` header decodes to ``<\\x00h\\x00t\\x00...``
(every tag survives as text, split by NULs), and an ASCII body of even length
under a ``utf-16`` header decodes to CJK characters (two bytes per
character), which pass every later filter as a document. Both are visible
from the bytes alone:

* markup lost: the bytes hold ASCII tags (``<html``, ``<p``...), but the text
  holds no ``<`` at all;
* NULs: more than 1% of the text's characters are U+0000, which no page in a
  right decoding holds.

An implausible decoding is replaced by the first plausible one of: UTF-16 in
the byte order the NULs point to (when the bytes are NUL-heavy), statistical
detection ignoring the declared charset and ``<meta>``, UTF-8. When none is
plausible, the declared decoding stays: nothing better is known.
"""
from __future__ import annotations

import re
from typing import Callable, Iterator

_ASCII_TAG = re.compile(rb"<(?:!doctype|html|head|body|div|p|a|meta|title|script|span|table|br)[\s>/]", re.I)
_SNIFF_BYTES = 1 << 16


def plausible(payload: bytes, text: str) -> bool:
    sample = text[:_SNIFF_BYTES]
    if sample.count("\x00") * 100 > len(sample):
        return False
    return not (_ASCII_TAG.search(payload[:_SNIFF_BYTES]) and "<" not in text)


def _candidates(payload: bytes, detect: Callable[[bytes], str]) -> Iterator[str]:
    head = payload[:_SNIFF_BYTES]
    nuls = head.count(0)
    if nuls * 10 > len(head):           # a tenth of the bytes are NUL: 16-bit text
        odd = head[1::2].count(0)
        yield "utf-16-le" if odd * 2 >= nuls else "utf-16-be"
    yield detect(payload)
    yield "utf-8"


def checked_decode(payload: bytes, declared: str, decode: Callable[[bytes, str], str],
                   detect: Callable[[bytes], str]) -> str:
    """``decode(payload, declared)``, unless that is implausible and another decoding is not."""
    text = decode(payload, declared)
    if plausible(payload, text):
        return text
    for encoding in _candidates(payload, detect):
        if encoding.lower().replace("_", "-") == declared.lower().replace("_", "-"):
            continue
        alternative = decode(payload, encoding)
        if plausible(payload, alternative):
            return alternative
    return text
