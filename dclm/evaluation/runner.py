"""Evaluating one model on one task set: load items, tokenize, score, compute metrics.

Tokenization follows OLMo's in-loop evaluator: context and continuation are
encoded separately (the continuation keeps its leading space), so every choice
of an item shares the same context tokens. Each context is preceded by the
end-of-text token, which is how our models saw the start of every training
document (DCLM/open_lm put ``<|endoftext|>`` between documents); held-out
passages are scored the same way, from the token after end-of-text.

The choices of a multiple-choice item share their context, so they are scored
in one packed row (``dclm.evaluation.packed_choices``) when the model accepts
explicit positions and a mask, as ours does: the same numbers for a third of
the work. Items whose choices differ in context (Winogrande) and single
continuations go the plain way (``dclm.evaluation.scoring``).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import torch

from dclm.evaluation.heldout_text import load_heldout_set
from dclm.evaluation.metrics import bits_per_byte, task_metrics
from dclm.evaluation.packed_choices import ChoiceGroup, model_accepts_packing, packable, score_groups
from dclm.evaluation.scoring import Score, count_windows, score_requests
from dclm.evaluation.tasks import Item, TaskSet, TaskSpec, available_tasks, load_items, subsample


@dataclass
class EvalResults:
    """Per-task metrics (keyed by task name), held-out bits per byte per set, and what could not run.

    ``excluded`` counts, per task or held-out set, the items left out because
    they overlap the training pool (see ``dclm.evaluation.item_contamination``).
    """

    task_set: TaskSet
    tasks: dict[str, dict] = field(default_factory=dict)
    specs: dict[str, TaskSpec] = field(default_factory=dict)
    heldout: dict[str, dict] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def encode_texts(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text, without special tokens; each distinct text is encoded once."""
    unique = sorted(set(texts))
    if hasattr(tokenizer, "encode_batch"):          # a tokenizers.Tokenizer
        encoded = tokenizer.encode_batch(unique, add_special_tokens=False)
        ids = {text: list(e.ids) for text, e in zip(unique, encoded, strict=True)}
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
    return [([eos] + ctx + cont, 1 + len(ctx)) for ctx, cont in zip(contexts, continuations, strict=True)]


def _regroup(items: Sequence[Item], flat: list) -> list[list]:
    grouped, k = [], 0
    for item in items:
        grouped.append(flat[k:k + len(item.choices)])
        k += len(item.choices)
    return grouped


class _TaskWork:
    """One task's requests, split into packed groups (choices sharing a context) and plain requests."""

    def __init__(self, items: Sequence[Item], requests: list[tuple[list[int], int]], max_len: int, pack: bool):
        self.requests = requests
        self.groups: list[ChoiceGroup] = []
        self.group_members: list[list[int]] = []     # request indices of each group, in choice order
        self.plain: list[int] = []
        k = 0
        for item in items:
            members = list(range(k, k + len(item.choices)))
            k += len(item.choices)
            contexts = {tuple(requests[i][0][:requests[i][1]]) for i in members}
            if pack and len(members) > 1 and len(contexts) == 1:
                context = next(iter(contexts))
                group = ChoiceGroup(context, tuple(tuple(requests[i][0][requests[i][1]:]) for i in members))
                if packable(group, max_len):
                    self.groups.append(group)
                    self.group_members.append(members)
                    continue
            self.plain.extend(members)

    @classmethod
    def plain_only(cls, requests: list[tuple[list[int], int]]) -> "_TaskWork":
        """Whole passages: each request is scored in consecutive windows, nothing is packed."""
        work = cls([], requests, 0, pack=False)
        work.plain = list(range(len(requests)))
        return work

    def units(self, max_len: int) -> int:
        return len(self.groups) + count_windows([self.requests[i] for i in self.plain], max_len)

    def score(self, model, *, max_len: int, vocab_size: int, device, pad_id: int, on_done) -> list[Score]:
        out: list[Optional[Score]] = [None] * len(self.requests)
        if self.plain:
            plain = score_requests(model, [self.requests[i] for i in self.plain], max_len=max_len,
                                   vocab_size=vocab_size, device=device, pad_id=pad_id, on_windows_done=on_done)
            for i, score in zip(self.plain, plain, strict=True):
                out[i] = score
        if self.groups:
            packed = score_groups(model, self.groups, max_len=max_len, vocab_size=vocab_size, device=device,
                                  pad_id=pad_id, on_rows_done=on_done)
            for members, scores in zip(self.group_members, packed, strict=True):
                for i, score in zip(members, scores, strict=True):
                    out[i] = score
        return out          # type: ignore[return-value]


def _without(items: list, key_of, excluded: Optional[set]) -> tuple[list, int]:
    if not excluded:
        return items, 0
    kept = [item for item in items if key_of(item) not in excluded]
    return kept, len(items) - len(kept)


def evaluate_model(model: torch.nn.Module, tokenizer, *, eos_id: int, max_len: int, vocab_size: int,
                   task_set: TaskSet, device: str = "cpu", progress: bool = True,
                   root: Optional[Path] = None, include_heldout: bool = True,
                   exclusions: Optional[dict[str, set]] = None) -> EvalResults:
    """Every available task of ``task_set`` plus held-out bits per byte; missing tasks are listed, not fatal.

    ``exclusions`` maps a task name to doc ids, or a held-out set to passage
    ids, that must not be scored (contaminated items). They are removed
    before the seeded subsample, so a task keeps its full count of items.
    """
    from tqdm import tqdm

    started = time.monotonic()
    exclusions = exclusions or {}
    specs, missing = available_tasks(task_set, root)
    results = EvalResults(task_set=task_set, missing=list(missing))
    pack = model_accepts_packing(model)
    work: list[tuple[str, Optional[TaskSpec], list, _TaskWork]] = []
    for spec in specs:
        items, dropped = _without(load_items(spec, root=root), lambda it: it.doc_id, exclusions.get(spec.name))
        items = subsample(items, task_set.items_per_task, task_set.seed, spec.name)
        results.excluded[spec.name] = dropped
        work.append((spec.name, spec, items, _TaskWork(items, item_requests(items, tokenizer, eos_id), max_len, pack)))
    if include_heldout:
        for name in task_set.heldout_sets:
            try:
                docs = load_heldout_set(name, task_set.bpb_documents, task_set.seed, root)
            except FileNotFoundError:
                results.missing.append(name)
                continue
            docs, results.excluded[name] = _without(docs, lambda d: d.story_id, exclusions.get(name))
            ids = encode_texts(tokenizer, [d.text for d in docs])
            work.append((name, None, docs, _TaskWork.plain_only([([eos_id] + x, 1) for x in ids])))

    total = sum(w.units(max_len) for _, _, _, w in work)
    bar = tqdm(total=total, desc="eval", unit="seq", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    try:
        for name, spec, items, task_work in work:
            bar.set_description(name)
            scores = task_work.score(model, max_len=max_len, vocab_size=vocab_size, device=device,
                                     pad_id=eos_id, on_done=bar.update)
            if spec is None:
                results.heldout[name] = {"name": name, **bits_per_byte([d.text for d in items], scores),
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
        pairs = [(d.text, s) for d, s in zip(docs, scores, strict=True) if d.domain == domain]
        out[domain] = bits_per_byte([t for t, _ in pairs], [s for _, s in pairs])["bits_per_byte"]
    return out
