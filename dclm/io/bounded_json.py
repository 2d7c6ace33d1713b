"""JSON from untrusted files, with a size and a nesting-depth limit.

``json.loads`` recurses once per nesting level: 200,000 ``[`` raise a raw
``RecursionError``, and code that walks the result (a JSON Schema validator)
recurses again. Every JSON value the toolkit reads from a stranger's package
goes through here, so each such file is refused with a one-line reason
instead. Real records are a handful of levels deep.
"""
from __future__ import annotations

import json
import os
from typing import Any

MAX_DEPTH = 64


class JsonLimitError(ValueError):
    """Too large or too deeply nested; a ValueError, like any other invalid JSON."""


def depth_of(value: Any) -> int:
    """Nesting depth of a loaded JSON value (a scalar is 0), walked without recursion."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in item)
    return deepest


def loads(text: "str | bytes", max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that refuses nesting past ``max_depth`` levels with JsonLimitError."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonLimitError(f"nested deeper than {max_depth} levels") from None
    if depth_of(value) > max_depth:
        raise JsonLimitError(f"nested deeper than {max_depth} levels")
    return value


def read_text(path: "str | os.PathLike", max_bytes: int) -> str:
    """A UTF-8 file's text, refused (JsonLimitError) before reading when it is over ``max_bytes``."""
    size = os.stat(path).st_size
    if size > max_bytes:
        raise JsonLimitError(f"{size:,} bytes, over the {max_bytes:,}-byte limit")
    with open(path, encoding="utf-8") as fh:
        return fh.read(max_bytes + 1)


def load_file(path: "str | os.PathLike", max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """A JSON file within both limits; raises JsonLimitError, ValueError or UnicodeDecodeError."""
    return loads(read_text(path, max_bytes), max_depth)
