"""From HTML bytes to main text: charset decoding, then one of three extractors.

Extractors: ``resiliparse`` (the default: resiliparse's main content with our
boilerplate pruning, ``dclm.extract.main_content``), ``resiliparse-bare`` (DCLM's
exact extraction, ``extract_plain_text(html, main_content=True)``) and
``trafilatura`` (favor_precision; about 10x slower).

Charset order: the HTTP ``Content-Type`` header, then the ``<meta>`` tag; with
neither, UTF-8 when the bytes are valid UTF-8, else statistical detection
(resiliparse's uchardet binding). Detection alone reads short UTF-8 pages as
cp1252 ("hasn\u00e2\u20ac\u2122t" for "hasn't"), while bytes that are not
UTF-8 almost never validate as UTF-8 by chance; benchmarks/decoding_change.py
counts the pages this decides. Undecodable bytes are replaced, never fatal:
a page with one bad byte is still a page. A decoding that is implausible for
the bytes (NULs, or tags lost) falls back to another (``dclm.extract.charset_check``).
"""
from __future__ import annotations

import codecs
import re
from typing import Callable, Optional

from resiliparse.parse.encoding import bytes_to_str, detect_encoding

from dclm.extract.charset_check import checked_decode
from dclm.extract.main_content import extract_bare, extract_main_content, extract_main_content_checked

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# A <meta charset=...> or <meta http-equiv="Content-Type" content="...; charset=...">.
_META_CHARSET = re.compile(rb"<meta[^>]{0,1024}?charset\s*=", re.IGNORECASE)
# Where a declaration is looked for: the head of any real page, not its whole body.
META_SCAN_BYTES = 65536
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


def declares_charset(payload: bytes) -> bool:
    """Whether the HTML names its charset in a ``<meta>`` tag."""
    return _META_CHARSET.search(payload, 0, META_SCAN_BYTES) is not None


def is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def html_encoding(payload: bytes, content_type: Optional[str] = None) -> str:
    """The charset to decode ``payload`` with (see the module docstring for the order)."""
    declared = charset_from_content_type(content_type)
    if declared:
        return declared
    if not declares_charset(payload) and is_utf8(payload):
        return "utf-8"
    return detect_encoding(payload, from_html_meta=True)


def decode_html(payload: bytes, content_type: Optional[str] = None) -> str:
    encoding = html_encoding(payload, content_type)
    # A declared charset can decode cleanly and still be wrong (UTF-16 sent as utf-8, ASCII as
    # utf-16): the text is checked against the bytes (dclm.extract.charset_check).
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
