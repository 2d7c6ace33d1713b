"""`dclm submit`: package a curated dataset, the model trained on it and its evaluation.

Before anything is written, the pieces must be one chain: the tokens the run
trained on (its ``data_manifest_hash``) come from exactly these shards (names
and sha256 in the tokenize manifest), the evaluation is of this run (scale
hash, seed, data), the run used a fixed scale to the end of its budget, and
the recipe is the one the curation ledgers record. A package that
``dclm leaderboard validate`` would refuse is never made.

Output is deterministic: identifiers are derived from content, the creation
date is the evaluation's, JSON is written canonically, and a .tar.gz has
sorted members with fixed mtime/uid/gid/mode and a gzip header without a
name or time, so the same inputs give byte-identical archives.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

from dclm import __version__
from dclm.errors import UsageError
from dclm.io import output_layout
from dclm.io.digests import file_sha256
from dclm.submission import layout
from dclm.submission.claims import eval_report_problems, run_problems
from dclm.submission.safe_archive import is_archive_name, path_problem

Content = Union[bytes, Path]        # a file of the package: its bytes, or a file to copy (shards)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the {what} ({exc.strerror})") from exc
    except ValueError as exc:
        raise UsageError(f"{path}: the {what} is not valid JSON ({exc})") from exc


def _find_eval(run_dir: Path, eval_path: Optional[str]) -> Path:
    if eval_path:
        return Path(eval_path)
    found = sorted(run_dir.glob("eval_*.json"))
    if not found:
        raise UsageError(f"{run_dir}: no eval_*.json; run `dclm eval {run_dir}` first")
    if len(found) > 1:
        raise UsageError(f"{run_dir}: several evaluations ({', '.join(p.name for p in found)}); choose one with --eval")
    return found[0]


def _check_eval_is_of_run(report: dict, config: dict, where: Path) -> None:
    identity = report.get("model_identity") or {}
    for key in ("scale_hash", "seed", "data_manifest_hash", "steps_done"):
        if identity.get(key) != config.get(key):
            raise UsageError(f"{where}: evaluates another model: model_identity.{key} is {identity.get(key)!r}, "
                             f"the run's is {config.get(key)!r}")
    if not identity.get("weights_sha256"):
        raise UsageError(f"{where}: model_identity has no weights_sha256; re-run `dclm eval --force`")


def _tokenize_manifest(config: dict, tokenized: Optional[str]) -> tuple[bytes, dict]:
    folder = Path(tokenized or config.get("data") or "")
    path = folder / "manifest.json"
    if not path.is_file():
        raise UsageError(f"the run trained on {config.get('data')!r}, but {path} does not exist; "
                         "pass --tokenized DIR (the output of `dclm tokenize` it trained on)")
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != config.get("data_manifest_hash"):
        raise UsageError(f"{path}: not the tokens the run trained on (its sha256 differs from the run's "
                         "data_manifest_hash)")
    return raw, json.loads(raw)


def _stats_file(dataset: Path) -> Path:
    return Path(output_layout.stats_path(str(dataset)))


def _ledger_file(dataset: Path, shard_file: str) -> Path:
    return Path(output_layout.ledger_path(str(dataset), shard_file[: -len(".parquet")]))


def _dataset_shards(dataset: Path) -> list[Path]:
    if not dataset.is_dir():
        raise UsageError(f"{dataset} is not a directory (expected the output of `dclm run`)")
    shards = sorted(Path(output_layout.data_dir(str(dataset))).glob("*.parquet"))
    if not shards:
        raise UsageError(f"{dataset}: no {output_layout.DATA}/*.parquet shards (a submission takes Parquet output)")
    for shard in shards:
        reason = path_problem(layout.shard_path(shard.name))
        if reason or any(ch.isspace() for ch in shard.name):
            raise UsageError(f"{shard}: a shard name must be a plain file name without spaces ({reason or 'space'})")
        if not _ledger_file(dataset, shard.name).is_file():
            raise UsageError(f"{dataset}: shard {shard.name} has no ledger {_ledger_file(dataset, shard.name)}")
    if not _stats_file(dataset).is_file():
        raise UsageError(f"{dataset}: no {_stats_file(dataset)} (expected the output of `dclm run`)")
    return shards


def _check_same_shards(shards: dict[str, dict], manifest: dict) -> dict[str, dict]:
    """The tokenize manifest's sources, by name; they must be exactly these shards."""
    sources = {s.get("name"): s for s in manifest.get("sources", [])}
    ours = {(name, info["sha256"]) for name, info in shards.items()}
    theirs = {(name, s.get("sha256")) for name, s in sources.items()}
    if ours != theirs:
        only_here = sorted(n for n, _ in ours - theirs)
        only_there = sorted(n for n, _ in theirs - ours)
        raise UsageError("the run was trained on tokens of other shards than the dataset's: "
                         f"differing here {only_here}, differing in the tokenize manifest {only_there}")
    return sources


def _recipe_bytes(recipe: str, dataset: Path) -> tuple[str, bytes, str]:
    from dclm.recipe import load_recipe

    loaded = load_recipe(recipe, announce=False)
    # Recipe.digest hashes the text as read (universal newlines); store exactly that text.
    with open(loaded.path, encoding="utf-8") as fh:
        data = fh.read().encode("utf-8")
    recorded = set()
    stats = _read_json(_stats_file(dataset), "run statistics")
    params = stats.get("params") if isinstance(stats, dict) else None
    recorded.add((layout.STATS, params.get("recipe_sha256") if isinstance(params, dict) else None))
    for ledger in sorted(Path(output_layout.ledger_dir(str(dataset))).glob("*.json")):
        details = _read_json(ledger, "ledger")
        details = details.get("details") if isinstance(details, dict) else None
        recorded.add((f"{layout.LEDGER_DIR}/{ledger.name}",
                      details.get("recipe_sha256") if isinstance(details, dict) else None))
    for where, digest in sorted(recorded, key=str):
        if digest is not None and digest != loaded.digest:
            raise UsageError(f"recipe {recipe!r} (sha256 {loaded.digest}) is not the recipe that made {dataset}: "
                             f"{where} records {digest}")
    return loaded.name, data, loaded.digest


def build_submission(dataset_dir: str, run_dir: str, recipe: str, name: str, *, shards: str = layout.INLINE,
                     shard_url_prefix: Optional[str] = None, eval_path: Optional[str] = None,
                     tokenized: Optional[str] = None, known_scales: Optional[dict] = None
                     ) -> tuple[dict, dict[str, Content]]:
    """(submission.json, every file of the package but the MANIFEST) after checking the chain."""
    from dclm.training.run_dir import read_run_config

    if not name or len(name) > 200 or any(ord(ch) < 32 for ch in name):
        raise UsageError("--name must be 1-200 printable characters")
    if shards not in (layout.INLINE, layout.BY_URL):
        raise UsageError(f"--shards must be {layout.INLINE} or {layout.BY_URL}")
    if shards == layout.BY_URL and not shard_url_prefix:
        raise UsageError("--shards manifest needs --shard-url-prefix (where the shards will be downloadable)")
    run, dataset = Path(run_dir), Path(dataset_dir)
    config = read_run_config(run)
    problems = run_problems(config, known_scales)
    if problems:
        raise UsageError(f"{run / 'config.json'}: " + "; ".join(problems))
    eval_file = _find_eval(run, eval_path)
    report = _read_json(eval_file, "evaluation report")
    scores, problems = eval_report_problems(report, where=str(eval_file))
    if problems:
        raise UsageError("; ".join(problems))
    _check_eval_is_of_run(report, config, eval_file)
    manifest_raw, manifest = _tokenize_manifest(config, tokenized)

    shard_files = _dataset_shards(dataset)
    info = {p.name: {"path": p, "sha256": file_sha256(p), "bytes": p.stat().st_size} for p in shard_files}
    sources = _check_same_shards(info, manifest)
    recipe_name, recipe_data, recipe_digest = _recipe_bytes(recipe, dataset)

    files: dict[str, Content] = {
        layout.EVAL: eval_file.read_bytes(),
        layout.RECIPE: recipe_data,
        layout.STATS: _stats_file(dataset).read_bytes(),
        layout.TOKENIZE_MANIFEST: manifest_raw,
        layout.RUN_CONFIG: (run / "config.json").read_bytes(),
        layout.METRICS: (run / "metrics.jsonl").read_bytes(),
    }
    raw_sources = []
    for shard in sorted(info):
        ledger_rel = layout.ledger_path(shard)
        files[ledger_rel] = _ledger_file(dataset, shard).read_bytes()
        ledger = json.loads(files[ledger_rel])
        raw_input = (ledger.get("input") if isinstance(ledger, dict) else None) or shard
        raw_sources.append({"name": os.path.basename(str(raw_input).rstrip("/")), "shard": shard})
        if shards == layout.INLINE:
            files[layout.shard_path(shard)] = info[shard]["path"]
    prefix = (shard_url_prefix.rstrip("/") + "/") if shard_url_prefix else None
    if shards == layout.BY_URL:
        entries = [{"name": shard, "url": prefix + shard, "bytes": info[shard]["bytes"],
                    "sha256": info[shard]["sha256"], "documents": sources[shard]["documents"],
                    "tokens": sources[shard]["tokens"]} for shard in sorted(info)]
        files[layout.SHARDS_MANIFEST] = layout.canonical_json({"shards": entries})

    data_sha256 = layout.shard_listing_sha256([(n, i["sha256"]) for n, i in info.items()])
    identity = report["model_identity"]
    created = report.get("creation_date")
    dataset_uuid = layout.derived_uuid("dataset", data_sha256)
    model_uuid = layout.derived_uuid("model", identity["weights_sha256"], config["data_manifest_hash"])
    doc = {
        "schema_version": layout.SCHEMA_VERSION,
        "name": name,
        "uuid": layout.derived_uuid("submission", name, dataset_uuid, model_uuid, str(scores["uuid"])),
        "creation_date": created,
        "pipeline_version": __version__,
        "dataset": {
            "uuid": dataset_uuid, "name": name, "creation_date": created,
            "dataset_url": prefix, "manifest_url": layout.SHARDS_MANIFEST if shards == layout.BY_URL else None,
            "sources": raw_sources, "tokenized": True, "tokenizer": manifest.get("tokenizer"),
            "tokenizer_sha256": manifest.get("tokenizer_sha256"),
            "num_tokens": sum(sources[s]["tokens"] for s in info),
            "num_documents": sum(sources[s]["documents"] for s in info),
            "num_shards": len(info), "size": sum(i["bytes"] for i in info.values()), "data_key": "parquet",
            "data_sha256": data_sha256, "shard_storage": shards,
            "recipe": {"name": recipe_name, "sha256": recipe_digest, "file": layout.RECIPE},
            "pipeline_version": __version__,
        },
        "model": {
            "uuid": model_uuid, "name": f"{name}-{config['scale']}-seed={config['seed']}", "creation_date": created,
            "dataset_name": name, "dataset_uuid": dataset_uuid, "scale": config["scale"],
            "scale_hash": config["scale_hash"], "seed": config["seed"], "parameters": config["parameters"],
            "weights_sha256": identity["weights_sha256"], "data_manifest_hash": config["data_manifest_hash"],
            "data_sha256": config["data_sha256"], "tokens_trained": config["tokens_trained"],
            "steps": config["steps_done"], "model_path": None, "checkpoint_url": None,
            "hyperparameters": layout.hyperparameters(config["scale_config"], seed=config["seed"]),
        },
        "evaluation": {"file": layout.EVAL, **{k: scores[k] for k in (
            "uuid", "task_set", "Core", "Core_tasks", "Extended", "bits_per_byte", "bits_per_byte_set")}},
    }
    _check_schema(doc)
    files[layout.SUBMISSION] = layout.canonical_json(doc)
    return doc, files


def _check_schema(doc: dict) -> None:
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(layout.load_schema()).iter_errors(doc), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise UsageError(f"cannot make a valid submission.json: at {where}: {errors[0].message}")


# ---------------------------------------------------------------- writing

def _digest(content: Content) -> str:
    return hashlib.sha256(content).hexdigest() if isinstance(content, bytes) else file_sha256(content)


def with_manifest(files: dict[str, Content]) -> dict[str, Content]:
    digests = {rel: _digest(content) for rel, content in files.items() if rel != layout.MANIFEST}
    return {**files, layout.MANIFEST: layout.manifest_text(digests).encode("utf-8")}


def seal(folder: "str | os.PathLike") -> None:
    """Rewrite MANIFEST.sha256 of a submission folder for the files it now holds."""
    root = Path(folder)
    digests = {p.relative_to(root).as_posix(): file_sha256(p) for p in root.rglob("*")
               if p.is_file() and p.relative_to(root).as_posix() != layout.MANIFEST}
    (root / layout.MANIFEST).write_text(layout.manifest_text(digests), encoding="utf-8")


def _tar_member(rel: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(rel)
    info.size, info.mtime, info.mode = size, 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_tar(files: dict[str, Content], target: Path) -> None:
    with open(target, "wb") as raw:
        compressed = target.name.endswith((".tar.gz", ".tgz"))
        # No file name and time 0 in the gzip header: the archive's bytes depend on content only.
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compressed else raw
        with tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for rel in sorted(files):
                content = files[rel]
                if isinstance(content, bytes):
                    tar.addfile(_tar_member(rel, len(content)), io.BytesIO(content))
                else:
                    with open(content, "rb") as fh:
                        tar.addfile(_tar_member(rel, os.fstat(fh.fileno()).st_size), fh)
        if compressed:
            stream.close()


def _write_folder(files: dict[str, Content], target: Path) -> None:
    target.mkdir()
    for rel in sorted(files):
        path = target.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        content = files[rel]
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            shutil.copyfile(content, path)


def write_package(files: dict[str, Content], output: str, force: bool = False) -> Path:
    """Write the package (adding MANIFEST.sha256) as a folder, or an archive when ``output`` ends .tar.gz/.tgz/.tar.

    The package appears under its name only when complete (written beside it, then renamed).
    """
    target = Path(output)
    if "://" in output:
        raise UsageError("--output must be a local path")
    if target.exists() or target.is_symlink():
        if not force:
            raise UsageError(f"{target} exists; use --force to replace it")
        if target.is_dir() and not (target / layout.SUBMISSION).is_file() and any(target.iterdir()):
            raise UsageError(f"{target} is a folder that is not a submission; refusing to replace it")
    files = with_manifest(files)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        staged = temp / target.name
        (_write_tar if is_archive_name(target) else _write_folder)(files, staged)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.replace(staged, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target
