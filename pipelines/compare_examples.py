"""What each recipe kept, as a reader sees it: the five highest- and five lowest-scored documents.

A table of bits per byte says which data won, not what the data was. The
classifier's extremes show what it prefers: for a recipe that scored its
documents (a ``classify_fasttext_hq_prob_enricher`` step) its own column is
used; for any other recipe its kept documents are scored with the reference
classifier, so every recipe is shown on the same scale. Ties go to the
smaller document id, so the choice is deterministic.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

SHOWN = 5
CHARS = 300


def _score_column(recipe) -> Optional[str]:
    for step in recipe.steps:
        if step.name == "classify_fasttext_hq_prob_enricher":
            return step.kwargs.get("key", "fasttext_hq_prob")
    return None


def _cut(text: str) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= CHARS else flat[:CHARS - 1] + "…"


def recipe_examples(recipe, curated_dir: Path) -> dict:
    """{"score": which score, "highest": [...], "lowest": [...]} for one recipe's curated shards."""
    import pyarrow.parquet as pq

    from dclm.io.inputs import resolve_document_inputs
    from filters.quality_classifier import REFERENCE_MODEL, score_texts

    column = _score_column(recipe)
    ids: list[str] = []
    texts: list[str] = []
    scores: list[float] = []
    for shard in resolve_document_inputs([str(curated_dir)]):
        names = pq.ParquetFile(shard).schema_arrow.names
        wanted = ["id", "text"] + ([column] if column and column in names else [])
        table = pq.read_table(shard, columns=wanted)
        ids += [str(x) for x in table.column("id").to_pylist()]
        texts += table.column("text").to_pylist()
        if len(wanted) == 3:
            scores += [float(x) for x in table.column(column).to_pylist()]
    if column and len(scores) == len(texts):
        source = f"the recipe's own {column}"
        values = np.asarray(scores, dtype=np.float64)
    else:
        source = f"P(hq) under the reference classifier ({REFERENCE_MODEL}), computed for this report"
        values = score_texts(REFERENCE_MODEL, texts) if texts else np.zeros(0)
    # Highest first; equal scores in id order.
    order = sorted(range(len(texts)), key=lambda i: (-values[i], ids[i]))
    pick = (lambda idx: [{"id": ids[i], "score": round(float(values[i]), 6), "text": _cut(texts[i])}
                         for i in idx])
    lowest = sorted(range(len(texts)), key=lambda i: (values[i], ids[i]))[:SHOWN]
    return {"score": source, "documents": len(texts), "highest": pick(order[:SHOWN]), "lowest": pick(lowest)}
