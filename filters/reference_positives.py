"""Positives for the reference quality classifier, from text every Python install ships.

DCLM (Li et al. 2024, §4.4) found instruction-like, explanatory text
(OpenHermes 2.5, r/ExplainLikeImFive) to be the best positive class for its
fastText filter. Those sets cannot be fetched offline, so the reference
classifier uses the closest thing that is always present: the well-edited
explanatory English that CPython carries in its standard library, with no
extra package:

* ``pydoc_data.topics``: the language reference and tutorial-style help
  topics that ``help()`` shows (about 80 topics, 65k words in 3.11);
* the docstrings of the standard library's modules, classes and functions,
  read with ``ast`` from the source files (nothing is imported, so no
  module runs), test packages excluded.

Paragraphs that are code rather than prose (interactive ``>>>`` sessions,
indented grammar or code blocks) are dropped, and the rest is packed into
documents of about ``TARGET_WORDS`` words, never mixing two topics or two
modules; the topic or module name is the document's group, which keeps it
whole on one side of the held-out split. The result depends only on the
Python version (recorded with the model), so anyone can rebuild it.
"""
from __future__ import annotations

import ast
import os
import re
import sysconfig
from typing import Iterator

from filters.classifier_data import LabeledDoc

TARGET_WORDS = 300
MIN_DOC_WORDS = 40
MIN_PARAGRAPH_WORDS = 8
# Directories of the standard library that hold tests or demos, not documentation.
_SKIPPED_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__",
                 "turtledemo", "__phello__", "lib2to3"}
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORD = re.compile(r"[A-Za-z]+")


def _is_prose(paragraph: str) -> bool:
    """A paragraph of sentences rather than code, a grammar rule or a table."""
    lines = [line for line in paragraph.splitlines() if line.strip()]
    if not lines:
        return False
    if any(line.lstrip().startswith((">>>", "...", "$ ", "%")) for line in lines):
        return False
    # Code and grammar blocks are indented deeper than the text around them.
    if all(line.startswith("    ") for line in lines) and paragraph.strip()[:1] not in "*-":
        return False
    tokens = paragraph.split()
    alphabetic = len(_WORD.findall(paragraph))
    return len(tokens) >= MIN_PARAGRAPH_WORDS and alphabetic >= 0.6 * len(tokens)


def _pack(paragraphs: list[str], group: str) -> Iterator[LabeledDoc]:
    """Consecutive paragraphs joined into documents of about TARGET_WORDS words."""
    current: list[str] = []
    words = 0
    for paragraph in paragraphs:
        current.append(paragraph)
        words += len(paragraph.split())
        if words >= TARGET_WORDS:
            yield LabeledDoc(text="\n\n".join(current), label=1, group=group)
            current, words = [], 0
    if words >= MIN_DOC_WORDS:
        yield LabeledDoc(text="\n\n".join(current), label=1, group=group)


def _prose_paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in _PARAGRAPH_BREAK.split(text) if _is_prose(p)]


def pydoc_topic_documents() -> list[LabeledDoc]:
    from pydoc_data.topics import topics

    docs: list[LabeledDoc] = []
    for name in sorted(topics):
        docs += _pack(_prose_paragraphs(topics[name]), group=f"pydoc_topics:{name}")
    return docs


def _source_files(stdlib: str) -> Iterator[str]:
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py") and not name.startswith("test_"):
                yield os.path.join(root, name)


def _docstrings(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                found.append((getattr(node, "lineno", 0), doc))
    return [doc for _, doc in sorted(found, key=lambda item: item[0])]   # source order


def stdlib_docstring_documents() -> list[LabeledDoc]:
    stdlib = sysconfig.get_paths()["stdlib"]
    docs: list[LabeledDoc] = []
    for path in _source_files(stdlib):
        module = os.path.relpath(path, stdlib)
        paragraphs = [p for doc in _docstrings(path) for p in _prose_paragraphs(doc)]
        docs += _pack(paragraphs, group=f"stdlib:{module}")
    return docs


def reference_positives() -> list[LabeledDoc]:
    """All positive documents, in a fixed order: help topics, then docstrings by module path."""
    return pydoc_topic_documents() + stdlib_docstring_documents()
