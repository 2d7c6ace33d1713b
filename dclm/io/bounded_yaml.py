"""YAML from recipes and packages, with limits on size, nesting and alias expansion.

PyYAML's ``safe_load`` shares the object behind an alias, so nine nested
levels of nine aliases ("billion laughs") load in a moment; the damage comes
later, when anything walks the result as a tree (the run manifest is JSON
written from it: 9^9 copies). Its composer also recurses once per nesting
level, so a deep document ends in a raw ``RecursionError``.

Before the real load, one pass over the parser's events (the parser keeps
its own stack, so this pass never recurses) measures the document as it
would be expanded: the number of nodes, counting every alias as a copy of
what it names, and the depth. Either over its limit, and the text is refused
with YamlLimitError, before any object is built.
"""
from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 1 << 20            # DCLM's largest recipe is under 20 KB
MAX_DEPTH = 32                 # a recipe is 4 levels deep (blocks, steps, a step, a list parameter)
MAX_NODES = 100_000            # nodes once every alias is expanded


class YamlLimitError(ValueError):
    """The YAML is larger, deeper or expands further than a recipe ever needs."""


class _Frame:
    __slots__ = ("nodes", "depth", "anchor")

    def __init__(self, anchor):
        self.nodes, self.depth, self.anchor = 1, 1, anchor


def _measure(text: str, max_depth: int, max_nodes: int) -> None:
    anchors: dict[str, tuple[int, int]] = {}        # anchor -> (expanded nodes, depth)
    stack: list[_Frame] = []

    def add(nodes: int, depth: int) -> None:
        if not stack:
            return
        top = stack[-1]
        top.nodes += nodes
        top.depth = max(top.depth, depth + 1)
        if top.nodes > max_nodes:
            raise YamlLimitError(f"expands to over {max_nodes:,} nodes (through aliases such as "
                                 "'*name'); refused before loading")
        if len(stack) - 1 + top.depth > max_depth:
            raise YamlLimitError(f"nested deeper than {max_depth} levels")

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append(_Frame(event.anchor))
            if len(stack) > max_depth:
                raise YamlLimitError(f"nested deeper than {max_depth} levels (line {event.start_mark.line + 1})")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if frame.anchor is not None:
                anchors[frame.anchor] = (frame.nodes, frame.depth)
            add(frame.nodes, frame.depth)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            add(1, 0)
        elif isinstance(event, yaml.AliasEvent):
            add(*anchors.get(event.anchor, (1, 0)))   # an unknown alias is the composer's error to report


def safe_load(text: "str | bytes", max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
              max_nodes: int = MAX_NODES) -> Any:
    """``yaml.safe_load`` within the limits; raises YamlLimitError, or yaml.YAMLError for invalid YAML."""
    size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
    if size > max_bytes:
        raise YamlLimitError(f"{size:,} bytes, over the {max_bytes:,}-byte limit for a recipe")
    _measure(text, max_depth, max_nodes)
    return yaml.safe_load(text)
