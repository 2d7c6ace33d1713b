"""``dclm leaderboard validate|rank``: check submissions and rank the valid ones."""
from __future__ import annotations

import argparse
import sys

HELP = "validate leaderboard submissions, or rank a folder of them"
DESCRIPTION = """\
  dclm leaderboard validate SUBMISSION        (a folder or .tar.gz/.tgz/.tar)
  dclm leaderboard rank DIR [--output OUT]

validate checks that the archive extracts safely (no absolute or '..' paths,
no links or special files, size and file-count limits read from the headers
before anything is written), every file matches MANIFEST.sha256 and none is
unlisted, submission.json matches its JSON Schema, the model used a fixed
scale with its exact hyper-parameters and finished its budget, the scores
equal those recomputed from eval.json's per-task numbers, inline shards hold
the claimed documents and tokens (recounted with the scale's tokenizer), and
the files agree with each other. Every problem is printed, naming the file and
the rule. Metadata headers, decompression ratio, JSON and YAML size and depth,
and Parquet row groups are bounded too, and each submission is checked in a
child process limited to --time-limit seconds and --memory-limit GB: past
either, it is refused. Exit code 0 valid, 1 invalid.

rank validates every submission in DIR and ranks the valid ones per scale
and task set by Core (ties: bits per byte, then name), writing
leaderboard.md, leaderboard.json and leaderboard.html to OUT (default DIR).
Invalid submissions are listed with their reasons; the exit code is 0 once
the leaderboard is written.
"""


VALIDATE_DESCRIPTION = """\
Check one leaderboard submission (a folder or a .tar.gz/.tgz/.tar archive) and
print every problem, naming the file and the rule. Exit code 0 valid, 1 invalid.

  dclm leaderboard validate submissions/refinedweb.tar.gz

An archive is checked before anything is extracted (no absolute or '..'
paths, no links or special files, --max-bytes and --max-files read from the
headers). Then: every file matches MANIFEST.sha256 and none is unlisted,
submission.json matches its JSON Schema, the model used a fixed scale with its
exact hyper-parameters and finished its budget, the scores equal those
recomputed from eval.json, inline shards hold the claimed documents and tokens
(recounted with the scale's tokenizer), and the files agree with each other.
"""
RANK_DESCRIPTION = """\
Validate every submission in DIR and rank the valid ones per scale and task
set by Core (ties: bits per byte, then name), writing leaderboard.md,
leaderboard.json and leaderboard.html to OUT (default DIR). Invalid
submissions are listed with their reasons; the exit code is 0 once the
leaderboard is written.

  dclm leaderboard rank submissions/ --output site/
"""


def _add_limits(parser: argparse.ArgumentParser) -> None:
    from dclm.submission.safe_archive import Limits

    parser.add_argument("--max-bytes", type=int, default=Limits.max_bytes, metavar="N",
                        help="largest total of declared file sizes in one submission (default: %(default)s)")
    parser.add_argument("--max-files", type=int, default=Limits.max_files, metavar="N",
                        help="most files in one submission (default: %(default)s)")
    parser.add_argument("--time-limit", type=float, default=1800.0, metavar="SECONDS",
                        help="wall-clock time allowed to check one submission (default: %(default)s)")
    parser.add_argument("--memory-limit", type=float, default=4.0, metavar="GB",
                        help="memory allowed to check one submission (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="print no progress lines")


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("leaderboard", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    check = actions.add_parser("validate", help="check one submission", description=VALIDATE_DESCRIPTION,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("submission", metavar="SUBMISSION", help="submission folder or .tar.gz/.tgz/.tar")
    _add_limits(check)
    check.set_defaults(handler=run_validate)
    board = actions.add_parser("rank", help="validate and rank every submission in a folder",
                               description=RANK_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    board.add_argument("directory", metavar="DIR", help="folder of submissions (folders and archives)")
    board.add_argument("--output", "-o", metavar="OUT", help="where to write leaderboard.* (default: DIR)")
    _add_limits(board)
    board.set_defaults(handler=run_rank)
    parser.set_defaults(handler=_needs_action)


def _needs_action(args: argparse.Namespace) -> int:
    from dclm.errors import UsageError

    raise UsageError("choose an action: validate SUBMISSION, or rank DIR")


def _limits(args: argparse.Namespace):
    from dclm.errors import UsageError
    from dclm.submission.safe_archive import Limits

    if args.max_bytes < 1 or args.max_files < 1:
        raise UsageError("--max-bytes and --max-files must be positive")
    return Limits(max_bytes=args.max_bytes, max_files=args.max_files)


def _worker(args: argparse.Namespace):
    import math

    from dclm.errors import UsageError
    from dclm.submission.isolated import WorkerLimits

    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        raise UsageError("--time-limit must be a positive number of seconds")
    if not (math.isfinite(args.memory_limit) and args.memory_limit > 0):
        raise UsageError("--memory-limit must be a positive number of GB")
    return WorkerLimits(seconds=args.time_limit, memory_bytes=int(args.memory_limit * (1 << 30)))


def print_result(result, out) -> None:
    if result.valid:
        s = result.summary()
        print(f"{result.source}: valid: {s['name']} (scale {s['scale']}, task set {s['task_set']}): "
              f"Core {s['Core']:.4f}" + (f", bits per byte {s['bits_per_byte']:.4f}"
                                         if s["bits_per_byte"] is not None else ""), file=out)
    else:
        print(f"{result.source}: invalid ({len(result.problems)} problem"
              f"{'s' if len(result.problems) != 1 else ''}):", file=out)
        for problem in result.problems:
            print(f"  - {problem}", file=out)
    for note in result.notes:
        print(f"  note: {note}", file=out)


def run_validate(args: argparse.Namespace) -> int:
    from dclm.submission.isolated import terminate_as_exit, validate_isolated

    limits, worker = _limits(args), _worker(args)
    with terminate_as_exit():
        result = validate_isolated(args.submission, limits=limits, worker=worker)
    print_result(result, sys.stdout)
    return 0 if result.valid else 1


def run_rank(args: argparse.Namespace) -> int:
    from dclm.submission.isolated import terminate_as_exit
    from dclm.submission.rank import rank_directory, write_leaderboard

    progress = None if args.no_progress else (lambda result: print_result(result, sys.stderr))
    limits, worker = _limits(args), _worker(args)
    with terminate_as_exit():
        board = rank_directory(args.directory, limits=limits, progress=progress, worker=worker)
    written = write_leaderboard(board, args.output or args.directory)
    valid = sum(len(section["entries"]) for section in board["boards"])
    print(f"{valid} valid, {len(board['invalid'])} invalid submission(s); wrote "
          + ", ".join(str(p) for p in written))
    for section in board["boards"]:
        leader = section["entries"][0]
        print(f"scale {section['scale']} (task set {section['task_set']}): 1. {leader['name']} "
              f"Core {leader['Core']:.4f}")
    return 0
