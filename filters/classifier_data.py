"""Training documents for the quality classifier: reading them, capping them, splitting them.

Inputs are files or directories (searched recursively, in sorted order):

* Parquet (``.parquet``): the ``text`` column, as ``dclm extract`` writes it;
* JSONL (``.jsonl``, ``.jsonl.gz``, ``.json.gz``, ``.jsonl.zst``): the
  ``text`` field of each line;
* plain text (``.txt``, ``.md``, ``.txt.gz``; any other file named
  explicitly): one document per block, blocks separated by blank lines.

Every random choice takes a seed: the same inputs and seed give the same
documents in the same order, which ``filters.classifier_training`` needs to
produce a byte-identical model. The held-out split is stratified (the same
fraction of each class) and can be grouped, so that documents cut from one
source (one module's docstrings, one web page) never sit on both sides of it.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

PARQUET_SUFFIXES = (".parquet",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".jsonl.zst")
TEXT_SUFFIXES = (".txt", ".md", ".txt.gz")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


class TrainingDataError(ValueError):
    """An input path is missing or unreadable, or a class has no documents."""


@dataclass(frozen=True)
class LabeledDoc:
    text: str
    label: int            # 1 = positive (hq), 0 = negative (cc)
    group: str            # documents of one group stay on one side of the split


def input_files(paths: Sequence[str]) -> list[str]:
    """The files behind ``paths``: named files as given, directories expanded (sorted)."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            members = []
            for root, dirs, files in os.walk(path):
                dirs.sort()
                members += [os.path.join(root, f) for f in sorted(files)
                            if f.endswith(PARQUET_SUFFIXES + JSONL_SUFFIXES + TEXT_SUFFIXES)]
            if not members:
                raise TrainingDataError(f"no Parquet, JSONL or text file in directory {path}")
            found += members
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise TrainingDataError(f"input not found: {path}")
    return list(dict.fromkeys(found))


def _open_text(path: str):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    if path.endswith(".zst"):
        import zstandard  # optional: only for .zst inputs

        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")),
                                encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _read_parquet(path: str) -> Iterator[str]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    if "text" not in parquet.schema_arrow.names:
        raise TrainingDataError(f"{path}: Parquet file has no 'text' column")
    for batch in parquet.iter_batches(columns=["text"], batch_size=4096):
        yield from (t for t in batch.column(0).to_pylist() if t)


def _read_jsonl(path: str) -> Iterator[str]:
    with _open_text(path) as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                text = json.loads(line).get("text")
            except (json.JSONDecodeError, AttributeError) as exc:
                raise TrainingDataError(f"{path}:{number}: not a JSON object with a 'text' field") from exc
            if isinstance(text, str) and text.strip():
                yield text


def _read_blocks(path: str) -> Iterator[str]:
    with _open_text(path) as fh:
        content = fh.read().replace("\r\n", "\n")
    yield from (block.strip() for block in _BLANK_LINE.split(content) if block.strip())


def read_texts(path: str) -> Iterator[str]:
    """The non-empty documents of one file, in file order."""
    try:
        if path.endswith(PARQUET_SUFFIXES):
            yield from _read_parquet(path)
        elif path.endswith(JSONL_SUFFIXES):
            yield from _read_jsonl(path)
        else:
            yield from _read_blocks(path)
    except (OSError, UnicodeError) as exc:
        raise TrainingDataError(f"cannot read {path}: {exc}") from exc
    except Exception as exc:          # pyarrow's errors for a file that is not Parquet
        if type(exc).__module__.startswith("pyarrow"):
            raise TrainingDataError(f"cannot read {path} as Parquet: {exc}") from exc
        raise


def read_documents(paths: Sequence[str], label: int) -> list[LabeledDoc]:
    """All documents under ``paths`` with ``label``; each document is its own group."""
    docs = []
    for path in input_files(paths):
        for i, text in enumerate(read_texts(path)):
            docs.append(LabeledDoc(text=text, label=label, group=f"{path}#{i}"))
    return docs


def cap_per_class(docs: Sequence[LabeledDoc], max_per_class: Optional[int], seed: int) -> list[LabeledDoc]:
    """At most ``max_per_class`` documents of each label, drawn with ``seed``, input order kept."""
    if not max_per_class:
        return list(docs)
    rng = np.random.default_rng([seed, 1])
    keep: set[int] = set()
    for label in sorted({d.label for d in docs}):
        members = [i for i, d in enumerate(docs) if d.label == label]
        if len(members) > max_per_class:
            members = sorted(rng.choice(members, size=max_per_class, replace=False).tolist())
        keep.update(members)
    return [d for i, d in enumerate(docs) if i in keep]


def split_holdout(docs: Sequence[LabeledDoc], fraction: float, seed: int
                  ) -> tuple[list[LabeledDoc], list[LabeledDoc]]:
    """(train, held out): about ``fraction`` of each label's documents held out, whole groups at a time.

    Groups are shuffled with ``seed`` and taken until the label's quota is
    reached; a label with at least two groups always keeps one for training
    and, when ``fraction > 0``, holds one out.
    """
    if not 0 <= fraction < 1:
        raise TrainingDataError(f"holdout must be in [0, 1), not {fraction}")
    rng = np.random.default_rng([seed, 2])
    held: set[str] = set()
    for label in sorted({d.label for d in docs}):
        sizes: dict[str, int] = {}
        for d in docs:
            if d.label == label:
                sizes[d.group] = sizes.get(d.group, 0) + 1
        groups = list(sizes)                      # first-seen order, then shuffled
        rng.shuffle(groups)
        quota = fraction * sum(sizes.values())
        taken = 0
        for i, group in enumerate(groups):
            if taken >= quota or fraction == 0 or i == len(groups) - 1:
                break
            held.add(f"{label}\0{group}")
            taken += sizes[group]
    train = [d for d in docs if f"{d.label}\0{d.group}" not in held]
    test = [d for d in docs if f"{d.label}\0{d.group}" in held]
    return train, test


def shuffled(docs: Iterable[LabeledDoc], seed: int) -> list[LabeledDoc]:
    """The documents in an order fixed by ``seed`` (fastText reads its input in file order)."""
    docs = list(docs)
    order = np.random.default_rng([seed, 3]).permutation(len(docs))
    return [docs[i] for i in order]
