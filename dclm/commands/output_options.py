"""The ``--output-format`` option of every command that writes documents."""
from __future__ import annotations

import argparse

from dclm.io.output_layout import OUTPUT_FORMATS


def add_output_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, default="parquet",
                        help="format of OUTPUT/data/ shards: Parquet (default; readable by pandas, polars, "
                             "DuckDB, HF datasets, Ray) or DCLM's JSONL layout (text, url, metadata), "
                             "zstd- or gzip-compressed, which DCLM's tokenize-shuffle and open_lm read")


def output_format_param(args: argparse.Namespace) -> dict:
    """The job parameter, only when not the default (so earlier Parquet runs still resume)."""
    fmt = getattr(args, "output_format", "parquet")
    return {} if fmt == "parquet" else {"output_format": fmt}
