"""Balancing the two classes of a classifier's training split, with a seed.

DCLM (Li et al. 2024, App. G) trains its fastText filter on equal numbers of
positives and negatives (200k and 200k). When one class is much smaller, a
fastText model trained on the raw mix learns the prior: its P(hq) for a
positive stays under 0.5, and any fixed threshold misplaces the cut. Three
modes, applied to the training split only (the held-out split is what the
metrics measure, so it keeps its real mix):

* ``upsample``: the smaller class is repeated to the size of the larger:
  every document as many whole times as fit, then a seeded draw without
  replacement for the rest, so no document is repeated more than once more
  than any other;
* ``downsample``: a seeded draw without replacement from the larger class,
  down to the size of the smaller (what DCLM's 200k/200k amounts to);
* ``none``: as read.

The result keeps the input order of the documents it kept (repeats follow
the originals); ``pipelines.classifier_training.data.shuffled`` orders it for training.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from pipelines.classifier_training.data import LabeledDoc

BALANCE_MODES = ("upsample", "downsample", "none")


def class_counts(docs: Sequence[LabeledDoc]) -> dict[str, int]:
    positives = sum(1 for d in docs if d.label == 1)
    return {"positive": positives, "negative": len(docs) - positives}


def _repeated_to(members: list[int], size: int, rng: np.random.Generator) -> list[int]:
    """``members`` repeated up to ``size`` entries: whole copies, then a seeded partial copy."""
    whole, rest = divmod(size, len(members))
    extra = sorted(rng.choice(len(members), size=rest, replace=False).tolist()) if rest else []
    return members * whole + [members[i] for i in extra]


def balance(docs: Sequence[LabeledDoc], mode: str, seed: int) -> list[LabeledDoc]:
    """The documents with both classes brought to one size by ``mode`` (see the module docstring)."""
    if mode not in BALANCE_MODES:
        raise ValueError(f"balance must be one of {', '.join(BALANCE_MODES)}, not {mode!r}")
    docs = list(docs)
    by_label = {label: [i for i, d in enumerate(docs) if d.label == label] for label in (0, 1)}
    small, large = sorted(by_label.values(), key=len)
    if mode == "none" or not small or len(small) == len(large):
        return docs
    rng = np.random.default_rng([seed, 4])
    if mode == "downsample":
        dropped = set(large) - set(rng.choice(large, size=len(small), replace=False).tolist())
        return [d for i, d in enumerate(docs) if i not in dropped]
    repeats = _repeated_to(small, len(large) - len(small), rng)
    return docs + [docs[i] for i in repeats]
