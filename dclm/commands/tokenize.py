"""``dclm tokenize``: curated Parquet shards -> shuffled token sequences for one scale."""
from __future__ import annotations

import argparse
import sys

from dclm.io.inputs import resolve_document_inputs

HELP = "tokenize curated Parquet text into fixed-length training sequences"
DESCRIPTION = """\
Tokenize the `text` of documents (the output of dclm run, filter, select or
dedup, or any Parquet or JSONL shards) with the scale's tokenizer. Documents are joined with
<|endoftext|> into one stream, cut into sequences of seq_len + 1 tokens (the
inputs and their next-token targets; the last partial sequence is dropped),
and shuffled with the scale's seed. Writes OUTPUT/tokens-NNNNN.npy and
OUTPUT/manifest.json (token and sequence counts, tokenizer and scale hashes,
sha256 of the token bytes, the source shards, and epochs = the scale's budget /
the tokens here: data smaller than the budget is repeated in training).

Runs in this process (no Ray): the shuffle is global, and the tokenizer
already uses every core. Rerunning with the same inputs and scale is a no-op.

  dclm tokenize --input out/refinedweb --scale micro --output out/tokens
"""


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("tokenize", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", "-i", nargs="+", required=True, metavar="DIR",
                        help="Parquet shards: directories, files or globs")
    parser.add_argument("--scale", required=True, metavar="SCALE", help="micro, small or 400m-1x")
    parser.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory (local)")
    parser.add_argument("--force", action="store_true", help="replace tokens made from other inputs")
    parser.add_argument("--no-progress", action="store_true", help="print no per-shard lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dclm.errors import UsageError
    from dclm.training.scales import get_scale
    from dclm.training.tokenize_data import tokenize_to_dir

    if "://" in args.output:
        raise UsageError("--output must be a local directory")
    scale = get_scale(args.scale)
    inputs = resolve_document_inputs(args.input)
    if not inputs:
        raise UsageError("no Parquet shards in the inputs")
    from dclm.io.output_location import check_output_apart

    check_output_apart(args.output, inputs, args.input)
    progress = None if args.no_progress else (lambda name: print(f"tokenized {name}", file=sys.stderr))
    m = tokenize_to_dir(inputs, scale, args.output, force=args.force, progress=progress)
    state = "up to date" if m.get("up_to_date") else "written"
    print(f"{args.output}: {state}: {m['documents']:,} documents from {len(m['sources'])} shards -> "
          f"{m['num_sequences']:,} sequences of {m['sequence_width']} tokens "
          f"({m['dataset_tokens']:,} training tokens, {m['tokens_dropped_tail']:,} dropped at the tail)")
    print(f"scale {m['scale']} trains on {m['train_tokens']:,} tokens: {m['epochs']:.2f} epochs of this data"
          + (" (repeated)" if m["epochs"] > 1 else ""))
    return 0
