"""Real inputs for the submission and leaderboard tests, made once per test session with the real CLI.

`dclm run dclm_baseline_heuristics` curates the bundled sample, `dclm tokenize`,
`dclm train` and `dclm eval` do the rest. A full micro run takes minutes, so the
tests register a tiny fixed scale (micro's tokenizer, 2 small layers, 12 steps)
and shrink the "micro" task set to 3 tasks x 6 items, the way
tests/test_tokenize_train.py and tests/test_evaluation.py do. Validation
then treats "tiny" as one of the fixed scales, exactly as it treats micro.

Made here:
  dataset/             the curated shards, ledgers and stats.json
  tokens/              tokenized for "tiny"
  seed0/, seed1/       complete runs (two seeds), each evaluated
  short/               a run stopped after 4 of 12 steps
  tokens_lr/, lr/      the same, tokenized and trained by a submitter whose scales.py sets lr=0.01
                       for "tiny" (evaluated), for the not-comparable checks
"""
from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR, invoke_cli

from dclm.evaluation import tasks as tasks_module
from dclm.training.scales import SCALES, get_scale

TINY = dataclasses.replace(get_scale("micro"), name="tiny", d_model=32, n_heads=2, n_layers=2, ffn_hidden=96,
                           seq_len=64, global_batch=8, micro_batch=4, warmup_steps=3, tokens=12 * 8 * 64)
TINY_LR = dataclasses.replace(TINY, lr=0.01)
_BY_NAME = {spec.name: spec for spec in tasks_module.CORE_TASKS}
TINY_SET = tasks_module.TaskSet("micro", tuple(_BY_NAME[n] for n in ("arc_easy", "piqa", "lambada_openai")),
                                items_per_task=6, bpb_documents=5)
RECIPE = "dclm_baseline_heuristics"


@contextlib.contextmanager
def registered(scale=TINY):
    """``scale`` as the fixed scale "tiny" and the small task set as "micro", for the duration."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(SCALES, "tiny", scale)
        patch.setitem(tasks_module.TASK_SETS, "micro", TINY_SET)
        yield


class Inputs:
    """Paths of the made inputs (see the module docstring)."""

    def __init__(self, root: Path):
        self.root = root
        self.dataset, self.tokens, self.tokens_lr = root / "dataset", root / "tokens", root / "tokens_lr"
        self.seed0, self.seed1, self.short, self.lr = root / "seed0", root / "seed1", root / "short", root / "lr"


def _cli(*args) -> None:
    result = invoke_cli(*args)
    assert result.code == 0, result


def build_inputs(base: Path) -> Inputs:
    """Make the inputs under ``base`` unless an earlier test module of this session already did."""
    inputs = Inputs(base)
    if (base / "complete").exists():
        return inputs
    with registered(TINY):
        _cli("run", RECIPE, "--input", SAMPLE_DIR, "--output", inputs.dataset)
        _cli("tokenize", "--input", inputs.dataset, "--scale", "tiny", "--output", inputs.tokens)
        for seed in (0, 1):
            run = base / f"seed{seed}"
            _cli("train", "--data", inputs.tokens, "--scale", "tiny", "--seed", seed, "--threads", 1, "--output", run)
            _cli("eval", run)
        _cli("train", "--data", inputs.tokens, "--scale", "tiny", "--threads", 1, "--stop-after", 4,
             "--checkpoint-every", 4, "--output", inputs.short)
    with registered(TINY_LR):
        _cli("tokenize", "--input", inputs.dataset, "--scale", "tiny", "--output", inputs.tokens_lr)
        _cli("train", "--data", inputs.tokens_lr, "--scale", "tiny", "--threads", 1, "--output", inputs.lr)
        _cli("eval", inputs.lr)
    (base / "complete").touch()
    return inputs


def submit(inputs: Inputs, run: Path, output: Path, *options, name: str = "") -> None:
    """`dclm submit` of one run over the curated dataset; must succeed."""
    _cli("submit", "--dataset", inputs.dataset, "--run", run, "--recipe", RECIPE, "--name", name or run.name,
         "--output", output, *options)
