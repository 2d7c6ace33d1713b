"""``dclm select``: apply thresholds to annotated shards without recomputing signals."""
from __future__ import annotations

import argparse
import os

from dclm.commands.output_options import add_output_format, output_format_param
from dclm.errors import UsageError
from dclm.io.inputs import check_unique_names, resolve_document_inputs
from dclm.recipe import load_recipe, recipe_for_record
from dclm.runtime.executor import plan_jobs
from dclm.runtime.stage import run_stage
from pipelines.select import check_where_sql, select_shard

DESCRIPTION = """\
Select documents from annotated shards (made with --annotate) or any Parquet
shards. --where takes either a recipe (built-in name or YAML file: its filters'
thresholds are applied to the stored signal columns, in order, giving the
same kept set as running that recipe directly) or a SQL boolean expression
over the columns, evaluated with DuckDB, e.g.

  dclm select --input annotated/ --where dclm_baseline --output selected/
  dclm select --input annotated/ --where "word_count >= 100" --output long/

--top-fraction keeps the best fraction of the whole run by a score column
(two passes: the exact cut over every shard, then the selection):

  dclm select --input scored/ --top-fraction 0.1 --by fasttext_hq_prob --output top10/
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("select", help="apply thresholds over annotated columns",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", "-i", nargs="+", required=True, metavar="DIR",
                        help="Parquet or JSONL shards: files, globs, directories or a stage's output folder")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory")
    add_output_format(parser)
    parser.add_argument("--where", metavar="RECIPE_OR_SQL",
                        help="a recipe name/file, or a SQL boolean expression over the columns")
    parser.add_argument("--top-fraction", type=float, metavar="F",
                        help="keep the best fraction F (0 < F <= 1) of the WHOLE run by --by; exactly "
                             "ceil(F*N) documents, ties broken by id; the threshold goes in the ledger")
    parser.add_argument("--by", default="fasttext_hq_prob", metavar="COLUMN",
                        help="score column for --top-fraction (default: %(default)s)")
    parser.add_argument("--lower-better", action="store_true", help="with --top-fraction: smaller scores win")
    parser.add_argument("--source", default=None, help="source block of a multi-source recipe")
    add_execution_options(parser)
    parser.set_defaults(handler=run)


def _looks_like_recipe(where: str) -> bool:
    from dclm.recipe import builtin_recipe_names

    return where in builtin_recipe_names() or where.endswith((".yaml", ".yml")) or os.path.isfile(where)


def run(args: argparse.Namespace) -> int:
    if (args.where is None) == (args.top_fraction is None):
        raise UsageError("give exactly one of --where and --top-fraction")
    inputs = resolve_document_inputs(args.input)
    from dclm.io.output_location import check_output_apart

    check_output_apart(args.output, inputs, args.input)
    check_unique_names(inputs)
    if args.top_fraction is not None:
        from pipelines.top_fraction import select_top_fraction

        try:
            return select_top_fraction(inputs, args.output, args.by, args.top_fraction,
                                       lower_better=args.lower_better, ray_address=args.ray_address,
                                       num_cpus=args.num_cpus, progress=not args.no_progress, force=args.force,
                                       output_format=args.output_format)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if _looks_like_recipe(args.where):
        recipe = load_recipe(args.where, args.source)
        params = {"recipe_path": recipe.path, "source": args.source, **recipe_for_record(recipe)}
    else:
        if not inputs:
            raise UsageError("no input shards")
        check_where_sql(args.where, inputs[0])
        params = {"where": args.where}
    params.update(output_format_param(args))
    jobs = plan_jobs(inputs, args.output, params)
    return run_stage("select", jobs, select_shard, args.output, params, ray_address=args.ray_address,
                     num_cpus=args.num_cpus, progress=not args.no_progress, force=args.force)
