"""Prove that a refactor left the CLI's outputs byte-identical.

``record`` runs a fixed set of real ``dclm`` commands, each in its own
subprocess, on small real inputs from the shared corpus, and writes a
manifest: for every file each command wrote (or rewrote), its path relative
to the work folder and a sha256 of its content, plus the command's exit code.
``compare`` reads two manifests and prints every difference (command, file and
field); it exits 0 when they are identical and 1 when they differ.

Use it around a refactor (moving modules, rewriting imports)::

    git worktree add --detach /tmp/old <old commit>
    python benchmarks/byte_identity.py record old.json --repo /tmp/old
    python benchmarks/byte_identity.py record new.json          # this checkout
    python benchmarks/byte_identity.py compare old.json new.json

``--repo`` says whose code runs: its root goes first on PYTHONPATH, and
editable installs of the project are hidden from every process (Ray workers
too), so nothing can be imported from another checkout; default: the checkout
this script sits in. ``--shared`` is the shared data folder (default
``../shared`` beside the checkout); ``--work`` where outputs go (an empty or new folder, kept;
default a temporary folder, deleted). A record takes 3 to 4 minutes on 2 busy
cores; the embedded Ray runtime's start-up is about half of it.

Two records of the same checkout compare identical (checked at 1c21a26): a
difference is a change of behaviour, or a new clock field to add to
``VOLATILE_KEYS``. Record both sides on the same machine with the same Python
environment: data files embed the writer's library versions.

What is run (all outputs relative to the work folder, which is the cwd):

* ``extract`` of two WARC files (a genuine CC-MAIN excerpt and 130 English
  pages), and of the 2014 CC excerpt with trafilatura to ``jsonl.zst``;
* ``run refinedweb`` and ``run dclm_baseline`` (BFF dedup, the shipped
  classifier and the top 10 %: global segments under ``.dclm/work/``) on the
  same two WARC files;
* ``filter --recipe c4`` (to ``jsonl.gz``), ``filter --recipe gopher
  --annotate`` then ``select --where gopher``;
* two blog-pool WARC files extracted, cut by ``select --where`` (SQL) to about
  2,000 posts in ``jsonl.zst``, then ``dedup minhash``, ``dedup exact`` (to
  ``jsonl.gz``) and ``dedup url`` on that slice;
* ``classifier score`` with the shipped reference model, then ``select
  --top-fraction``; ``classifier train`` of a small model (one thread, seeded);
* ``tokenize`` at the shipped ``micro`` scale, and at ``tiny``;
* ``train`` and ``eval --tasks quick`` of ``tiny``: the 2-layer, 12-step
  scale of tests/test_tokenize_train.py (the shipped ``micro`` takes about
  five minutes to train here), registered by a bootstrap before the entry
  point runs in the scale table (found by reading the package's source, so
  either layout works); ``train`` on CPU with one thread; ``quick`` is the
  shipped smoke-test task set (100 items a task);
* ``report`` of the ``dclm_baseline`` output and of the training run.

How each file is hashed:

* ``*.json``: parsed, every key in ``VOLATILE_KEYS`` removed at any depth, the
  work, repository and shared folders' absolute paths replaced by
  ``<WORK>``/``<REPO>``/``<SHARED>`` in every string, then a canonical dump
  (sorted keys) is hashed; the normalized value is kept in the manifest so
  that ``compare`` can name the field that differs. Plain ``*.jsonl``
  (training metrics) the same, line by line.
* everything else (Parquet, ``jsonl.zst``/``jsonl.gz`` data, ``.npy`` tokens,
  ``.pt`` checkpoints, models, ``report.html``): the raw bytes. For Parquet
  the manifest also keeps the row count and a digest of the schema and of each
  column, so ``compare`` can say what changed inside a file whose bytes did.
  ``report.html`` is hashed raw, not normalized: it embeds no clock or host
  field (two records of one checkout give the same bytes).

Commands' stdout (which prints timings) is not compared; per-command wall
times are printed and kept under ``info``, which ``compare`` ignores.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "dclm-byte-identity/1"
SCRIPT_REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = SCRIPT_REPO.parent / "shared"    # ../shared beside the checkout, as CI has it

# Clock and host fields of the JSON bookkeeping files, removed (with whatever
# they hold) at any depth before hashing. Found in the files that the commands
# below write at 1c21a26:
VOLATILE_KEYS = frozenset({
    "seconds",              # ledgers, stats.json steps, run config's last_session: wall time
    "wall_seconds",         # stats.json, segment_stats.json: wall time of the stage
    "shard_seconds",        # stats.json: summed shard wall time
    "stage_seconds",        # dedup stats.json: wall time per global phase
    "worker_peak_rss_mib",  # extract ledgers: memory of the worker process
    "tokens_per_s",         # train config.json last_session: throughput
    "creation_date",        # eval_<set>.json: wall-clock timestamp
    "torch_version",        # train config.json: the machine's installed torch
    "environment",          # classifier card (MODEL.metrics.json): the machine's Python and platform
})

# The tests' tiny scale (tests/test_tokenize_train.py): the micro tokenizer and
# a 2-layer model that trains 12 steps in about a second.
TINY_SCALE = {"d_model": 32, "n_heads": 2, "n_layers": 2, "ffn_hidden": 96, "seq_len": 64,
              "global_batch": 8, "micro_batch": 4, "warmup_steps": 3, "tokens": 12 * 8 * 64}

# Runs the checkout's console-script entry point as `dclm` would, after
# registering the tiny scale when asked: argv is SCALES_MODULE|-, TINY_JSON,
# MODULE:FUNCTION, then the command's own arguments.
BOOTSTRAP = """\
import dataclasses, importlib, json, sys
scales_module, tiny, entry = sys.argv[1:4]
if scales_module != "-":
    table = importlib.import_module(scales_module).SCALES
    table["tiny"] = dataclasses.replace(table["micro"], name="tiny", **json.loads(tiny))
module, _, function = entry.partition(":")
sys.argv = ["dclm", *sys.argv[4:]]
sys.exit(getattr(importlib.import_module(module), function)())
"""

# Imported by every process of a command (Ray workers too) from a folder after
# the checkout on PYTHONPATH: it hides editable installs of the project, so a
# module that a refactor removed from the checkout cannot be found in another
# checkout (the venv's editable install points at /work/main).
SITECUSTOMIZE = """\
import sys
def _ours(thing):
    return not getattr(thing, "__module__", "").startswith("__editable__")
sys.meta_path[:] = [finder for finder in sys.meta_path if _ours(finder)]
sys.path_hooks[:] = [hook for hook in sys.path_hooks if _ours(hook)]
sys.path[:] = [entry for entry in sys.path if not entry.startswith("__editable__")]
"""

RAY = ("--num-cpus", "2", "--no-progress")


@dataclass(frozen=True)
class Command:
    name: str            # a label; also the folder that most commands write
    args: tuple[str, ...]
    tiny: bool = False   # needs the tiny scale registered


def commands(shared: Path) -> list[Command]:
    """The fixed command list; inputs are absolute shared paths, outputs relative."""
    warc = shared / "corpus" / "warc"
    two_warcs = (str(warc / "CC-MAIN-2020-34-sample.warc.gz"), str(warc / "CC-MAIN-DEV-00010.warc.gz"))
    pool = tuple(str(shared / "pool" / f"BLOG-2004-0000{i}.warc.gz") for i in (0, 1))
    positives = str(shared / "positives" / "alpaca-eval-answers.jsonl.gz")
    return [
        Command("01_extract", ("extract", *two_warcs, "--output", "01_extract", *RAY)),
        Command("02_extract_trafilatura", ("extract", str(warc / "CC-MAIN-2014-35-sample.warc.gz"),
                                           "--extractor", "trafilatura", "--output-format", "jsonl.zst",
                                           "--output", "02_extract_trafilatura", *RAY)),
        Command("03_run_refinedweb", ("run", "refinedweb", "--input", *two_warcs,
                                      "--output", "03_run_refinedweb", *RAY)),
        Command("04_run_dclm_baseline", ("run", "dclm_baseline", "--input", *two_warcs,
                                         "--output", "04_run_dclm_baseline", *RAY)),
        Command("05_filter_c4", ("filter", "--recipe", "c4", "--input", "01_extract", "--output-format",
                                 "jsonl.gz", "--output", "05_filter_c4", *RAY)),
        Command("06_filter_gopher_annotate", ("filter", "--recipe", "gopher", "--annotate", "--input",
                                              "01_extract", "--output", "06_filter_gopher_annotate", *RAY)),
        Command("07_select_gopher", ("select", "--input", "06_filter_gopher_annotate", "--where", "gopher",
                                     "--output", "07_select_gopher", *RAY)),
        Command("08_extract_pool", ("extract", *pool, "--output", "08_extract_pool", *RAY)),
        Command("09_select_pool_slice", ("select", "--input", "08_extract_pool", "--where",
                                         "date >= '2004-08-01'", "--output-format", "jsonl.zst",
                                         "--output", "09_select_pool_slice", *RAY)),
        Command("10_dedup_minhash", ("dedup", "minhash", "--input", "09_select_pool_slice",
                                     "--output", "10_dedup_minhash", *RAY)),
        Command("11_dedup_exact", ("dedup", "exact", "--input", "09_select_pool_slice", "--output-format",
                                   "jsonl.gz", "--output", "11_dedup_exact", *RAY)),
        Command("12_dedup_url", ("dedup", "url", "--input", "09_select_pool_slice",
                                 "--output", "12_dedup_url", *RAY)),
        Command("13_classifier_score", ("classifier", "score", "--input", "03_run_refinedweb",
                                        "--output", "13_classifier_score", *RAY)),
        Command("14_select_top_fraction", ("select", "--input", "13_classifier_score", "--top-fraction", "0.5",
                                           "--by", "fasttext_hq_prob", "--output", "14_select_top_fraction",
                                           *RAY)),
        Command("15_classifier_train", ("classifier", "train", "--positive", positives, "--text-fields",
                                        "output", "--group-field", "instruction", "--negative",
                                        "09_select_pool_slice", "--max-per-class", "1000", "--dim", "16",
                                        "--epoch", "2", "--bucket", "10000", "--seed", "0",
                                        "--output", "15_classifier_train/model.bin")),
        Command("16_tokenize_micro", ("tokenize", "--input", "03_run_refinedweb", "--scale", "micro",
                                      "--output", "16_tokenize_micro", "--no-progress")),
        Command("17_tokenize_tiny", ("tokenize", "--input", "10_dedup_minhash", "--scale", "tiny",
                                     "--output", "17_tokenize_tiny", "--no-progress"), tiny=True),
        Command("18_train_tiny", ("train", "--data", "17_tokenize_tiny", "--scale", "tiny", "--device", "cpu",
                                  "--threads", "1", "--output", "18_train_tiny", "--no-progress"), tiny=True),
        Command("19_eval_quick", ("eval", "18_train_tiny", "--tasks", "quick", "--device", "cpu",
                                  "--num-cpus", "1", "--no-progress"), tiny=True),
        Command("20_report_stage", ("report", "04_run_dclm_baseline")),
        Command("21_report_run", ("report", "18_train_tiny")),
    ]


# ---------------------------------------------------------------- normalizing


def path_replacements(work: Path, repo: Path, shared: Path) -> list[tuple[str, str]]:
    """(absolute path, placeholder) pairs, longest path first so nested folders win."""
    pairs = {}
    for path, mark in ((work, "<WORK>"), (repo, "<REPO>"), (shared, "<SHARED>")):
        for spelling in {str(path), str(path.resolve())}:
            pairs[spelling] = mark
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def normalize_json(value: Any, replacements: list[tuple[str, str]] = ()) -> Any:
    """``value`` without VOLATILE_KEYS, with absolute folders in strings replaced."""
    if isinstance(value, dict):
        return {key: normalize_json(item, replacements) for key, item in value.items()
                if key not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [normalize_json(item, replacements) for item in value]
    if isinstance(value, str):
        for path, mark in replacements:
            value = value.replace(path, mark)
    return value


def canonical_sha256(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parquet_summary(path: Path) -> dict:
    """Row count and digests of the schema and of each column: where a changed Parquet file changed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    columns = {name: canonical_sha256(table.column(name).to_pylist()) for name in table.column_names}
    return {"rows": table.num_rows, "schema": canonical_sha256(table.schema.to_string()), "columns": columns}


def describe_file(path: Path, replacements: list[tuple[str, str]]) -> dict:
    """The manifest entry of one written file (see the module docstring for the rules)."""
    name = path.name
    if name.endswith((".json", ".jsonl")):
        try:
            text = path.read_text(encoding="utf-8")
            value = (json.loads(text) if name.endswith(".json")
                     else [json.loads(line) for line in text.splitlines() if line.strip()])
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {"kind": "raw", "sha256": file_sha256(path), "note": f"not JSON: {exc}"}
        value = normalize_json(value, replacements)
        return {"kind": "json", "sha256": canonical_sha256(value), "value": value}
    entry = {"kind": "raw", "sha256": file_sha256(path)}
    if name.endswith(".parquet"):
        entry["parquet"] = parquet_summary(path)
    return entry


# ------------------------------------------------------------------ recording


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` (hidden ones too): relative path -> (size, mtime_ns)."""
    files = {}
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root, name)
            stat = path.stat()
            files[path.relative_to(folder).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return files


def entry_point(repo: Path) -> str:
    """The ``dclm`` console script of the checkout's pyproject.toml, e.g. ``dclm.cli:main``."""
    import tomllib

    with open(repo / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["scripts"]["dclm"]


def module_defining(repo: Path, package: str, name: str) -> str:
    """The module of ``package`` whose source assigns ``name`` at top level.

    Found by reading the files, so it works for the layout before and after a refactor.
    """
    pattern = re.compile(rf"^{name}\s*(:[^=\n]*)?=", re.MULTILINE)
    for root, dirs, files in os.walk(repo / package):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for file in sorted(f for f in files if f.endswith(".py")):
            path = Path(root, file)
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                parts = path.relative_to(repo).with_suffix("").parts
                return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise SystemExit(f"no module under {repo / package} defines {name}")


def command_env(repo: Path, guard: Path) -> dict[str, str]:
    """This environment with PYTHONPATH the checkout, then ``guard`` (a folder holding SITECUSTOMIZE),
    and no outside Ray cluster or DCLM clone."""
    (guard / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("RAY_ADDRESS", "DCLM_ROOT")}
    env["PYTHONPATH"] = os.pathsep.join((str(repo), str(guard)))
    return env


def run_command(command: Command, *, work: Path, env: dict, entry: str, scales_module: str) -> int:
    argv = [sys.executable, "-c", BOOTSTRAP, scales_module if command.tiny else "-",
            json.dumps(TINY_SCALE), entry, *command.args]
    result = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        print(f"  {command.name} exited {result.returncode}:\n{tail}", file=sys.stderr)
    return result.returncode


def git_commit(repo: Path) -> str | None:
    result = subprocess.run(["git", "-C", str(repo), "describe", "--always", "--dirty", "--abbrev=40"],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def record_all(work: Path, repo: Path, shared: Path, guard: Path) -> dict:
    """Run every command in ``work`` and describe what each wrote; return the manifest."""
    env, entry = command_env(repo, guard), entry_point(repo)
    scales_module = module_defining(repo, re.split(r"[.:]", entry)[0], "SCALES")
    replacements = path_replacements(work, repo, shared)
    manifest = {"format": FORMAT, "commands": {},
                "info": {"repo": str(repo), "commit": git_commit(repo), "python": sys.version.split()[0],
                         "seconds": {}}}
    before, started = snapshot(work), time.monotonic()
    for command in commands(shared):
        clock = time.monotonic()
        code = run_command(command, work=work, env=env, entry=entry, scales_module=scales_module)
        seconds = time.monotonic() - clock
        after = snapshot(work)
        written = sorted(path for path, stat in after.items() if before.get(path) != stat)
        manifest["commands"][command.name] = {
            "argv": normalize_json(list(command.args), replacements), "exit_code": code,
            "files": {path: describe_file(work / path, replacements) for path in written},
            "removed": sorted(set(before) - set(after))}
        manifest["info"]["seconds"][command.name] = round(seconds, 1)
        print(f"{command.name:28s} {seconds:6.1f} s  exit {code}  {len(written)} files", flush=True)
        before = after
    manifest["info"]["total_seconds"] = round(time.monotonic() - started, 1)
    print(f"{'total':28s} {manifest['info']['total_seconds']:6.1f} s")
    return manifest


def prepare_work(work: str | None) -> tuple[Path, bool]:
    """The work folder and whether to delete it afterwards; a given one must be empty or new."""
    if work is None:
        return Path(tempfile.mkdtemp(prefix="byte_identity_")), True
    path = Path(work).absolute()
    if path.exists() and any(path.iterdir()):
        raise SystemExit(f"--work {path} is not empty: give an empty or new folder")
    path.mkdir(parents=True, exist_ok=True)
    return path, False


def record(out: str, repo: str, shared: str, work: str | None) -> int:
    repo_path, shared_path = Path(repo).absolute(), Path(shared).absolute()
    work_path, temporary = prepare_work(work)
    guard = Path(tempfile.mkdtemp(prefix="byte_identity_site_"))
    try:
        manifest = record_all(work_path, repo_path, shared_path, guard)
    finally:
        shutil.rmtree(guard, ignore_errors=True)
        if temporary:
            shutil.rmtree(work_path, ignore_errors=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    failed = [name for name, entry in manifest["commands"].items() if entry["exit_code"] != 0]
    print(f"wrote {out}" + (f"; commands that failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


# ------------------------------------------------------------------ comparing


def json_differences(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(field path, value in a, value in b) for every leaf where a and b differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            child = f"{path}.{key}" if path else str(key)
            if key not in a or key not in b:
                yield child, a.get(key, "<absent>"), b.get(key, "<absent>")
            else:
                yield from json_differences(a[key], b[key], child)
    elif isinstance(a, list) and isinstance(b, list):
        for index in range(max(len(a), len(b))):
            left = a[index] if index < len(a) else "<absent>"
            right = b[index] if index < len(b) else "<absent>"
            yield from json_differences(left, right, f"{path}[{index}]")
    elif a != b or type(a) is not type(b):
        yield path or "(whole value)", a, b


def short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def parquet_differences(a: dict, b: dict) -> list[str]:
    """Which parts of two Parquet summaries differ; none means only the file's own bytes do."""
    fields = [field for field in ("error", "rows", "schema") if a.get(field) != b.get(field)]
    columns_a, columns_b = a.get("columns", {}), b.get("columns", {})
    fields += [f"column {name}" for name in sorted(set(columns_a) | set(columns_b))
               if columns_a.get(name) != columns_b.get(name)]
    return fields or ["file bytes only (same rows, schema and column values)"]


def file_differences(path: str, a: dict, b: dict, limit: int = 20) -> list[str]:
    """One line per differing field of one file's entries."""
    if a["sha256"] == b["sha256"] and a["kind"] == b["kind"]:
        return []
    if a["kind"] == b["kind"] == "json" and "value" in a and "value" in b:
        found = [f"{path}: {field}: {short(left)} != {short(right)}"
                 for field, left, right in json_differences(a["value"], b["value"])]
        if not found:
            return [f"{path}: sha256 (normalized JSON) differs"]
        more = [f"{path}: ... and {len(found) - limit} more fields"] if len(found) > limit else []
        return found[:limit] + more
    if "parquet" in a and "parquet" in b:
        return [f"{path}: sha256 differs: {part}" for part in parquet_differences(a["parquet"], b["parquet"])]
    return [f"{path}: sha256 differs ({a['kind']})"]


def _keys_of_both(a: dict, b: dict, what: str, lines: list[str]) -> Iterator[str]:
    """The keys ``a`` and ``b`` share, sorted; a line added to ``lines`` for each key only one side has."""
    for key in sorted(set(a) | set(b)):
        if key not in b:
            lines.append(f"{key}: {what} only in A")
        elif key not in a:
            lines.append(f"{key}: {what} only in B")
        else:
            yield key


def command_differences(name: str, a: dict, b: dict) -> list[str]:
    lines = [f"{name}: {field}: {short(a.get(field))} != {short(b.get(field))}"
             for field in ("argv", "exit_code", "removed") if a.get(field) != b.get(field)]
    files_a, files_b = a.get("files", {}), b.get("files", {})
    for path in _keys_of_both(files_a, files_b, "written", lines):
        lines.extend(file_differences(path, files_a[path], files_b[path]))
    return lines


def manifest_differences(a: dict, b: dict) -> list[str]:
    """Every difference between two manifests (``info``, timings included, is ignored)."""
    lines = [f"format: {a.get('format')} != {b.get('format')}"] if a.get("format") != b.get("format") else []
    commands_a, commands_b = a.get("commands", {}), b.get("commands", {})
    for name in _keys_of_both(commands_a, commands_b, "command", lines):
        lines.extend(command_differences(name, commands_a[name], commands_b[name]))
    return lines


def compare(path_a: str, path_b: str) -> int:
    manifests = [json.loads(Path(path).read_text(encoding="utf-8")) for path in (path_a, path_b)]
    lines = manifest_differences(*manifests)
    for line in lines:
        print(line)
    files = sum(len(entry["files"]) for entry in manifests[0]["commands"].values())
    print(f"{len(lines)} differences" if lines else
          f"identical: {len(manifests[0]['commands'])} commands, {files} files")
    return 1 if lines else 0


# ----------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    actions = parser.add_subparsers(dest="action", required=True)
    rec = actions.add_parser("record", help="run the commands and write a manifest")
    rec.add_argument("out", help="manifest to write (JSON)")
    rec.add_argument("--repo", default=str(SCRIPT_REPO), help="checkout whose code runs (default: this one)")
    rec.add_argument("--shared", default=str(DEFAULT_SHARED), help="shared data folder (default: %(default)s)")
    rec.add_argument("--work", default=None, help="empty or new folder for the outputs, kept afterwards "
                                                  "(default: a temporary folder, deleted)")
    cmp = actions.add_parser("compare", help="exit 0 if two manifests are identical, 1 if not")
    cmp.add_argument("a")
    cmp.add_argument("b")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.action == "record":
        return record(args.out, args.repo, args.shared, args.work)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
