"""Where and how a command runs: ``--ray-address``, ``--num-cpus``, ``--force``, ``--no-progress``."""
from __future__ import annotations

import argparse


def cpu_count(text: str) -> int:
    """--num-cpus: a whole number of cores, at least 1 (Ray waits forever for a task on 0 cores)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of cores") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} cores: give at least 1")
    return value


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("execution")
    group.add_argument("--ray-address", default=None, metavar="ADDR",
                       help="join a running Ray cluster (e.g. 'auto' or 'ray://head:10001'); "
                            "default: $RAY_ADDRESS, else start an embedded local runtime")
    group.add_argument("--num-cpus", type=cpu_count, default=None, metavar="N",
                       help="cores for the embedded runtime (default: all); ignored with --ray-address")
    group.add_argument("--force", action="store_true",
                       help="redo every shard even if its output and ledger exist")
    group.add_argument("--no-progress", action="store_true", help="hide the progress bar")
