"""The ``dclm`` command line: one sub-command per stage.

Exit codes: 0 every shard done; 1 usage error (bad arguments, missing input,
invalid recipe), nothing was processed; 2 some shards failed (named in the
summary, which says whether a rerun can fix them; a rerun retries only them),
or the output could not be written (disk full, read-only); 3 the ledger does
not add up (a bug); 4 a step raised an error on every document it was given
(a broken recipe).
"""
from __future__ import annotations

import argparse
import errno
import sys
from typing import Optional

from dclm import __version__
from dclm.errors import UsageError
from dclm.runtime.stage import EXIT_SHARDS_FAILED, EXIT_USAGE

# Errors of the storage, not of the command or the data.
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM})

DESCRIPTION = """\
DataComp-LM style pretraining-data curation.

Stages read shards (WARC, Parquet or JSONL) and write one Parquet file per
input shard to OUTPUT/data/ (or JSONL, --output-format), plus a ledger
(OUTPUT/.dclm/ledger/<shard>.json) and run statistics (OUTPUT/.dclm/stats.json). Each shard
is one Ray task: with no --ray-address (and no RAY_ADDRESS) an embedded Ray
runtime starts on this machine; with one, the same job runs on that cluster.
Rerunning a command skips shards that are already complete.

exit codes: 0 all shards done, 1 usage error, 2 some shards failed (the
summary says which a rerun can fix), 3 ledger mismatch, 4 a step failed on
every document.

  dclm run refinedweb --input data/sample --output out/refinedweb
  dclm COMMAND --help      (what each command does, with an example)
"""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage; here 2 means "some shards failed", so usage is 1."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dclm", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dclm {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from dclm.commands import register_all
    from dclm.commands.execution_options import add_execution_options

    register_all(commands, add_execution_options)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"dclm {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if exc.errno not in OUTPUT_ERRNOS:
            raise
        # A full disk or a read-only output is the machine's state, not a bug: one line, and the
        # shards not written are simply not there yet (writes are atomic), so a rerun resumes.
        where = f": {exc.filename}" if exc.filename else ""
        print(f"dclm {args.command}: error: {exc.strerror or exc}{where}; free space or make the output "
              "writable, then rerun the same command to resume", file=sys.stderr)
        return EXIT_SHARDS_FAILED
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
