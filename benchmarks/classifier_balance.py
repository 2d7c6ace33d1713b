"""Class balance with a small positive set: unbalanced vs. upsampled vs. downsampled training.

    python benchmarks/classifier_balance.py --negatives out/pool_rw
        [--positives ../shared/positives/alpaca-eval-answers.jsonl.gz]
        [--n-pos 162] [--n-neg 1126] [--seeds 10] [--json OUT.json]

The case: 162 positives (a seeded sample of AlpacaEval answers, rows drawn
at random and grouped by instruction) against 1,126 negatives (a seeded
sample of the blog-pool posts that passed ``dclm run refinedweb``, grouped
by blog). For each seed, one held-out split (grouped, stratified, 20% by
default) is drawn, and the same documents and split are trained three ways
(``--balance none``, ``upsample``, ``downsample``, applied to the training
split only) with the reference model's preparation (``text_prep dclm``,
bigrams, dim 100) but 200,000 buckets and no quantization, to keep it
quick. Printed: held-out precision, recall and F1 at P(hq) >= 0.5, and
ROC-AUC, per seed and their mean over seeds (one seed's held-out set holds
only about 30 positives, so a single seed is noisy).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.classifier_training.data import read_labeled  # noqa: E402
from pipelines.classifier_training.reference import NEGATIVE_FIELDS, POSITIVE_FIELDS  # noqa: E402
from pipelines.classifier_training.training import TrainConfig, train_classifier  # noqa: E402

MODES = ("none", "upsample", "downsample")
METRICS = ("precision", "recall", "f1", "roc_auc")
DEFAULT_POSITIVES = REPO.parent / "shared" / "positives" / "alpaca-eval-answers.jsonl.gz"


def _sample(docs: list, size: int, seed: int, stream: int) -> list:
    """``size`` documents drawn without replacement with ``seed``, in input order."""
    if size > len(docs):
        raise SystemExit(f"asked for {size} documents, only {len(docs)} available")
    picked = np.random.default_rng([seed, stream]).choice(len(docs), size=size, replace=False)
    return [docs[i] for i in sorted(picked.tolist())]


def run(args: argparse.Namespace) -> dict:
    positives, _ = read_labeled([args.positives], 1, POSITIVE_FIELDS, describe_files=False)
    negatives, _ = read_labeled([args.negatives], 0, NEGATIVE_FIELDS, describe_files=False)
    results: dict = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="balance-bench-") as tmp:
        for seed in range(args.seeds):
            pos = _sample(positives, args.n_pos, seed, 10)
            neg = _sample(negatives, args.n_neg, seed, 11)
            for mode in MODES:
                config = TrainConfig(dim=args.dim, bucket=args.bucket, seed=seed, holdout=args.holdout,
                                     text_prep=args.text_prep, balance=mode)
                result = train_classifier(pos, neg, f"{tmp}/{mode}.bin", config)
                held = result.metrics["heldout"]
                row = {"seed": seed, **{m: held[m] for m in METRICS},
                       "train": result.metrics["balance"]["after"],
                       "heldout": result.metrics["documents"]["heldout"]}
                results[mode].append(row)
                print(f"seed {seed}  {mode:<10} " + "  ".join(f"{m} {held[m]:.3f}" for m in METRICS)
                      + f"  trained on {row['train']['positive']} + {row['train']['negative']}, "
                        f"held out {row['heldout']['positive']} + {row['heldout']['negative']}",
                      flush=True)
    summary = {mode: {m: statistics.mean(r[m] for r in rows) for m in METRICS}
               for mode, rows in results.items()}
    return {"setup": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "runs": results, "mean": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--positives", type=Path, default=DEFAULT_POSITIVES)
    parser.add_argument("--negatives", type=Path, required=True,
                        help="output of `dclm run refinedweb --input ../shared/pool --output DIR`")
    parser.add_argument("--n-pos", type=int, default=162)
    parser.add_argument("--n-neg", type=int, default=1126)
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--bucket", type=int, default=200_000)
    parser.add_argument("--text-prep", default="dclm", choices=("dclm", "normalize"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    report = run(args)
    print(f"\nmean over {args.seeds} seeds ({args.n_pos} positives, {args.n_neg} negatives, "
          f"{args.holdout:.0%} held out by instruction / blog):")
    print("| balance | precision | recall | F1 | ROC-AUC |\n|---|---|---|---|---|")
    for mode, means in report["mean"].items():
        print(f"| {mode} | " + " | ".join(f"{means[m]:.3f}" for m in METRICS) + " |")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
