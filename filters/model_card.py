"""The card beside a quality model: ``<model>.metrics.json``, and what scoring reads from it.

``dclm classifier train`` and ``build-reference`` write, beside every model,
a JSON card with its data, configuration, held-out metrics, sha256 and the
text preparation it was trained with (``text_prep``: ``dclm`` or
``normalize``, see ``filters.fasttext_text``). Scoring must prepare text the
same way, so ``filters.quality_classifier`` takes ``text_prep`` from the
card when there is one. A card is only believed when it describes this very
file: one whose ``model_sha256`` differs (the model was replaced, the card
was not) is ignored with a warning, and scoring falls back to guessing the
preparation from the model's vocabulary.
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Optional

from dclm.io.digests import file_sha256
from filters.fasttext_text import TEXT_PREPS

METRICS_SUFFIX = ".metrics.json"


def metrics_path_for(model_path: str) -> str:
    """``quality.bin`` -> ``quality.metrics.json``, beside the model."""
    return os.path.splitext(model_path)[0] + METRICS_SUFFIX


def card_stamp(model_path: str) -> tuple[int, int]:
    """(mtime_ns, size) of the card, (0, -1) without one: part of a loaded model's cache key."""
    try:
        stat = os.stat(metrics_path_for(model_path))
    except OSError:
        return 0, -1
    return stat.st_mtime_ns, stat.st_size


def read_card(model_path: str) -> Optional[dict]:
    """The card of ``model_path`` if one exists beside it, is JSON and matches the model's sha256."""
    path = metrics_path_for(model_path)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            card = json.load(fh)
    except (OSError, ValueError) as exc:
        warnings.warn(f"{path}: unreadable model card ({exc}); ignoring it", RuntimeWarning, stacklevel=1)
        return None
    if not isinstance(card, dict):
        warnings.warn(f"{path}: model card is not a JSON object; ignoring it", RuntimeWarning, stacklevel=1)
        return None
    recorded = card.get("model_sha256")
    if recorded and recorded != file_sha256(model_path):
        warnings.warn(f"{path} describes another file (sha256 {str(recorded)[:16]}...) than "
                      f"{os.path.basename(model_path)}; ignoring it", RuntimeWarning, stacklevel=1)
        return None
    return card


def card_text_prep(card: Optional[dict]) -> Optional[str]:
    """The card's ``text_prep``, or None when it has no valid one (older cards)."""
    prep = (card or {}).get("text_prep")
    return prep if prep in TEXT_PREPS else None
