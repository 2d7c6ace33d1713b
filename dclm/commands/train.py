"""``dclm train``: train a scale's fixed recipe on tokenized data (or --dry-run the recipe)."""
from __future__ import annotations

import argparse
import json

HELP = "train a scale's fixed model and recipe on tokenized data"
DESCRIPTION = """\
Train the scale's model with its fixed recipe (AdamW, linear warmup then
cosine decay, z-loss, gradient clipping; bf16 autocast on GPU only) on the
output of `dclm tokenize`. RUN/ gets config.json, metrics.jsonl (one line per
step), checkpoints/ (model, optimizer, step and RNG states) and, at the end,
model.pt. Rerunning the same command resumes from the last checkpoint.

On CPU the same data, scale, seed and --threads give bitwise-identical losses
and weights. --dry-run needs only --scale: it checks the tokenizer, builds the
full model on the meta device and takes one optimizer step on CPU (with 2
blocks and 32 positions for scales too large to step quickly).

  dclm train --data out/tokens --scale micro --output runs/refinedweb/seed0
  dclm train --scale 400m-1x --dry-run
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("train", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", metavar="DIR", help="tokenized directory (from dclm tokenize)")
    parser.add_argument("--scale", required=True, metavar="SCALE", help="micro, small or 400m-1x")
    parser.add_argument("--output", "-o", metavar="RUN", help="run directory (created, or resumed)")
    parser.add_argument("--seed", type=int, default=None, help="training seed (default: the scale's)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: CUDA when available, else CPU (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads (default: all cores; a resumed run keeps its own)")
    parser.add_argument("--checkpoint-every", type=int, default=None, metavar="STEPS",
                        help="checkpoint interval (default: a tenth of the run)")
    parser.add_argument("--dry-run", action="store_true", help="check the scale builds and steps; train nothing")
    parser.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)  # tests: a crash
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dclm.errors import UsageError
    from dclm.training.scales import get_scale

    scale = get_scale(args.scale)
    if args.dry_run:
        from dclm.training.dry_run import dry_run

        print(json.dumps(dry_run(scale, args.seed), indent=2))
        return 0
    if not args.data or not args.output:
        raise UsageError("--data and --output are required (or use --dry-run)")
    if "://" in args.output:
        raise UsageError("--output must be a local directory")
    for name in ("threads", "checkpoint_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    from dclm.training.trainer import train

    config = train(args.data, scale, args.output, seed=args.seed, device=args.device, threads=args.threads,
                   checkpoint_every=args.checkpoint_every, progress=not args.no_progress,
                   stop_after=args.stop_after)
    state = "complete" if config.get("complete") else f"stopped; a rerun resumes from step {config['steps_done']}"
    print(f"{args.output}: {state}: {config['steps_done']}/{config['total_steps']} steps, "
          f"{config['tokens_trained']:,} tokens, {config['epochs']:.2f} epochs of the data")
    return 0
