"""``dclm filter`` (recipe over extracted Parquet) and ``dclm run`` (WARC → recipe in one pass)."""
from __future__ import annotations

import argparse

from dclm.commands.output_options import add_output_format, output_format_param
from dclm.extract.html_text import EXTRACTORS
from dclm.io.inputs import check_unique_names, resolve_any_inputs, resolve_document_inputs
from dclm.recipe import builtin_recipe_names, dclm_root_from, load_recipe, recipe_for_record
from pipelines.extract import DEFAULT_TIME_LIMIT_S
from pipelines.filter import filter_shard, run_shard
from pipelines.recipe_plan import run_recipe

RECIPE_HELP = ("a built-in recipe name ({names}) or a DCLM-format YAML file")
OUTPUT_NOTE = """\
Kept pages go to OUTPUT/data/<shard>.parquet (or .jsonl.zst/.jsonl.gz with
--output-format); dropped pages, with the step and parameters that dropped
them and that step's signals, go to OUTPUT/.dclm/dropped/<shard>.parquet.
OUTPUT/.dclm/ledger/<shard>.json counts, for every step, documents in, kept,
dropped by reason, modified and seconds; OUTPUT/.dclm/stats.json sums them.

With --annotate, every filter's signals become columns and no page is
dropped; `dclm select --where RECIPE` then applies the thresholds without
recomputing anything.
"""
RUN_EXAMPLES = """
  dclm run refinedweb --input data/sample --output out/refinedweb
  dclm run my_recipe.yaml --input ../shared/corpus/warc --output out/mine --annotate
"""
FILTER_EXAMPLES = """
  dclm filter --recipe c4 --input out/extracted --output out/c4
  dclm filter --recipe dclm_baseline_heuristics --input 'pool/*.jsonl.zst' --output out/pool \\
      --output-format jsonl.zst
"""


def _add_recipe_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--source", default=None, help="which source block of a multi-source recipe to use")
    parser.add_argument("--annotate", action="store_true",
                        help="store every filter's signals as columns and keep every page")
    parser.add_argument("--dropped-sample", type=int, default=None, metavar="N",
                        help="write only the first N dropped pages per shard to OUTPUT/.dclm/dropped/ (default: all)")
    parser.add_argument("--dclm-root", default=None, metavar="DIR",
                        help="a clone of mlfoundations/dclm: DCLM recipes' banlists and TLD list are read "
                             "from it before our stand-ins (default: $DCLM_ROOT)")
    add_output_format(parser)


def register(subparsers, add_execution_options) -> None:
    names = ", ".join(builtin_recipe_names())
    run = subparsers.add_parser(
        "run", help="extract WARC files and apply a recipe in one pass",
        description="Extract main text from WARC files and apply a recipe, reading each WARC once.\n\n"
                    + OUTPUT_NOTE + RUN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("recipe", metavar="RECIPE", help=RECIPE_HELP.format(names=names))
    run.add_argument("--input", "-i", nargs="+", required=True, metavar="WARC",
                     help="WARC files, directories, globs or warc.paths listings; Parquet or JSONL "
                          "documents (e.g. DCLM-pool .jsonl.zst shards) skip extraction")
    run.add_argument("--extractor", choices=EXTRACTORS, default="resiliparse", help="main-text extractor")
    run.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S, metavar="SECONDS",
                     help="per-document extraction time limit (default: %(default)s)")
    _add_recipe_options(run)
    add_execution_options(run)
    run.set_defaults(handler=_run)

    flt = subparsers.add_parser(
        "filter", help="apply a recipe to documents (Parquet or JSONL, e.g. from `dclm extract`)",
        description="Apply a recipe to documents: Parquet shards made by `dclm extract`, any Parquet\n"
                    "with a text column (FineWeb), or JSONL with a text field, plain, .gz or .zst\n"
                    "(DCLM's pool); each file's format is read from its first bytes.\n\n"
                    + OUTPUT_NOTE + FILTER_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    flt.add_argument("--recipe", "-r", required=True, metavar="RECIPE", help=RECIPE_HELP.format(names=names))
    flt.add_argument("--input", "-i", nargs="+", required=True, metavar="DIR",
                     help="Parquet or JSONL shards: files, globs, directories or a stage's output folder")
    _add_recipe_options(flt)
    add_execution_options(flt)
    flt.set_defaults(handler=_filter)


def _recipe_params(args: argparse.Namespace, recipe) -> dict:
    return {"recipe_path": recipe.path, "source": args.source, "annotate": args.annotate,
            "dclm_root": dclm_root_from(args.dclm_root),
            "dropped_sample": args.dropped_sample, **output_format_param(args), **recipe_for_record(recipe)}


def _execute(stage: str, args, inputs: list[str], params: dict, work, recipe) -> int:
    from dclm.io.output_location import check_output_apart

    check_output_apart(args.output, inputs, args.input)
    check_unique_names(inputs)
    return run_recipe(stage, recipe, inputs, args.output, params, work, filter_shard,
                      ray_address=args.ray_address, num_cpus=args.num_cpus, progress=not args.no_progress,
                      force=args.force)


def _run(args: argparse.Namespace) -> int:
    recipe = load_recipe(args.recipe, args.source, dclm_root=args.dclm_root)       # fails before any WARC is opened
    inputs = resolve_any_inputs(args.input)
    params = {"extractor": args.extractor, "time_limit_s": args.time_limit, **_recipe_params(args, recipe)}
    return _execute("run", args, inputs, params, run_shard, recipe)


def _filter(args: argparse.Namespace) -> int:
    recipe = load_recipe(args.recipe, args.source, dclm_root=args.dclm_root)
    inputs = resolve_document_inputs(args.input)
    return _execute("filter", args, inputs, _recipe_params(args, recipe), filter_shard, recipe)
