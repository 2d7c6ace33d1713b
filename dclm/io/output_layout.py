"""Where a stage puts things in its output folder.

    OUTPUT/data/<shard>.parquet        the curated documents, and nothing else
                                       (or .jsonl.zst / .jsonl.gz with --output-format)
    OUTPUT/.dclm/run.json              the stage and parameters, checked on resume
    OUTPUT/.dclm/stats.json            the run's counts per step
    OUTPUT/.dclm/ledger/<shard>.json   one shard's counts, written last (resume trusts it)
    OUTPUT/.dclm/dropped/<shard>.parquet   dropped documents with their step and reason
    OUTPUT/.dclm/work/NN_step/         the segments of a recipe with global steps
    OUTPUT/.dclm/phases/               a dedup's stored first phase, while it runs

Why this shape: ``OUTPUT/data`` opens as a dataset with every common loader
(``pandas.read_parquet``, ``polars``, DuckDB's ``data/**/*.parquet``,
``datasets.load_dataset("parquet", data_dir=...)``, ``ray.data``), and so
does ``OUTPUT`` itself for the loaders that skip hidden folders (pyarrow,
pandas, HF datasets, Ray): the bookkeeping lives under a dot-folder those
loaders ignore, and it holds the only other Parquet files (``dropped/``).
"""
from __future__ import annotations

DATA = "data"
META = ".dclm"
DOCUMENT_SUFFIXES = {"parquet": ".parquet", "jsonl.zst": ".jsonl.zst", "jsonl.gz": ".jsonl.gz"}
OUTPUT_FORMATS = tuple(DOCUMENT_SUFFIXES)


def _base(output_dir: str) -> str:
    return str(output_dir).rstrip("/")


def data_dir(output_dir: str) -> str:
    return f"{_base(output_dir)}/{DATA}"


def meta_dir(output_dir: str) -> str:
    return f"{_base(output_dir)}/{META}"


def document_path(output_dir: str, shard: str, output_format: str = "parquet") -> str:
    return f"{data_dir(output_dir)}/{shard}{DOCUMENT_SUFFIXES[output_format]}"


def ledger_dir(output_dir: str) -> str:
    return f"{meta_dir(output_dir)}/ledger"


def ledger_path(output_dir: str, shard: str) -> str:
    return f"{ledger_dir(output_dir)}/{shard}.json"


def dropped_dir(output_dir: str) -> str:
    return f"{meta_dir(output_dir)}/dropped"


def dropped_path(output_dir: str, shard: str) -> str:
    return f"{dropped_dir(output_dir)}/{shard}.parquet"


def stats_path(output_dir: str) -> str:
    return f"{meta_dir(output_dir)}/stats.json"


def run_manifest_path(output_dir: str) -> str:
    return f"{meta_dir(output_dir)}/run.json"


def work_dir(output_dir: str) -> str:
    return f"{meta_dir(output_dir)}/work"


def phases_dir(output_dir: str) -> str:
    return f"{meta_dir(output_dir)}/phases"


def stage_folders(output_dir: str) -> list[str]:
    """Folders that hold per-shard files (swept for temporaries a killed writer left)."""
    return [data_dir(output_dir), ledger_dir(output_dir), dropped_dir(output_dir), meta_dir(output_dir)]
