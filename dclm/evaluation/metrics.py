"""From per-choice log-likelihoods to task metrics, and from passage log-likelihoods to bits per byte.

Multiple choice, for each item, picks the choice with the highest score:

* ``acc_raw``: the summed log-probability of the choice's tokens;
* ``acc_per_token``: that sum divided by the choice's token count. This is
  llm-foundry's InContextLearningMultipleChoiceAccuracy (lowest mean per-token
  cross-entropy, i.e. perplexity) that DCLM's numbers come from, so it is the
  value we report in ``eval_metrics.icl``;
* ``acc_per_char``: the sum divided by the continuation's length in characters,
  leading space included (OLMES's ``acc_per_char``, OLMo's ``len_norm``);
  reported alongside because OLMES picks it as primary for several tasks.

Ties go to the lowest index. ``bpb_gold`` is the gold continuation's bits per
UTF-8 byte, averaged over items (OLMo's in-loop ``bpb``): a smooth signal
that moves before accuracy leaves chance.

``p_gold_norm`` is the probability mass on the gold choice once the choices'
probabilities are normalised to sum to one, ``exp(lp_gold) / sum_j exp(lp_j)``
over the summed log-probabilities, averaged over items (DataDecide's
"normalized correct probability", Magnusson et al. 2025). Like ``bpb_gold``
it is continuous, so it separates models whose accuracies are all at chance.

LM tasks (LAMBADA) count an item correct when every continuation token is the
model's greedy choice (llm-foundry's InContextLearningLMAccuracy).

BPB tasks (Jeopardy, SQuAD, CoQA: one gold answer, no choices) report
``bpb_gold`` alone.

Bits per byte of held-out text is total bits over total bytes (not a mean of
per-passage ratios), so long passages weigh by their length.
"""
from __future__ import annotations

import math
from typing import Sequence

from dclm.evaluation.scoring import Score
from dclm.evaluation.tasks import BPB, LM, Item

LN2 = math.log(2.0)


def _best(values: Sequence[float]) -> int:
    """Index of the largest value; the first one on ties."""
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


def gold_bits_per_byte(item: Item, scores: Sequence[Score]) -> float:
    continuation = item.choices[item.gold][1]
    return -scores[item.gold].logprob / LN2 / max(1, len(continuation.encode("utf-8")))


def gold_probability_share(item: Item, scores: Sequence[Score]) -> float:
    """exp(lp_gold) / sum_j exp(lp_j), computed stably in log space."""
    lp = [s.logprob for s in scores]
    top = max(lp)
    return math.exp(lp[item.gold] - top) / sum(math.exp(x - top) for x in lp)


def task_metrics(kind: str, items: Sequence[Item], scores: Sequence[Sequence[Score]]) -> dict:
    """Metrics of one task; ``scores[i][j]`` is choice j of item i. ``acc`` is the reported accuracy."""
    if len(items) != len(scores):
        raise ValueError(f"{len(items)} items but {len(scores)} score lists")
    if not items:
        raise ValueError("no items to score")
    n = len(items)
    bpb = sum(gold_bits_per_byte(item, s) for item, s in zip(items, scores, strict=True)) / n
    if kind == BPB:
        return {"bpb_gold": bpb, "items": n}
    if kind == LM:
        acc = sum(1 for s in scores if s[0].greedy) / n
        return {"acc": acc, "bpb_gold": bpb, "items": n}
    raw = per_token = per_char = 0
    share = 0.0
    for item, choice_scores in zip(items, scores, strict=True):
        share += gold_probability_share(item, choice_scores)
        lp = [s.logprob for s in choice_scores]
        raw += _best(lp) == item.gold
        per_token += _best([x / max(1, s.num_tokens) for x, s in zip(lp, choice_scores, strict=True)]) == item.gold
        per_char += _best([x / max(1, len(c[1])) for x, c in zip(lp, item.choices, strict=True)]) == item.gold
    return {"acc": per_token / n, "acc_raw": raw / n, "acc_per_token": per_token / n,
            "acc_per_char": per_char / n, "bpb_gold": bpb, "p_gold_norm": share / n, "items": n}


def bits_per_byte(texts: Sequence[str], scores: Sequence[Score]) -> dict:
    """Sum of token negative log-likelihoods in bits over the texts' UTF-8 bytes."""
    bits = sum(-s.logprob for s in scores) / LN2
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_tokens = sum(s.num_tokens for s in scores)
    return {"bits_per_byte": bits / n_bytes, "bits_per_token": bits / max(1, n_tokens),
            "bytes": n_bytes, "tokens": n_tokens, "documents": len(texts)}
