"""Training documents for the quality classifier: reading them, capping them, splitting them.

Inputs are files or directories (searched recursively, in sorted order; in
the output folder of a ``dclm`` stage, recognised by its ``.dclm/`` folder,
only its ``data/`` shards: its dropped pages are not documents of it). In a
directory, the files read are those named like an input (``SCANNED_SUFFIXES``);
a file named explicitly is read whatever its name. Either way a file's format
is told by its first bytes (``dclm.io.document_files.sniff_format``), not its
name, and Parquet and JSONL are read by ``dclm.io.document_files``, the
reader every stage uses:

* Parquet: the ``text`` column, as ``dclm extract`` writes it;
* JSONL (plain, gzip or zstd): the ``text`` field of each line. A line that
  is not a JSON object stops the read with a ``TrainingDataError`` naming the
  file and line: a class silently smaller than its input would train
  another model;
* plain text (what is neither; ``.txt``, ``.md`` or ``.txt.gz`` in a
  directory): one document per block, blocks separated by blank lines. A
  file that looks binary (a NUL byte near its start) or is a WARC archive
  is refused.

``Fields`` changes what a JSONL line or Parquet row gives: ``text`` fields
(several are joined by a blank line, e.g. an instruction and its answer) and
``group`` fields (rows with the same value form one group; each row uses the
first of them it has). Rows without all the text fields fall back to
``text``, rows without a group field are a group of their own, and
``read_labeled`` counts both, so the caller can refuse inputs that did not
have the fields it asked for. For the field ``url`` the ``#fragment`` is
cut: a fragment names a part of one page (in the blog pool, one post of a
blog, ``urn:blog-authorship-2004:<blog>#<post>``).

Every random choice takes a seed: the same inputs and seed give the same
documents in the same order, which ``pipelines.classifier_training.training`` needs to
produce a byte-identical model. The held-out split is stratified (the same
fraction of each class) and grouped, so that documents of one source (all
answers to one instruction, all posts of one blog) sit on one side of it.
"""
from __future__ import annotations

import gzip
import io
import os
import re
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator, Optional, Sequence

import numpy as np

from dclm.io.digests import file_sha256
from dclm.io.document_fields import InputNotes
from dclm.io.document_files import (
    JSONL,
    JSONL_GZ,
    JSONL_ZST,
    PARQUET,
    WARC,
    InputFormatError,
    iter_records,
    read_parquet_schema,
    sniff_format,
)

# Directory scanning only: which files of a directory are inputs (a README.rst
# or a model beside the data is not). How a file is read is told by its
# content (``_format_of``), never by these.
PARQUET_SUFFIXES = (".parquet",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".jsonl.zst")
TEXT_SUFFIXES = (".txt", ".md", ".txt.gz")
SCANNED_SUFFIXES = PARQUET_SUFFIXES + JSONL_SUFFIXES + TEXT_SUFFIXES
# The format a name claims, for a file whose first bytes tell none: an empty
# JSONL file, or one that opens with more than 4 KiB of blank lines, is still
# JSONL (and a damaged one fails on its first bad line, not as text).
_CLAIMED_FORMATS = ((".parquet", PARQUET), (".jsonl", JSONL), (".jsonl.gz", JSONL_GZ), (".json.gz", JSONL_GZ),
                    (".jsonl.zst", JSONL_ZST))
TEXT_BLOCKS = "text blocks"          # our own format: what document_files does not read
_TEXT_PROBE_BYTES = 4096
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


class TrainingDataError(ValueError):
    """An input path is missing or unreadable, or a class has no documents."""


@dataclass(frozen=True)
class LabeledDoc:
    text: str
    label: int            # 1 = positive (hq), 0 = negative (cc)
    group: str            # documents of one group stay on one side of the split


@dataclass(frozen=True)
class Fields:
    """Which fields of a JSONL line or Parquet row make a document's text and its group."""

    text: tuple[str, ...] = ("text",)
    group: tuple[str, ...] = ()

    @property
    def text_name(self) -> str:
        return "+".join(self.text)


@dataclass
class ReadReport:
    """What reading one class found: files, and how many rows used which fields."""

    files: list[dict] = field(default_factory=list)          # path, bytes, sha256
    text_from: dict[str, int] = field(default_factory=dict)  # "instruction+output" or "text": rows
    grouped_by: dict[str, int] = field(default_factory=dict)  # field name or "document": rows
    groups: int = 0

    def as_dict(self) -> dict:
        return {"files": self.files, "text_from": self.text_from, "grouped_by": self.grouped_by,
                "groups": self.groups}


def _is_stage_output(directory: str) -> bool:
    return os.path.isdir(os.path.join(directory, ".dclm"))


def input_files(paths: Sequence[str]) -> list[str]:
    """The files behind ``paths``: named files as given, directories expanded (sorted)."""
    found: list[str] = []
    for path in map(os.fspath, paths):
        if os.path.isdir(path):
            members = []
            for root, dirs, files in os.walk(path):
                # A stage's output: its documents (data/) only, never its .dclm/ bookkeeping.
                dirs[:] = ["data"] if _is_stage_output(root) and "data" in dirs else sorted(
                    d for d in dirs if not d.startswith((".", "_")))
                members += [os.path.join(root, f) for f in sorted(files)
                            if f.endswith(SCANNED_SUFFIXES)]
            if not members:
                raise TrainingDataError(f"no Parquet, JSONL or text file in directory {path}")
            found += members
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise TrainingDataError(f"input not found: {path}")
    return list(dict.fromkeys(found))


def _open_binary(path: str) -> BinaryIO:
    """A text file's bytes, decompressed as its name says (text has no magic bytes to tell)."""
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".zst"):
        import zstandard  # optional: only for .zst inputs

        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


def _open_text(path: str):
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8", errors="replace")


def _looks_like_text(path: str) -> bool:
    with _open_binary(path) as fh:
        return b"\0" not in fh.read(_TEXT_PROBE_BYTES)


def _format_by_name(path: str) -> str:
    """The format of a file whose first bytes tell none: the JSONL its name claims, else text blocks."""
    claimed = next((fmt for suffix, fmt in _CLAIMED_FORMATS if path.endswith(suffix)), None)
    if claimed == PARQUET:
        raise TrainingDataError(f"cannot read {path} as Parquet: it does not start as a Parquet file does")
    if claimed:
        return claimed
    if not _looks_like_text(path):
        raise TrainingDataError(f"{path}: neither Parquet, JSONL nor text (a NUL byte in its first "
                                f"{_TEXT_PROBE_BYTES} bytes)")
    return TEXT_BLOCKS


def _format_of(path: str) -> str:
    """A ``dclm.io.document_files`` format of ``path``, told by its content, or ``TEXT_BLOCKS``."""
    try:
        fmt = sniff_format(path)
    except InputFormatError:
        return _format_by_name(path)
    if fmt == WARC:
        raise TrainingDataError(f"{path}: a WARC archive, not documents; extract it first (`dclm extract`) "
                                "and train on the extraction")
    return fmt


def _group_key(name: str, value) -> str:
    text = str(value)
    return text.split("#", 1)[0] if name == "url" else text


# (text or None, which fields the text came from, (group field, group key) or None)
Row = tuple[Optional[str], str, Optional[tuple[str, str]]]


def _row(row: dict, fields: Fields) -> Row:
    """(text or None, which fields it came from, (group field, key) or None) of one row."""
    parts = [row.get(name) for name in fields.text]
    if all(isinstance(part, str) for part in parts):
        text, source = "\n\n".join(parts), fields.text_name
    else:
        text, source = row.get("text"), "text"
        text = text if isinstance(text, str) else None
    group = next(((name, _group_key(name, row[name])) for name in fields.group
                  if row.get(name) is not None), None)
    return text, source, group


def _parquet_columns(path: str, fields: Fields) -> list[str]:
    """The columns to read: the text fields (or ``text``) and the group fields the file has."""
    names = read_parquet_schema(path).names
    text_columns = list(fields.text) if all(n in names for n in fields.text) else ["text"]
    if text_columns == ["text"] and "text" not in names:
        wanted = " or ".join(repr(n) for n in dict.fromkeys([fields.text_name, "text"]))
        raise TrainingDataError(f"{path}: Parquet file has no {wanted} column")
    return list(dict.fromkeys(text_columns + [n for n in fields.group if n in names]))


def _refuse_bad_lines(path: str, notes: InputNotes) -> None:
    if notes.bad_lines:
        first = notes.listed[0]
        raise TrainingDataError(f"{path}:{first['line']}: {first['reason']}")


def _read_records(path: str, fmt: str, fields: Fields) -> Iterator[Row]:
    """The rows of a Parquet or JSONL file, through the project's document reader.

    Records come as the file has them (``iter_records``), not as
    ``iter_documents`` makes them: positives have no ``text`` field (their
    text is instruction + output, and it would skip them), and the
    ``id``/``url`` it fills in would regroup rows. Under ``--group-field url``
    a row with only ``metadata.WARC-Target-URI`` would join its page's group
    instead of being one of its own; under ``id``, an id-less row would get
    ``<file name>:<line>``, which same-named files in two folders share. The
    groups stay what the input says, as they were before this reader was used.
    """
    notes = InputNotes()
    columns = _parquet_columns(path, fields) if fmt == PARQUET else None
    for _, record in iter_records(path, notes, fmt, columns=columns):
        _refuse_bad_lines(path, notes)           # the reader skips bad lines; training must not
        yield _row(record, fields)
    _refuse_bad_lines(path, notes)


def _read_blocks(path: str) -> Iterator[Row]:
    with _open_text(path) as fh:
        content = fh.read().replace("\r\n", "\n")
    yield from ((block.strip(), "text", None) for block in _BLANK_LINE.split(content) if block.strip())


def read_rows(path: str, fields: Fields = Fields()) -> Iterator[Row]:
    """(text, text source, group) of each row of one file, in file order; text may be empty or None."""
    try:
        fmt = _format_of(path)
        if fmt == TEXT_BLOCKS:
            yield from _read_blocks(path)
        else:
            yield from _read_records(path, fmt, fields)
    except InputFormatError as exc:   # a damaged compressed stream; the message names the file
        raise TrainingDataError(f"cannot read {exc}") from exc
    except (OSError, UnicodeError) as exc:
        raise TrainingDataError(f"cannot read {path}: {exc}") from exc
    except Exception as exc:          # pyarrow's errors for a damaged Parquet file
        if type(exc).__module__.startswith("pyarrow"):
            raise TrainingDataError(f"cannot read {path} as Parquet: {exc}") from exc
        raise


def read_texts(path: str) -> Iterator[str]:
    """The non-empty documents of one file, in file order."""
    for text, _, _ in read_rows(path):
        if text and text.strip():
            yield text


def read_labeled(paths: Sequence[str], label: int, fields: Fields = Fields(),
                 describe_files: bool = True) -> tuple[list[LabeledDoc], ReadReport]:
    """All non-empty documents under ``paths`` with ``label``, and what reading them found.

    A row's group is its group field's value when it has one (``field=value``,
    shared across files), else the row itself (``path#row``).
    """
    docs: list[LabeledDoc] = []
    report = ReadReport()
    for path in input_files(paths):
        if describe_files:
            report.files.append({"path": path, "bytes": os.path.getsize(path), "sha256": file_sha256(path)})
        for i, (text, source, group) in enumerate(read_rows(path, fields)):
            if not text or not text.strip():
                continue
            report.text_from[source] = report.text_from.get(source, 0) + 1
            grouped_by = group[0] if group else "document"
            report.grouped_by[grouped_by] = report.grouped_by.get(grouped_by, 0) + 1
            key = f"{group[0]}={group[1]}" if group else f"{path}#{i}"
            docs.append(LabeledDoc(text=text, label=label, group=key))
    report.groups = len({d.group for d in docs})
    return docs, report


def read_documents(paths: Sequence[str], label: int, fields: Fields = Fields()) -> list[LabeledDoc]:
    """All documents under ``paths`` with ``label`` (see ``read_labeled``)."""
    return read_labeled(paths, label, fields, describe_files=False)[0]


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
