"""``dclm select``: apply thresholds to annotated shards without recomputing signals."""
from __future__ import annotations

import argparse
import os

from dclm.errors import UsageError
from dclm.executor import plan_jobs
from dclm.inputs import check_unique_names, resolve_parquet_inputs
from dclm.recipe import load_recipe, recipe_for_record
from dclm.stage import run_stage
from pipelines.select import check_where_sql, select_shard

DESCRIPTION = """\
Select documents from annotated shards (made with --annotate) or any Parquet
shards. --where takes either a recipe (built-in name or YAML file: its filters'
thresholds are applied to the stored signal columns, in order, giving the
same kept set as running that recipe directly) or a SQL boolean expression
over the columns, evaluated with DuckDB, e.g.

  dclm select --input annotated/ --where dclm_baseline --output selected/
  dclm select --input annotated/ --where "word_count >= 100" --output long/
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("select", help="apply thresholds over annotated columns",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", "-i", nargs="+", required=True, metavar="DIR", help="Parquet shards")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--where", required=True, metavar="RECIPE_OR_SQL",
                        help="a recipe name/file, or a SQL boolean expression over the columns")
    parser.add_argument("--source", default=None, help="source block of a multi-source recipe")
    add_execution_options(parser)
    parser.set_defaults(handler=run)


def _looks_like_recipe(where: str) -> bool:
    from dclm.recipe import builtin_recipe_names

    return where in builtin_recipe_names() or where.endswith((".yaml", ".yml")) or os.path.isfile(where)


def run(args: argparse.Namespace) -> int:
    inputs = resolve_parquet_inputs(args.input)
    check_unique_names(inputs)
    if _looks_like_recipe(args.where):
        recipe = load_recipe(args.where, args.source)
        params = {"recipe_path": recipe.path, "source": args.source, **recipe_for_record(recipe)}
    else:
        if not inputs:
            raise UsageError("no input shards")
        check_where_sql(args.where, inputs[0])
        params = {"where": args.where}
    jobs = plan_jobs(inputs, args.output, params)
    return run_stage("select", jobs, select_shard, args.output, params, ray_address=args.ray_address,
                     num_cpus=args.num_cpus, progress=not args.no_progress, force=args.force)
