"""Scoring every choice of a multiple-choice item in one row: the context once, the continuations after it.

Most of what a multiple-choice evaluation computes is the context, repeated
once per choice: on SciQ the context is 98% of the characters, on BoolQ 99%,
on HellaSwag 63%. Here the row holds the context once, followed by every
continuation; an attention mask lets each continuation see the context and
itself, never another continuation, and explicit rotary positions restart
each continuation right after the context. Each choice's log-likelihood is
then the one a separate ``context + continuation`` row would give (up to
float rounding), for a third of the work or less.

Left truncation: when context plus the longest continuation exceed the
model's window, the context keeps its last tokens so that the longest
continuation fits, and every choice sees that same context. (Scored one by
one, shorter choices would see a few more context tokens; here all choices
are judged on equal terms.) A continuation that alone fills the window
cannot be packed; ``packable`` says so and the caller scores it the plain way.

Determinism: the plan (row order, batches) depends only on the token lists,
so the same model, inputs and device give bit-identical numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch

from dclm.evaluation.scoring import Score, batch_token_budget, batches_by_width, scored_logits, target_logprobs


@dataclass(frozen=True)
class ChoiceGroup:
    """Continuations that share one context. ``context`` starts with the end-of-text token."""

    context: tuple[int, ...]
    continuations: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class _Row:
    group: int
    tokens: list[int]
    positions: list[int]
    segments: list[int]            # 0 for the context, j + 1 for continuation j
    scored: list[tuple[int, int, int]]   # (row position predicting it, target token, choice)


def model_accepts_packing(model) -> bool:
    return bool(getattr(model, "accepts_positions_and_mask", False))


def packable(group: ChoiceGroup, max_len: int) -> bool:
    """True when every continuation fits the window after at least one context token."""
    return (len(group.context) >= 1 and bool(group.continuations)
            and all(1 <= len(c) <= max_len for c in group.continuations))


def _layout(index: int, group: ChoiceGroup, max_len: int) -> _Row:
    longest = max(len(c) for c in group.continuations)
    keep = min(len(group.context), max_len + 1 - longest)
    context = list(group.context[-keep:])
    tokens, positions, segments = list(context), list(range(keep)), [0] * keep
    scored = []
    for j, continuation in enumerate(group.continuations):
        start = len(tokens)
        # The first continuation token is predicted by the last context token;
        # token i > 0 by continuation token i - 1, which sits at start + i - 1.
        scored.append((keep - 1, continuation[0], j))
        scored += [(start + i - 1, continuation[i], j) for i in range(1, len(continuation))]
        tokens += continuation[:-1]          # the last token is only ever a target
        positions += range(keep, keep + len(continuation) - 1)
        segments += [j + 1] * (len(continuation) - 1)
    return _Row(index, tokens, positions, segments, scored)


def _mask(segments: torch.Tensor) -> torch.Tensor:
    """[B, T, T]: a query sees earlier keys of the context or of its own segment; padding sees itself."""
    length = segments.shape[1]
    index = torch.arange(length)
    causal = index[None, :] <= index[:, None]
    key_seg, query_seg = segments[:, None, :], segments[:, :, None]
    visible = causal & ((key_seg == 0) | (key_seg == query_seg)) & (query_seg >= 0)
    return visible | (torch.eye(length, dtype=torch.bool)[None] & (query_seg < 0))


def _batches(rows: list[_Row], token_budget: int) -> list[list[_Row]]:
    ordered = sorted(rows, key=lambda r: (-len(r.tokens), r.group))
    return batches_by_width(ordered, lambda r: len(r.tokens), token_budget)


@torch.inference_mode()
def score_groups(model: torch.nn.Module, groups: Sequence[ChoiceGroup], *, max_len: int, vocab_size: int,
                 device: str | torch.device = "cpu", pad_id: int = 0, token_budget: Optional[int] = None,
                 on_rows_done: Optional[Callable[[int], None]] = None) -> list[list[Score]]:
    """One ``Score`` per continuation of every group (every group must be ``packable``)."""
    for i, group in enumerate(groups):
        if not packable(group, max_len):
            raise ValueError(f"group {i} does not fit a window of {max_len} tokens; score it unpacked")
    rows = [_layout(i, group, max_len) for i, group in enumerate(groups)]
    budget = token_budget or batch_token_budget(vocab_size, max_len)
    logprob = [[0.0] * len(g.continuations) for g in groups]
    counted = [[0] * len(g.continuations) for g in groups]
    greedy = [[True] * len(g.continuations) for g in groups]
    was_training = model.training
    model.eval()
    try:
        for batch in _batches(rows, budget):
            width = len(batch[0].tokens)
            tokens = torch.full((len(batch), width), pad_id, dtype=torch.long)
            positions = torch.zeros((len(batch), width), dtype=torch.long)
            segments = torch.full((len(batch), width), -1, dtype=torch.long)
            at_rows, at_positions, targets, owners = [], [], [], []
            for r, row in enumerate(batch):
                n = len(row.tokens)
                tokens[r, :n] = torch.as_tensor(row.tokens, dtype=torch.long)
                positions[r, :n] = torch.as_tensor(row.positions, dtype=torch.long)
                segments[r, :n] = torch.as_tensor(row.segments, dtype=torch.long)
                for position, target, choice in row.scored:
                    at_rows.append(r)
                    at_positions.append(position)
                    targets.append(target)
                    owners.append((row.group, choice))
            picked = scored_logits(model, tokens.to(device), at_rows, at_positions,
                                   positions=positions.to(device), attention_mask=_mask(segments).to(device))
            token_lp, hits = target_logprobs(picked, targets)
            for (g, j), lp, hit in zip(owners, token_lp, hits, strict=True):
                logprob[g][j] += lp
                counted[g][j] += 1
                greedy[g][j] = greedy[g][j] and hit
            if on_rows_done:
                on_rows_done(len(batch))
    finally:
        model.train(was_training)
    return [[Score(logprob[g][j], counted[g][j], greedy[g][j]) for j in range(len(groups[g].continuations))]
            for g in range(len(groups))]
