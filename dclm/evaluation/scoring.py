"""Log-likelihood of token continuations under a causal LM, batched and padded.

Everything the evaluation measures reduces to one question: given tokens
``t[0..n)``, what are ``log p(t[i] | t[<i])`` for ``i >= start``, and was each
``t[i]`` the model's greedy choice? Multiple choice asks it for context +
choice (``start`` = first choice token), LAMBADA for context + last word, bits
per byte for a whole passage (``start`` = 1, after the end-of-text token).

Sequences longer than the model's window are cut into windows of at most
``max_len`` inputs. The first window keeps as much left context as fits (for
MC that drops the oldest context tokens, as OLMo and the EAI harness do);
later windows of a long passage are consecutive, non-overlapping chunks.

The model is only asked for ``forward(input_ids[B, T]) -> logits[B, T, V]``.
Padding goes on the right, where a causal model cannot see it. Windows are
sorted longest first so batches pad little, and batches are capped by a
logits budget (B x T x V floats) so a 50k vocabulary does not exhaust memory.

Determinism: the plan (order, batches) depends only on the token lists, and
sums are accumulated in float64 in that fixed order, so the same model, inputs,
device and thread count give bit-identical numbers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch

LOGITS_BUDGET = 1 << 26        # floats of logits per batch (256 MiB in float32)
MAX_BATCH_TOKENS = 16384       # beyond this, CPU batches get no faster, only bigger
SOFTMAX_ROWS = 2048            # scored positions per log-softmax slice (bounds the temporaries)


@dataclass(frozen=True)
class Score:
    """Sum of natural-log probabilities of the scored tokens, their count, greedy-match flag."""

    logprob: float
    num_tokens: int
    greedy: bool


@dataclass(frozen=True)
class _Window:
    request: int       # index into the request list
    lo: int            # inputs are tokens[lo:hi]
    hi: int
    first: int         # first scored target index (targets are tokens[first:hi + 1])


def plan_windows(n_tokens: int, start: int, max_len: int) -> list[tuple[int, int, int]]:
    """(lo, hi, first) windows that score targets ``start..n_tokens-1`` with at most ``max_len`` inputs each."""
    if not 1 <= start <= n_tokens:
        raise ValueError(f"start {start} must be in 1..{n_tokens}: the first token has nothing to condition on")
    windows = []
    first = start
    while first < n_tokens:
        end = min(n_tokens, first + max_len)           # one past the last target of this window
        lo = max(0, end - 1 - max_len)                 # as much left context as fits
        windows.append((lo, end - 1, first))
        first = end
    return windows


def logits_of(model: torch.nn.Module, input_ids: torch.Tensor) -> torch.Tensor:
    """The model's logits, whether it returns a tensor, a tuple or an object with ``.logits``."""
    out = model(input_ids)
    if isinstance(out, torch.Tensor):
        return out
    if hasattr(out, "logits"):
        return out.logits
    return out[0]


def batch_token_budget(vocab_size: int, max_len: int) -> int:
    """Tokens per batch so that the logits stay within LOGITS_BUDGET (at least one full window)."""
    return max(max_len, min(MAX_BATCH_TOKENS, LOGITS_BUDGET // max(1, vocab_size)))


def batches_by_width(items: list, width, token_budget: int) -> list[list]:
    """``items`` (already sorted widest first) cut into batches of at most ``token_budget`` padded tokens.

    The first item of a batch is its widest, so it sets the padded width.
    """
    batches: list[list] = []
    current: list = []
    for item in items:
        if current and (len(current) + 1) * width(current[0]) > token_budget:
            batches.append(current)
            current = []
        current.append(item)
    if current:
        batches.append(current)
    return batches


def _batches(windows: list[_Window], token_budget: int) -> list[list[_Window]]:
    # Longest first (ties by request, then position): padding stays small and
    # the plan is a pure function of the inputs.
    ordered = sorted(windows, key=lambda w: (-(w.hi - w.lo), w.request, w.lo))
    return batches_by_width(ordered, lambda w: w.hi - w.lo, token_budget)


def count_windows(requests: Sequence[tuple[Sequence[int], int]], max_len: int) -> int:
    return sum(len(plan_windows(len(tokens), start, max_len)) for tokens, start in requests)


@torch.inference_mode()
def score_requests(model: torch.nn.Module, requests: Sequence[tuple[Sequence[int], int]], *, max_len: int,
                   vocab_size: int, device: str | torch.device = "cpu", pad_id: int = 0,
                   token_budget: Optional[int] = None,
                   on_windows_done: Optional[Callable[[int], None]] = None) -> list[Score]:
    """Score each ``(tokens, start)``: log-probabilities of ``tokens[start:]`` given what precedes them."""
    windows = [_Window(i, lo, hi, first)
               for i, (tokens, start) in enumerate(requests)
               for lo, hi, first in plan_windows(len(tokens), start, max_len)]
    budget = token_budget or batch_token_budget(vocab_size, max_len)
    logprob = [0.0] * len(requests)
    counted = [0] * len(requests)
    greedy = [True] * len(requests)
    was_training = model.training
    model.eval()
    try:
        for batch in _batches(windows, budget):
            _score_batch(model, requests, batch, device, pad_id, logprob, counted, greedy)
            if on_windows_done:
                on_windows_done(len(batch))
    finally:
        model.train(was_training)
    return [Score(logprob[i], counted[i], greedy[i]) for i in range(len(requests))]


def scored_logits(model, input_ids: torch.Tensor, rows: list[int], columns: list[int],
                  **packing) -> torch.Tensor:
    """Logits [N, V] at each (row, column) of the batch: only those go through the output layer
    when the model can stop at its hidden states (ours can), else every position does.
    ``packing`` is the packed rows' ``positions`` and ``attention_mask``, passed to the model."""
    at_rows = torch.as_tensor(rows, device=input_ids.device)
    at_positions = torch.as_tensor(columns, device=input_ids.device)
    if hasattr(model, "hidden_states") and hasattr(model, "project"):
        hidden = model.hidden_states(input_ids, **packing)
        return model.project(hidden[at_rows, at_positions])
    logits = model(input_ids, **packing) if packing else logits_of(model, input_ids)
    return logits[at_rows, at_positions]


def target_logprobs(picked: torch.Tensor, targets: list[int]) -> tuple[list[float], list[bool]]:
    """log p(target) under each row of logits ``picked`` [N, V], and whether it was the argmax.

    The exponentials are summed in float32 after subtracting each row's maximum
    (terms in (0, 1], so little is lost), the log and the differences in
    float64: uniform logits still give exactly log2(V) bits, at half the cost
    of a float64 log-softmax over the vocabulary.
    """
    target_ids = torch.as_tensor(targets, device=picked.device)
    hits = (picked.argmax(dim=-1) == target_ids).cpu().tolist()
    token_lp: list[float] = []
    for k in range(0, len(targets), SOFTMAX_ROWS):
        rows = picked[k:k + SOFTMAX_ROWS].float()
        top = rows.max(dim=-1).values
        total = torch.exp(rows - top[:, None]).sum(dim=-1)
        chosen = rows.gather(1, target_ids[k:k + SOFTMAX_ROWS, None])[:, 0]
        lp = (chosen.double() - top.double()) - torch.log(total.double())
        token_lp.extend(lp.cpu().tolist())
    return token_lp, hits


def _score_batch(model, requests, batch: list[_Window], device, pad_id: int,
                 logprob: list[float], counted: list[int], greedy: list[bool]) -> None:
    width = max(w.hi - w.lo for w in batch)
    inputs = torch.full((len(batch), width), pad_id, dtype=torch.long)
    rows, positions, targets = [], [], []
    for row, w in enumerate(batch):
        tokens = requests[w.request][0]
        inputs[row, : w.hi - w.lo] = torch.as_tensor(tokens[w.lo:w.hi], dtype=torch.long)
        for t in range(w.first, w.hi + 1):             # target index t is predicted at input t - 1
            rows.append(row)
            positions.append(t - 1 - w.lo)
            targets.append(tokens[t])
    token_lp, hits = target_logprobs(scored_logits(model, inputs.to(device), rows, positions), targets)
    k = 0
    for w in batch:
        n = w.hi + 1 - w.first
        logprob[w.request] += sum(token_lp[k:k + n])
        counted[w.request] += n
        greedy[w.request] = greedy[w.request] and all(hits[k:k + n])
        k += n
