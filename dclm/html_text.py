"""From HTML bytes to main text: charset decoding, then one of three extractors.

Extractors: ``resiliparse`` (the default: resiliparse's main content with our
boilerplate pruning, ``dclm.main_content``), ``resiliparse-bare`` (DCLM's
exact extraction, ``extract_plain_text(html, main_content=True)``) and
``trafilatura`` (favor_precision; about 10x slower).

Charset order: the HTTP ``Content-Type`` header, then the ``<meta>`` tag, then
statistical detection (resiliparse's uchardet binding). Undecodable bytes are
replaced, never fatal: a page with one bad byte is still a page. A decoding
that is implausible for the bytes (NULs, or tags lost) falls back to another
(``dclm.charset_check``).
"""
from __future__ import annotations

import codecs
import re
from typing import Callable, Optional

from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from dclm.charset_check import checked_decode
from dclm.main_content import extract_bare, extract_main_content, extract_main_content_checked

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
EXTRACTORS = ("resiliparse", "resiliparse-bare", "trafilatura")


def charset_from_content_type(content_type: Optional[str]) -> Optional[str]:
    """The charset an HTTP header declares, if it names a codec Python knows."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    if not match:
        return None
    name = match.group(1)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def decode_html(payload: bytes, content_type: Optional[str] = None) -> str:
    encoding = charset_from_content_type(content_type) or detect_encoding(payload, from_html_meta=True)
    # A declared charset can decode cleanly and still be wrong (UTF-16 sent as utf-8, ASCII as
    # utf-16): the text is checked against the bytes (dclm.charset_check).
    return checked_decode(payload, encoding, lambda data, name: bytes_to_str(data, name, errors="replace"),
                          lambda data: detect_encoding(data, from_html_meta=False))


def _trafilatura(html: str) -> str:
    # Imported lazily: trafilatura costs ~1 s to import and most runs never use it.
    import trafilatura

    text = trafilatura.extract(html, favor_precision=True, include_comments=False,
                               include_tables=True, deduplicate=False)
    return text or ""


def get_extractor(name: str) -> Callable[[str], str]:
    """The extraction function for a CLI name; the default is resiliparse."""
    if name == "resiliparse":
        return extract_main_content
    if name == "resiliparse-bare":
        return extract_bare
    if name == "trafilatura":
        return _trafilatura
    raise ValueError(f"unknown extractor {name!r}; choose one of {', '.join(EXTRACTORS)}")


def get_checked_extractor(name: str) -> Callable[[str], tuple[str, bool]]:
    """Like ``get_extractor``, but each call also says whether the default
    extractor's safety net replaced its pruned text (never, for the others)."""
    if name == "resiliparse":
        return extract_main_content_checked
    extract = get_extractor(name)
    return lambda html: (extract(html), False)
