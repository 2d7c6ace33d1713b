"""The submission format: file names, MANIFEST.sha256, identifiers, and the hyper-parameter record.

A submission (a folder, or the same files in a .tar.gz) holds::

    submission.json          dataset + model reference and the claimed scores (schema: submission.schema.v1.json)
    MANIFEST.sha256          sha256 of every other file, ``sha256sum`` format, sorted by path
    eval.json                the evaluation report (``dclm eval``), DCLM's layout
    recipe.yaml              the recipe that made the dataset (for a built-in recipe, its file from baselines/)
    stats.json, ledger/*.json  the curation run's statistics and per-shard ledgers
    tokenize_manifest.json   the manifest of the tokens the model was trained on (``dclm tokenize``)
    run_config.json, metrics.jsonl  the training run's record and per-step metrics (``dclm train``)
    shards/<name>.parquet    the curated shards (``--shards inline``), or
    shards.json              their URLs, sizes and sha256 (``--shards manifest``)

Identifiers are derived from content (uuid5), never random, so the same
inputs always give the same package.
"""
from __future__ import annotations

import hashlib
import json
import uuid as uuid_lib
from importlib import resources
from typing import Any, Optional

from dclm.submission.safe_archive import path_problem

SCHEMA_VERSION = 1
SCHEMA_FILE = f"submission.schema.v{SCHEMA_VERSION}.json"

SUBMISSION = "submission.json"
MANIFEST = "MANIFEST.sha256"
EVAL = "eval.json"
RECIPE = "recipe.yaml"
STATS = "stats.json"
LEDGER_DIR = "ledger"
TOKENIZE_MANIFEST = "tokenize_manifest.json"
RUN_CONFIG = "run_config.json"
METRICS = "metrics.jsonl"
SHARDS_DIR = "shards"
SHARDS_MANIFEST = "shards.json"
FIXED_FILES = (SUBMISSION, MANIFEST, EVAL, RECIPE, STATS, TOKENIZE_MANIFEST, RUN_CONFIG, METRICS)
INLINE, BY_URL = "inline", "manifest"

# Fixed namespace for every uuid5 below (generated once for this format; never change it).
NAMESPACE = uuid_lib.UUID("1cbff4ee-f19f-4462-a461-3d17c89afa5b")

# Scale fields that model.hyperparameters names as DCLM's exp_data/models/*.json do; the other
# fields keep their dclm.training.scales names. The scale's ``seed`` (the default training seed, which
# also seeds the token shuffle) becomes ``shuffle_seed``, because DCLM's ``seed`` is the seed the
# run actually trained with, a free choice recorded alongside.
_RENAMED = {"warmup_steps": "warmup", "weight_decay": "wd", "min_lr": "cd", "global_batch": "global_bs",
            "seed": "shuffle_seed"}
# Derived keys DCLM's records carry; checked for consistency, never free.
DERIVED = ("acc", "model")
# The training seed: DCLM's ``seed``, chosen freely by the submitter, so never compared to the scale.
TRAINING_SEED = "seed"


def canonical_json(value: Any) -> bytes:
    """The one JSON serialisation used in packages: sorted keys, 2-space indent, UTF-8, final newline."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def shard_listing_sha256(shards: list[tuple[str, str]]) -> str:
    """The dataset's data hash: sha256 of the ``sha256sum``-style lines of its (name, sha256) shards, sorted."""
    lines = "".join(f"{digest}  {name}\n" for name, digest in sorted(shards))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def derived_uuid(kind: str, *parts: str) -> str:
    return str(uuid_lib.uuid5(NAMESPACE, ":".join((kind,) + parts)))


def shard_path(name: str) -> str:
    return f"{SHARDS_DIR}/{name}"


def ledger_path(shard_file: str) -> str:
    stem = shard_file[: -len(".parquet")] if shard_file.endswith(".parquet") else shard_file
    return f"{LEDGER_DIR}/{stem}.json"


# ---------------------------------------------------------------- hyper-parameters

def hyperparameter_key(field: str) -> str:
    return _RENAMED.get(field, field)


def model_config_name(fields: dict) -> str:
    """open_lm's config naming, as DCLM's model files use (``d=1024_l=24_h=8``)."""
    return f"d={fields['d_model']}_l={fields['n_layers']}_h={fields['n_heads']}"


def hyperparameters(scale_fields: dict, seed: Optional[int] = None) -> dict[str, Any]:
    """model.hyperparameters of a scale record (``Scale.to_dict()``): every field but the name, the
    derived keys, and (when given) the training seed."""
    record = {hyperparameter_key(k): v for k, v in scale_fields.items() if k != "name"}
    if seed is not None:
        record[TRAINING_SEED] = seed
    record["acc"] = scale_fields["global_batch"] // scale_fields["micro_batch"]
    record["model"] = model_config_name(scale_fields)
    return record


def hyperparameter_differences(claimed: dict, reference: dict) -> list[str]:
    """``key: claimed X, fixed Y`` for every hyper-parameter that is not the fixed scale's (names as in the record)."""
    expected = hyperparameters(reference)
    differences = []
    for key in sorted((set(expected) | set(claimed)) - {TRAINING_SEED}):
        if key not in claimed:
            differences.append(f"{key}: missing (fixed: {expected[key]!r})")
        elif key not in expected:
            differences.append(f"{key}: not a hyper-parameter of the fixed scales")
        # Python has True == 1; a boolean is only ever equal to a boolean here.
        elif claimed[key] != expected[key] or isinstance(claimed[key], bool) != isinstance(expected[key], bool):
            differences.append(f"{key}: {claimed[key]!r} (fixed: {expected[key]!r})")
    return differences


# ---------------------------------------------------------------- MANIFEST.sha256

def manifest_text(digests: dict[str, str]) -> str:
    """``sha256sum`` output for ``digests`` (path -> hex), sorted by path, so ``sha256sum -c`` checks it."""
    return "".join(f"{digests[path]}  {path}\n" for path in sorted(digests))


def parse_manifest(text: str) -> tuple[dict[str, str], list[str]]:
    """(path -> sha256, problems) of a MANIFEST.sha256; every malformed line is reported by number."""
    digests: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{MANIFEST} line {number}"
        if not line.strip():
            continue
        digest, sep, path = line.partition("  ")
        if not sep:
            digest, sep, path = line.partition(" *")        # sha256sum's binary-mode marker
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            problems.append(f"{where}: not '<64 lowercase hex digits>  <path>'")
            continue
        reason = path_problem(path)
        if reason:
            problems.append(f"{where}: {path!r}: {reason}")
        elif path in digests:
            problems.append(f"{where}: {path} is listed twice")
        elif path == MANIFEST:
            problems.append(f"{where}: the manifest cannot list itself")
        else:
            digests[path] = digest
    return digests, problems


def load_schema() -> dict:
    return json.loads(resources.files("dclm.submission").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def schema_id(schema: Optional[dict] = None) -> str:
    return (schema or load_schema())["$id"]
