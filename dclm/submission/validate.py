"""`dclm leaderboard validate`: is a submission (folder or archive) intact, consistent and comparable?

The checks, in order, each reporting every problem it finds (file + rule):

1. the container: safe extraction of an archive (``safe_archive``), or a
   folder holding only regular files;
2. integrity: every file listed in MANIFEST.sha256 is present with that
   sha256, and no file is unlisted;
3. submission.json against the versioned JSON Schema (types, required and
   unknown fields);
4. the layout: the files the format requires, and nothing else;
5. consistency and comparability (``consistency``): fixed scale and
   hyper-parameters, a complete run, evaluation claims recomputed, tokens
   and documents recounted from inline shards, and every cross-reference
   between the files.

Steps 4-5 need a readable submission.json; when it is missing or breaks the
schema, the problems found so far are reported and the rest is skipped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from dclm.io import bounded_json
from dclm.io.digests import file_sha256
from dclm.submission import layout
from dclm.submission.safe_archive import ArchiveError, Limits, is_archive_name, list_tree, safe_extract


@dataclass
class Result:
    source: str                              # the submission as given
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    submission: Optional[dict] = None        # submission.json, when it could be read
    scores: Optional[dict] = None            # recomputed from eval.json

    @property
    def valid(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, Any]:
        """What a leaderboard shows of this submission (recomputed scores, not claimed ones)."""
        doc = self.submission or {}
        dataset, model, scores = doc.get("dataset") or {}, doc.get("model") or {}, self.scores or {}
        return {"name": doc.get("name"), "uuid": doc.get("uuid"), "source": os.path.basename(self.source.rstrip("/")),
                "scale": model.get("scale"), "task_set": scores.get("task_set"), "Core": scores.get("Core"),
                "Extended": scores.get("Extended"), "bits_per_byte": scores.get("bits_per_byte"),
                "num_tokens": dataset.get("num_tokens"), "num_documents": dataset.get("num_documents"),
                "recipe": (dataset.get("recipe") or {}).get("name"), "seed": model.get("seed"),
                "shard_storage": dataset.get("shard_storage")}


def validate(path: "str | os.PathLike", known_scales: Optional[dict] = None, limits: Limits = Limits(),
             scratch: Optional[str] = None) -> Result:
    """Validate a submission folder or .tar.gz/.tgz/.tar archive (extracted under ``scratch``, default the
    system's temporary folder); never raises for a bad submission. Bounded in time and memory only with
    ``isolated.validate_isolated``."""
    source = str(path)
    target = Path(path)
    if target.is_dir() and not target.is_symlink():
        return _validate_folder(target, source, known_scales, limits)
    if target.is_file() and not target.is_symlink() and is_archive_name(target):
        try:
            with safe_extract(target, limits, parent=scratch) as root:
                return _validate_folder(_package_root(root), source, known_scales, limits)
        except ArchiveError as exc:
            return Result(source, problems=list(exc.problems))
    return Result(source, problems=[f"{source}: not a submission folder or a .tar.gz/.tgz/.tar archive"])


def _package_root(root: Path) -> Path:
    """Archives made with ``tar czf x.tar.gz folder/`` hold one folder: the package is inside it."""
    entries = list(root.iterdir())
    if not (root / layout.SUBMISSION).exists() and len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return root


def _validate_folder(root: Path, source: str, known_scales: Optional[dict], limits: Limits) -> Result:
    from dclm.submission.consistency import Checker

    result = Result(source)
    files, problems = list_tree(root, limits)
    result.problems.extend(problems)
    digests = _check_manifest(root, set(files), result.problems, limits)
    doc = _load_submission(root, set(files), result.problems, limits)
    if doc is None:
        return result
    result.submission = doc
    _check_layout(doc, files, result.problems)
    checker = Checker(root, doc, set(files), digests, known_scales, limits)
    checker.run()
    result.problems.extend(checker.problems)
    result.notes.extend(checker.notes)
    result.scores = checker.scores
    return result


def _check_manifest(root: Path, files: set[str], problems: list[str], limits: Limits) -> dict[str, str]:
    """sha256 of each listed file that is present (whether it matches or not)."""
    if layout.MANIFEST not in files:
        problems.append(f"{layout.MANIFEST}: missing (every file's sha256 must be listed in it)")
        return {}
    try:
        text = bounded_json.read_text(root / layout.MANIFEST, limits.max_metadata_bytes)
    except bounded_json.JsonLimitError as exc:
        problems.append(f"{layout.MANIFEST}: {exc}")
        return {}
    except UnicodeDecodeError:
        problems.append(f"{layout.MANIFEST}: not UTF-8 text")
        return {}
    listed, manifest_problems = layout.parse_manifest(text)
    problems.extend(manifest_problems)
    digests = {}
    for rel in sorted(listed):
        if rel not in files:
            problems.append(f"{rel}: listed in {layout.MANIFEST} but missing")
            continue
        digests[rel] = file_sha256(root / rel)
        if digests[rel] != listed[rel]:
            problems.append(f"{rel}: sha256 {digests[rel]} does not match {layout.MANIFEST} ({listed[rel]}); "
                            "the file was changed after packaging")
    for rel in sorted(files - set(listed) - {layout.MANIFEST}):
        problems.append(f"{rel}: not listed in {layout.MANIFEST}")
    return digests


def _schema_problem(error) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    return f"{layout.SUBMISSION}: {where or '(top level)'}: {error.message} (schema rule '{error.validator}')"


def _load_submission(root: Path, files: set[str], problems: list[str], limits: Limits) -> Optional[dict]:
    import jsonschema

    if layout.SUBMISSION not in files:
        problems.append(f"{layout.SUBMISSION}: missing")
        return None
    try:
        doc = bounded_json.load_file(root / layout.SUBMISSION, limits.max_metadata_bytes)
    except bounded_json.JsonLimitError as exc:
        problems.append(f"{layout.SUBMISSION}: {exc}")
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{layout.SUBMISSION}: not valid JSON ({exc})")
        return None
    schema = layout.load_schema()
    if isinstance(doc, dict) and doc.get("schema_version") not in (None, layout.SCHEMA_VERSION):
        problems.append(f"{layout.SUBMISSION}: schema_version {doc.get('schema_version')!r} is not supported "
                        f"(this validator reads {schema['$id']})")
        return None
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc),
                    key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        problems.extend(_schema_problem(e) for e in errors)
        return None
    return doc


def _allowed(rel: str, storage: str) -> bool:
    parts = rel.split("/")
    if len(parts) == 1:
        return rel in layout.FIXED_FILES or (rel == layout.SHARDS_MANIFEST and storage == layout.BY_URL)
    if len(parts) == 2 and parts[0] == layout.LEDGER_DIR:
        return parts[1].endswith(".json")
    if len(parts) == 2 and parts[0] == layout.SHARDS_DIR:
        return storage == layout.INLINE and parts[1].endswith(".parquet")
    return False


def _check_layout(doc: dict, files: list[str], problems: list[str]) -> None:
    storage = doc["dataset"]["shard_storage"]
    # submission.json and the MANIFEST were reported already when missing.
    required = [rel for rel in layout.FIXED_FILES if rel not in (layout.SUBMISSION, layout.MANIFEST)]
    required += [layout.SHARDS_MANIFEST] if storage == layout.BY_URL else []
    for rel in required:
        if rel not in files:
            problems.append(f"{rel}: missing (required in every submission)"
                            if rel != layout.SHARDS_MANIFEST else f"{rel}: missing (required with shard_storage "
                                                                   f"'{layout.BY_URL}')")
    for rel in files:
        if not _allowed(rel, storage):
            problems.append(f"{rel}: not part of the submission format (shard_storage '{storage}')")
    if storage == layout.INLINE and not any(rel.startswith(layout.SHARDS_DIR + "/") for rel in files):
        problems.append(f"{layout.SHARDS_DIR}/: no shards, but shard_storage is '{layout.INLINE}'")
