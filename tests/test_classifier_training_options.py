"""`dclm classifier train` options: class balance, text preparation recorded and used, grouped JSONL splits."""
from __future__ import annotations

import gzip
import json
import random
import warnings

import numpy as np
import pytest
from conftest import invoke_cli

from filters import quality_classifier as qc
from filters.fasttext_text import dclm_line, prepare_texts
from pipelines.classifier_training.balance import balance, class_counts
from pipelines.classifier_training.data import Fields, LabeledDoc, input_files, read_labeled, split_holdout
from pipelines.classifier_training.training import TrainConfig, metrics_path_for, train_classifier, train_from_paths

SMALL = TrainConfig(dim=16, bucket=20_000, epoch=5, holdout=0.2, seed=7)
_GOOD = ("the answer explains why the method works , step by step , with an example . "
         "first consider the simple case ; then the general one follows from it .").split()
_BAD = "lol omg today was sooo boring !!! went to the mall lol bought stuff whatever ok bye".split()


def _docs(words, label, n, seed, case=True):
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) for _ in range(n)]
    return [LabeledDoc(t.capitalize() if case else t, label, f"{label}-{i}") for i, t in enumerate(texts)]


def _predict_hq(model, lines):
    """fastText's own P(__label__hq) for prepared lines, less the 1e-5 its predict adds."""
    labels, probs = model.model.predict(list(lines), k=-1)
    return np.array([p[list(line_labels).index("__label__hq")] - 1e-5
                     for line_labels, p in zip(labels, probs, strict=True)])


# --- balance -----------------------------------------------------------------------------

def test_balance_modes_are_seeded_and_exact():
    docs = _docs(_GOOD, 1, 7, 1) + _docs(_BAD, 0, 30, 2)
    up, down, none = (balance(docs, mode, seed=3) for mode in ("upsample", "downsample", "none"))
    assert class_counts(up) == {"positive": 30, "negative": 30}
    assert class_counts(down) == {"positive": 7, "negative": 7}
    assert none == docs and balance(docs, "upsample", seed=3) == up
    assert balance(docs, "downsample", seed=4) != down
    # Upsampling repeats whole copies first: every positive 4 or 5 times, never 3 or 6.
    copies = {d.text: sum(e is d for e in up) for d in docs[:7]}
    assert set(copies.values()) <= {4, 5}
    assert set(down) <= set(docs) and all(d in down for d in docs[:7])
    with pytest.raises(ValueError, match="balance"):
        balance(docs, "smote", seed=1)


def test_balance_applies_to_training_split_only_and_is_recorded(tmp_path):
    positives, negatives = _docs(_GOOD, 1, 20, 1), _docs(_BAD, 0, 80, 2)
    results = {mode: train_classifier(positives, negatives, str(tmp_path / f"{mode}.bin"),
                                      TrainConfig(**{**SMALL.__dict__, "balance": mode}))
               for mode in ("upsample", "downsample", "none")}
    heldout = {mode: r.metrics["documents"]["heldout"] for mode, r in results.items()}
    assert heldout["upsample"] == heldout["downsample"] == heldout["none"] == {"positive": 4, "negative": 16}
    for mode, result in results.items():
        card = json.loads(open(result.metrics_path).read())
        assert card["balance"]["mode"] == card["config"]["balance"] == mode
        assert card["balance"]["before"] == {"positive": 16, "negative": 64}
        assert card["documents"]["train"] == card["balance"]["after"]
    assert results["upsample"].metrics["balance"]["after"] == {"positive": 64, "negative": 64}
    assert results["downsample"].metrics["balance"]["after"] == {"positive": 16, "negative": 16}
    assert results["none"].metrics["balance"]["after"] == {"positive": 16, "negative": 64}
    assert TrainConfig().balance == "upsample"          # the measured default (see --help)


# --- text preparation --------------------------------------------------------------------

def test_dclm_prep_model_scores_exactly_as_fasttext_predict_on_dclm_lines(tmp_path):
    """DCLM scores with model.predict(" ".join(text.strip().splitlines())): so must we, via the card."""
    # Lower-case training text: the vocabulary looks normalized, so only the card can say "dclm".
    positives, negatives = _docs(_GOOD, 1, 40, 1, case=False), _docs(_BAD, 0, 40, 2, case=False)
    path = str(tmp_path / "dclm.bin")
    result = train_classifier(positives, negatives, path, TrainConfig(**{**SMALL.__dict__, "text_prep": "dclm"}))
    card = json.loads(open(metrics_path_for(path)).read())
    assert card["text_prep"] == "dclm" and card["config"]["text_prep"] == "dclm"
    model = qc.load_quality_model(path)
    assert (model.text_prep, model.text_prep_from) == ("dclm", "card")
    texts = ["  The Answer explains.\nThen the general one\r\nfollows!  ", "LOL omg\n\nbought stuff",
             "first consider\u2028the simple case", "", "Zürich 数据 🙂 step by step"]
    expected = _predict_hq(model, [dclm_line(t) for t in texts])
    assert np.max(np.abs(qc.score_texts(path, texts) - expected)) < 2e-6
    enriched = [qc.classify_fasttext_hq_prob_enricher({"id": "a", "text": t}, model_filename=path)[0]
                ["fasttext_hq_prob"] for t in texts]
    assert enriched == list(qc.score_texts(path, texts))
    # Had scoring guessed from the vocabulary, it would have lower-cased "The Answer": another score.
    assert qc.score_texts(path, texts[:1], normalize=True)[0] != pytest.approx(expected[0], abs=1e-6)
    assert result.metrics["heldout"]["roc_auc"] > 0.9


def test_label_tokens_are_left_out_as_fasttext_predict_does(tmp_path):
    positives, negatives = _docs(_GOOD, 1, 30, 1), _docs(_BAD, 0, 30, 2)
    path = str(tmp_path / "m.bin")
    train_classifier(positives, negatives, path, TrainConfig(**{**SMALL.__dict__, "text_prep": "dclm"}))
    texts = ["lol __label__hq omg bought stuff", "The answer __label__cc explains why"]
    assert prepare_texts(texts, "dclm") == ["lol omg bought stuff", "The answer explains why"]
    model = qc.load_quality_model(path)
    assert np.max(np.abs(model.probabilities(texts) - _predict_hq(model, texts))) < 2e-6


def test_card_for_another_file_is_ignored(tmp_path):
    positives, negatives = _docs(_GOOD, 1, 30, 1), _docs(_BAD, 0, 30, 2)
    path = str(tmp_path / "m.bin")
    train_classifier(positives, negatives, path, TrainConfig(**{**SMALL.__dict__, "text_prep": "normalize"}))
    assert qc.load_quality_model(path).text_prep_from == "card"
    card = json.loads(open(metrics_path_for(path)).read())
    card.update(text_prep="dclm", model_sha256="0" * 64)
    with open(metrics_path_for(path), "w") as fh:
        json.dump(card, fh)
    with pytest.warns(RuntimeWarning, match="describes another file"):
        model = qc.load_quality_model(path)
    assert (model.text_prep, model.text_prep_from) == ("normalize", "vocabulary")


# --- grouped splits from JSONL -----------------------------------------------------------

def _answers_file(path, instructions=12, answers=5):
    rng = random.Random(5)
    with gzip.open(path, "wt") as fh:
        for i in range(instructions):
            for m in range(answers):
                output = " ".join(rng.choice(_GOOD) for _ in range(40))
                fh.write(json.dumps({"instruction": f"Question {i}: explain case {i}.", "output": output,
                                     "model": f"m{m}"}) + "\n")


def test_text_and_group_fields_keep_an_instruction_on_one_side(tmp_path):
    _answers_file(tmp_path / "pos.jsonl.gz")
    fields = Fields(text=("instruction", "output"), group=("instruction",))
    docs, report = read_labeled([str(tmp_path / "pos.jsonl.gz")], 1, fields)
    assert len(docs) == 60 and report.groups == 12
    assert report.text_from == {"instruction+output": 60} and report.grouped_by == {"instruction": 60}
    assert docs[0].text.startswith("Question 0: explain case 0.\n\n")
    train, held = split_holdout(docs, 0.25, seed=1)
    assert held and not {d.group for d in train} & {d.group for d in held}
    assert len(held) % 5 == 0                               # whole instructions only


def test_url_groups_cut_the_fragment_and_stage_outputs_skip_dropped(tmp_path):
    from dclm.io.parquet_shards import write_rows

    out = tmp_path / "rw"
    (out / "data").mkdir(parents=True)
    (out / "dropped").mkdir(parents=True)
    rows = [{"id": str(i), "url": f"urn:blog:{i // 3}#{i}", "text": f"post {i}"} for i in range(9)]
    write_rows(str(out / "data" / "a.parquet"), rows)
    write_rows(str(out / "dropped" / "a.parquet"), [{"id": "x", "url": "urn:blog:9#1", "text": "dropped"}])
    assert input_files([str(out)]) == [str(out / "data" / "a.parquet"), str(out / "dropped" / "a.parquet")]
    (out / ".dclm").mkdir()                                 # now it is a stage's output folder
    assert input_files([str(out)]) == [str(out / "data" / "a.parquet")]
    docs, report = read_labeled([str(out)], 0, Fields(group=("url",)))
    assert report.groups == 3 and docs[4].group == "url=urn:blog:1"


def test_train_cli_with_text_and_group_fields(tmp_path):
    _answers_file(tmp_path / "pos.jsonl.gz")
    (tmp_path / "neg.txt").write_text("\n\n".join(d.text for d in _docs(_BAD, 0, 60, 2)))
    base = ["classifier", "train", "--positive", tmp_path / "pos.jsonl.gz", "--negative", tmp_path / "neg.txt",
            "--dim", 16, "--bucket", 20000, "--holdout", 0.25, "--text-prep", "dclm"]
    result = invoke_cli(*base, "--text-fields", "instruction,output", "--group-field", "instruction",
                        "--output", tmp_path / "m.bin")
    assert result.code == 0, result
    assert "balance upsample" in result.out and "text prep dclm" in result.out
    card = json.loads((tmp_path / "m.metrics.json").read_text())
    assert card["extra"]["inputs"]["positive"]["grouped_by"] == {"instruction": 60}
    assert card["extra"]["inputs"]["negative"]["grouped_by"] == {"document": 60}
    assert card["documents"]["groups"] == {"positive": 12, "negative": 60}
    assert card["documents"]["heldout"]["positive"] % 5 == 0
    assert card["extra"]["inputs"]["positive"]["files"][0]["sha256"]
    typo = invoke_cli(*base, "--text-fields", "instruction,output", "--group-field", "instructoin",
                      "--output", tmp_path / "t.bin")
    assert typo.code == 1 and "no row of any input has it" in typo.err
    no_text = invoke_cli(*base, "--output", tmp_path / "t.bin")      # rows have no 'text' field
    assert no_text.code == 1 and "no positive document" in no_text.err and "--text-fields" in no_text.err
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # the old card was removed with the old model
        again = invoke_cli(*base, "--text-fields", "instruction,output", "--balance", "none",
                           "--output", tmp_path / "m.bin")
    assert again.code == 0, again
    assert json.loads((tmp_path / "m.metrics.json").read_text())["balance"]["mode"] == "none"


def test_train_from_paths_keeps_plain_inputs_working(tmp_path):
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"text": d.text}) + "\n" for d in _docs(_GOOD, 1, 30, 1)))
    (tmp_path / "n.txt").write_text("\n\n".join(d.text for d in _docs(_BAD, 0, 30, 2)))
    result = train_from_paths([str(tmp_path / "p.jsonl")], [str(tmp_path / "n.txt")], str(tmp_path / "m.bin"), SMALL)
    assert result.metrics["text_prep"] == "normalize"
    assert result.metrics["extra"]["inputs"]["positive"]["text_from"] == {"text": 30}


# --- formats told by content (dclm.io.document_files) ------------------------------------

def test_explicit_files_are_read_by_content_not_name(tmp_path):
    import zstandard

    from dclm.io.parquet_shards import write_rows

    write_rows(str(tmp_path / "rows.jsonl"), [{"id": "1", "text": "parquet one"}, {"id": "2", "text": "parquet two"}])
    answers = "".join(json.dumps({"instruction": f"Q{i}", "output": f"answer {i}"}) + "\n" for i in range(3))
    (tmp_path / "answers").write_bytes(zstandard.ZstdCompressor().compress(answers.encode()))
    (tmp_path / "notes.txt").write_text("first block\nstill first\n\nsecond block\n")
    paths = [str(tmp_path / name) for name in ("rows.jsonl", "answers", "notes.txt")]
    docs, report = read_labeled(paths, 1, Fields(text=("instruction", "output"), group=("instruction",)))
    assert [d.text for d in docs] == ["parquet one", "parquet two", "Q0\n\nanswer 0", "Q1\n\nanswer 1",
                                      "Q2\n\nanswer 2", "first block\nstill first", "second block"]
    assert report.text_from == {"text": 4, "instruction+output": 3}
    assert report.grouped_by == {"document": 4, "instruction": 3}


def test_a_bad_jsonl_line_names_its_file_and_line(tmp_path):
    from pipelines.classifier_training.data import TrainingDataError

    good = json.dumps({"text": "fine"})
    (tmp_path / "broken.jsonl").write_text(f"{good}\n\n{{not json\n{good}\n")
    with pytest.raises(TrainingDataError, match=r"broken\.jsonl:3: not JSON"):
        read_labeled([str(tmp_path / "broken.jsonl")], 1)
    (tmp_path / "list.jsonl").write_text(f"{good}\n[1, 2]\n")
    with pytest.raises(TrainingDataError, match=r"list\.jsonl:2: a JSON list, not an object"):
        read_labeled([str(tmp_path / "list.jsonl")], 1)
    (tmp_path / "empty.jsonl").write_text("")               # no magic bytes, but JSONL by name: no rows
    assert read_labeled([str(tmp_path / "empty.jsonl")], 1)[0] == []


def test_what_is_neither_documents_nor_text_is_refused(tmp_path):
    from pipelines.classifier_training.data import TrainingDataError

    (tmp_path / "page.warc").write_text("WARC/1.0\r\nWARC-Type: warcinfo\r\n\r\n")
    with pytest.raises(TrainingDataError, match="WARC archive.*dclm extract"):
        read_labeled([str(tmp_path / "page.warc")], 0)
    (tmp_path / "model.bin").write_bytes(b"\xba\x16\x4f\x2f\x0c\x00\x00\x00")
    with pytest.raises(TrainingDataError, match="neither Parquet, JSONL nor text"):
        read_labeled([str(tmp_path / "model.bin")], 0)
    (tmp_path / "cut.parquet").write_text("PA")
    with pytest.raises(TrainingDataError, match=r"cannot read .*cut\.parquet as Parquet"):
        read_labeled([str(tmp_path / "cut.parquet")], 0)


def test_groups_come_from_the_input_not_from_filled_in_ids_and_urls(tmp_path):
    """document_files fills id and url in for its stages; training groups by what the rows themselves say."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        rows = [{"text": f"{folder} post {i}", "metadata": {"WARC-Target-URI": f"urn:blog:{folder}#{i}"}}
                for i in range(3)]
        (tmp_path / folder / "pool.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    paths = [str(tmp_path / "a"), str(tmp_path / "b")]
    for group in ("url", "id"):
        docs, report = read_labeled(paths, 0, Fields(group=(group,)))
        assert report.grouped_by == {"document": 6} and report.groups == 6
