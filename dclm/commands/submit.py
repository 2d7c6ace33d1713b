"""``dclm submit``: package a curated dataset, its trained model's record and evaluation for the leaderboard."""
from __future__ import annotations

import argparse
import sys

HELP = "package a dataset, its training run and evaluation as a verifiable leaderboard submission"
DESCRIPTION = """\
Package the curated shards (the output of `dclm run`), the training run made
from them (`dclm tokenize` + `dclm train`) and its evaluation (`dclm eval`):

  dclm submit --dataset out/curated --run runs/micro --recipe dclm_baseline \\
              --name my-filter --output my-filter.tar.gz

The package holds submission.json (dataset and model references and the
claimed scores, in DCLM's field names; JSON Schema in
dclm/submission/submission.schema.v1.json), eval.json, recipe.yaml, the
ledgers and stats.json, the tokenize manifest, the run's config and metrics,
the shards (--shards inline: shards/*.parquet) or their URLs, sizes and
sha256 (--shards manifest: shards.json, for datasets too big to ship), and
MANIFEST.sha256 over every file. An --output ending in .tar.gz/.tgz/.tar is an
archive (byte-identical for the same inputs); anything else a folder.

Refused before writing: a run that is not a fixed scale with its exact
hyper-parameters, or did not finish its budget; an evaluation of another
run; tokens made from other shards; a recipe other than the one the ledgers
record. The package is validated (`dclm leaderboard validate`) once written.
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("submit", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, metavar="DIR", help="curated dataset (output of dclm run)")
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="training run (output of dclm train)")
    parser.add_argument("--recipe", required=True, metavar="RECIPE", help="built-in recipe name or YAML file")
    parser.add_argument("--name", required=True, help="submission name shown on the leaderboard")
    parser.add_argument("--output", "-o", required=True, metavar="SUBMISSION",
                        help="SUBMISSION.tar.gz (or .tgz/.tar) for an archive, else a folder")
    parser.add_argument("--shards", choices=("inline", "manifest"), default="inline",
                        help="ship the shards in the package, or list their URLs (default: %(default)s)")
    parser.add_argument("--shard-url-prefix", metavar="URL",
                        help="with --shards manifest: where the shards are downloadable (URL + shard name)")
    parser.add_argument("--eval", metavar="JSON", help="evaluation report (default: the run's only eval_*.json)")
    parser.add_argument("--tokenized", metavar="DIR",
                        help="tokenized data the run trained on (default: the path its config.json records)")
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    parser.add_argument("--no-progress", action="store_true", help="print no progress lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dclm.submission.package import build_submission, write_package
    from dclm.submission.safe_archive import Limits
    from dclm.submission.validate import validate

    doc, files = build_submission(args.dataset, args.run, args.recipe, args.name, shards=args.shards,
                                  shard_url_prefix=args.shard_url_prefix, eval_path=args.eval,
                                  tokenized=args.tokenized)
    size = sum(len(c) if isinstance(c, bytes) else c.stat().st_size for c in files.values())
    default = Limits()
    if size > default.max_bytes or len(files) >= default.max_files:
        print(f"warning: the package holds {len(files)} files, {size:,} bytes: over what `dclm leaderboard "
              f"validate` accepts by default ({default.max_files} files, {default.max_bytes:,} bytes); ship the "
              "shards by URL (--shards manifest) or ask for larger --max-bytes/--max-files", file=sys.stderr)
    target = write_package(files, args.output, force=args.force)
    if not args.no_progress:
        print(f"wrote {target}; validating it", file=sys.stderr)
    # Check what was written, with limits that fit it (the warning above covers the defaults).
    result = validate(target, limits=Limits(max_bytes=max(default.max_bytes, 2 * size),
                                            max_files=max(default.max_files, len(files) + 1)))
    dataset, evaluation = doc["dataset"], doc["evaluation"]
    print(f"{target}: {doc['name']}: scale {doc['model']['scale']}, {dataset['num_documents']:,} documents, "
          f"{dataset['num_tokens']:,} tokens in {dataset['num_shards']} shards ({dataset['shard_storage']}); "
          f"Core {evaluation['Core']:.4f} on task set {evaluation['task_set']}")
    if not result.valid:
        # The checks before packaging should make this impossible: report it as the bug it is.
        print(f"{target}: the package fails validation:", file=sys.stderr)
        for problem in result.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{target}: valid")
    return 0
