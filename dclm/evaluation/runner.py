"""Evaluating one model on one task set: load items, tokenize, score, compute metrics.

Tokenization follows OLMo's in-loop evaluator: context and continuation are
encoded separately (the continuation keeps its leading space), so every choice
of an item shares the same context tokens. Each context is preceded by the
end-of-text token, which is how our models saw the start of every training
document (DCLM/open_lm put ``<|endoftext|>`` between documents); held-out
passages are scored the same way, from the token after end-of-text.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import torch

from dclm.evaluation.heldout_text import HELDOUT_NAME, load_heldout_documents
from dclm.evaluation.metrics import bits_per_byte, task_metrics
from dclm.evaluation.scoring import count_windows, score_requests
from dclm.evaluation.tasks import Item, TaskSet, TaskSpec, available_tasks, load_items


@dataclass
class EvalResults:
    """Per-task metrics (keyed by task name), held-out bits per byte, and what could not run."""

    task_set: TaskSet
    tasks: dict[str, dict] = field(default_factory=dict)
    specs: dict[str, TaskSpec] = field(default_factory=dict)
    heldout: Optional[dict] = None
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0


def encode_texts(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text, without special tokens; each distinct text is encoded once."""
    unique = sorted(set(texts))
    if hasattr(tokenizer, "encode_batch"):          # a tokenizers.Tokenizer
        encoded = tokenizer.encode_batch(unique, add_special_tokens=False)
        ids = {text: list(e.ids) for text, e in zip(unique, encoded)}
    else:                                            # anything with encode(text) -> ids
        ids = {}
        for text in unique:
            out = tokenizer.encode(text)
            ids[text] = list(getattr(out, "ids", out))
    return [ids[text] for text in texts]


def item_requests(items: Sequence[Item], tokenizer, eos: int) -> list[tuple[list[int], int]]:
    """One (tokens, start) request per choice of every item, in item then choice order."""
    pairs = [choice for item in items for choice in item.choices]
    contexts = encode_texts(tokenizer, [c for c, _ in pairs])
    continuations = encode_texts(tokenizer, [x for _, x in pairs])
    return [([eos] + ctx + cont, 1 + len(ctx)) for ctx, cont in zip(contexts, continuations)]


def _regroup(items: Sequence[Item], flat: list) -> list[list]:
    grouped, k = [], 0
    for item in items:
        grouped.append(flat[k:k + len(item.choices)])
        k += len(item.choices)
    return grouped


def evaluate_model(model: torch.nn.Module, tokenizer, *, eos_id: int, max_len: int, vocab_size: int,
                   task_set: TaskSet, device: str = "cpu", progress: bool = True,
                   root: Optional[Path] = None, include_heldout: bool = True) -> EvalResults:
    """Every available task of ``task_set`` plus held-out bits per byte; missing tasks are listed, not fatal."""
    from tqdm import tqdm

    started = time.monotonic()
    specs, missing = available_tasks(task_set, root)
    results = EvalResults(task_set=task_set, missing=list(missing))
    work: list[tuple[str, Optional[TaskSpec], list, list]] = []
    for spec in specs:
        items = load_items(spec, task_set.items_per_task, task_set.seed, root)
        work.append((spec.name, spec, items, item_requests(items, tokenizer, eos_id)))
    if include_heldout:
        try:
            docs = load_heldout_documents(task_set.bpb_documents, task_set.seed, root)
        except FileNotFoundError:
            results.missing.append(HELDOUT_NAME)
        else:
            ids = encode_texts(tokenizer, [d.text for d in docs])
            work.append((HELDOUT_NAME, None, docs, [([eos_id] + x, 1) for x in ids]))

    total = sum(count_windows(requests, max_len) for _, _, _, requests in work)
    bar = tqdm(total=total, desc="eval", unit="seq", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    try:
        for name, spec, items, requests in work:
            bar.set_description(name)
            scores = score_requests(model, requests, max_len=max_len, vocab_size=vocab_size, device=device,
                                    pad_id=eos_id, on_windows_done=bar.update)
            if spec is None:
                results.heldout = {"name": name, **bits_per_byte([d.text for d in items], scores),
                                   "by_domain": _by_domain(items, scores)}
            else:
                results.tasks[name] = task_metrics(spec.kind, items, _regroup(items, scores))
                results.specs[name] = spec
    finally:
        bar.close()
    results.seconds = time.monotonic() - started
    return results


def _by_domain(docs, scores) -> dict[str, float]:
    domains = sorted({d.domain for d in docs})
    out = {}
    for domain in domains:
        pairs = [(d.text, s) for d, s in zip(docs, scores) if d.domain == domain]
        out[domain] = bits_per_byte([t for t, _ in pairs], [s for _, s in pairs])["bits_per_byte"]
    return out
