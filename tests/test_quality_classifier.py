"""fastText quality classifier: normalization, training, scoring, bad input.

Training options (balance, text preparation, grouped JSONL) are tested in
test_classifier_training_options.py, the shipped reference model in test_quality_reference.py.
"""
from __future__ import annotations

import json
import random

import numpy as np
import pyarrow.parquet as pq
import pytest

from filters import quality_classifier as qc
from filters.fasttext_text import FASTTEXT_SEPARATORS, dclm_line, normalize_text, normalize_texts, tokenize_batch
from pipelines.classifier_training.data import LabeledDoc, TrainingDataError, read_documents, split_holdout
from pipelines.classifier_training.fasttext_fit import fit_in_fresh_process
from pipelines.classifier_training.metrics import average_ranks, binary_metrics, roc_auc
from pipelines.classifier_training.training import TrainConfig, metrics_path_for, train_classifier

SMALL = TrainConfig(dim=16, bucket=20_000, epoch=5, holdout=0.2, seed=7)


# --- synthetic classes: explanatory prose vs. web boilerplate ----------------------------

_PROSE = ("the function returns a new list containing every item for which the predicate is true . "
          "if the argument is omitted , the default value is used instead . this method is called "
          "when the object is garbage collected , which may happen much later than expected .").split()
_WEB = ("home about contact login cart checkout sale % off buy now click here subscribe newsletter "
        "cookies accept privacy policy terms share tweet like follow us free shipping deals").split()


def _docs(words, label, n, seed):
    rng = random.Random(seed)
    return [LabeledDoc(" ".join(rng.choice(words) for _ in range(rng.randint(30, 90))).capitalize(),
                       label, f"{label}-{i}") for i in range(n)]


POSITIVES = _docs(_PROSE, 1, 60, 1)
NEGATIVES = _docs(_WEB, 0, 60, 2)


def _fit_file(train, output, dim=8, bucket=5000):
    """Train on a ready fastText file (fastText itself needs a fresh process to be repeatable)."""
    fit_in_fresh_process({"train_file": str(train), "output": str(output), "dim": dim, "word_ngrams": 2,
                          "epoch": 5, "lr": 0.1, "min_count": 1, "bucket": bucket, "seed": 1,
                          "quantize": False, "cutoff": 0})


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clf") / "small.bin")
    result = train_classifier(POSITIVES, NEGATIVES, path, SMALL)
    return path, result


# --- normalization ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Hello, World!", "hello , world !"),
    ("  many\n\n\tlines \r\n and\u00a0spaces\u3000here  ", "many lines and spaces here"),
    ("It's 3.14 (approx.) — ok?", "it ' s 3 . 14 ( approx . ) — ok ?"),
    ("Über Straße ÄÖÜ", "über straße äöü"),
    ("snake_case__label__hq", "snake _ case _ _ label _ _ hq"),
    ("emoji😀here €5", "emoji 😀 here € 5"),
    ("zero\u200bwidth soft\u00adhyphen", "zero width soft hyphen"),
    ("", ""),
    (" \n\t ", ""),
])
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


def test_normalize_batch_equals_single_and_is_idempotent():
    texts = [d.text for d in POSITIVES[:5] + NEGATIVES[:5]] + ["", None, "A.B\nC", "x" * 5000]
    batch = normalize_texts(texts)
    assert batch == [normalize_text(t or "") for t in texts]
    assert normalize_texts(batch) == batch
    # No fastText separator other than single spaces survives: training lines stay one line.
    assert all(not (set(t) & set(FASTTEXT_SEPARATORS) - {" "}) and "  " not in t for t in batch)


def test_dclm_preparation_splits_exactly_where_fasttext_does():
    text = "  Line one.\nLine\u00a0two\ttab\x00nul\u2028sep  "
    batch = tokenize_batch([text], normalize=False)
    assert batch.texts()[0].split(" ") == ["Line", "one.", "Line\u00a0two", "tab", "nul", "sep"]


# --- metrics ---------------------------------------------------------------------------

def test_roc_auc_matches_pairwise_count_with_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = rng.integers(0, 10, 300) / 10          # many ties
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum())
    assert roc_auc(labels, scores) == pytest.approx(pairwise / (len(pos) * len(neg)))
    assert roc_auc([1, 1, 0], [0.9, 0.8, 0.1]) == 1.0
    assert roc_auc([1, 0], [0.1, 0.9]) == 0.0
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))
    assert list(average_ranks(np.array([3.0, 1.0, 3.0, 2.0]))) == [3.5, 1.0, 3.5, 2.0]


def test_binary_metrics_at_half():
    m = binary_metrics([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1])
    assert (m["precision"], m["recall"], m["f1"]) == (0.5, 0.5, 0.5)
    assert m["confusion"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 1}


def test_holdout_split_is_stratified_grouped_and_seeded():
    docs = [LabeledDoc(f"p{i}", 1, f"g{i // 3}") for i in range(30)] + \
           [LabeledDoc(f"n{i}", 0, f"n{i}") for i in range(50)]
    train, held = split_holdout(docs, 0.2, seed=1)
    assert split_holdout(docs, 0.2, seed=1) == (train, held)
    assert sum(d.label for d in held) >= 6 and sum(1 - d.label for d in held) >= 10
    assert not {d.group for d in train} & {d.group for d in held}
    assert len(train) + len(held) == len(docs)


# --- training --------------------------------------------------------------------------

def test_training_is_byte_identical_for_same_inputs_and_seed(small_model, tmp_path):
    path, result = small_model
    again = train_classifier(POSITIVES, NEGATIVES, str(tmp_path / "again.bin"), SMALL)
    assert open(path, "rb").read() == open(again.model_path, "rb").read()
    assert again.metrics["model_sha256"] == result.metrics["model_sha256"]
    other = train_classifier(POSITIVES, NEGATIVES, str(tmp_path / "other.bin"),
                             TrainConfig(**{**SMALL.__dict__, "seed": 8}))
    assert other.metrics["model_sha256"] != result.metrics["model_sha256"]


def test_metrics_file_beside_the_model(small_model):
    path, result = small_model
    assert result.metrics_path == metrics_path_for(path) == path[:-len(".bin")] + ".metrics.json"
    metrics = json.loads(open(result.metrics_path).read())
    held = metrics["heldout"]
    assert held["positives"] == 12 and held["negatives"] == 12
    assert held["roc_auc"] == pytest.approx(roc_auc([d.label for d in result.heldout], result.heldout_scores))
    assert held["roc_auc"] > 0.9 and 0 <= held["precision"] <= 1 and 0 <= held["f1"] <= 1
    assert metrics["config"]["seed"] == 7 and metrics["labels"]["positive"] == "__label__hq"
    # Held-out documents were never in the training file.
    assert metrics["documents"]["train"] == {"positive": 48, "negative": 48}


def test_quantized_training_is_deterministic_and_scores_exactly(tmp_path):
    config = TrainConfig(dim=8, bucket=5_000, epoch=3, holdout=0.1, quantize=True, cutoff=400)
    a = train_classifier(POSITIVES, NEGATIVES, str(tmp_path / "a.ftz"), config)
    b = train_classifier(POSITIVES, NEGATIVES, str(tmp_path / "b.ftz"), config)
    assert a.metrics["model_sha256"] == b.metrics["model_sha256"]
    model = qc.load_quality_model(a.model_path)
    assert model.model.f.isQuant() and model.linear is not None
    texts = [d.text for d in POSITIVES[:10] + NEGATIVES[:10]]
    assert np.allclose(model.probabilities(texts), model.predict_lines(normalize_texts(texts)), atol=2e-5)


def test_reading_parquet_jsonl_and_text_inputs(tmp_path):
    from dclm.io.parquet_shards import write_rows

    write_rows(str(tmp_path / "a.parquet"), [{"id": "1", "text": "first doc"}, {"id": "2", "text": ""}])
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "second doc"}) + "\n\n" +
                                      json.dumps({"text": "third doc"}) + "\n")
    (tmp_path / "c.txt").write_text("fourth\ndoc\n\n\n  fifth doc  \n")
    texts = [d.text for d in read_documents([str(tmp_path)], label=1)]
    assert texts == ["first doc", "second doc", "third doc", "fourth\ndoc", "fifth doc"]


# --- scoring ---------------------------------------------------------------------------

def test_batch_scores_equal_per_page_scores(small_model):
    path, _ = small_model
    texts = [d.text for d in POSITIVES[:20] + NEGATIVES[:20]] + ["", "Ünïcödé — text!", "x" * 3000]
    batch = qc.score_texts(path, texts)
    per_page = [qc.classify_fasttext_hq_prob_enricher({"id": str(i), "text": t}, model_filename=path)[0]
                ["fasttext_hq_prob"] for i, t in enumerate(texts)]
    assert batch.dtype == np.float64 and list(batch) == per_page
    assert batch[:20].mean() > 0.5 > batch[20:40].mean()


def test_batch_scorer_reproduces_fasttext_predict(small_model):
    path, _ = small_model
    model = qc.load_quality_model(path)
    assert model.linear is not None and model.text_prep == "normalize" and model.text_prep_from == "card"
    rng = random.Random(3)
    texts = [" ".join(rng.choice(_PROSE + _WEB + ["Zürich", "数据", "🙂", "unseen"]) for _ in range(n))
             for n in range(0, 400, 7)]
    ours = model.probabilities(texts)
    theirs = model.predict_lines(normalize_texts(texts))
    assert np.max(np.abs(ours - theirs)) < 2e-5


def test_model_trained_on_raw_text_is_scored_as_dclm_does(tmp_path):
    """A model whose vocabulary is not normalized (like DCLM's) gets DCLM's raw preparation."""
    import fasttext

    train = tmp_path / "raw.txt"
    with open(train, "w") as fh:
        for d in POSITIVES + NEGATIVES:
            fh.write(f"__label__{'hq' if d.label else 'cc'} {dclm_line(d.text)}\n")
    _fit_file(train, tmp_path / "raw.bin")
    model = fasttext.load_model(str(tmp_path / "raw.bin"))
    loaded = qc.load_quality_model(str(tmp_path / "raw.bin"))
    assert (loaded.text_prep, loaded.text_prep_from) == ("dclm", "vocabulary")     # no card beside it
    texts = ["The Function returns.\nA new list", "Home | About\nLogin"]
    labels, probs = model.predict([dclm_line(t) for t in texts], k=-1)
    expected = [p[list(line_labels).index("__label__hq")] - 1e-5 for line_labels, p in zip(labels, probs, strict=True)]
    assert np.allclose(qc.score_texts(str(tmp_path / "raw.bin"), texts), expected, atol=2e-5)


def test_enricher_key_and_overwrite(small_model):
    path, _ = small_model
    page = {"id": "a", "text": "the function returns a list", "metadata": {}}
    out = qc.classify_fasttext_hq_prob_enricher(page, model_filename=path, key="q")[0]
    assert "q" not in page and 0 <= out["q"] <= 1
    with pytest.raises(ValueError, match="overwrite"):
        qc.classify_fasttext_hq_prob_enricher(out, model_filename=path, key="q")
    assert qc.classify_fasttext_hq_prob_enricher(out, model_filename=path, key="q", overwrite=True)[0]["q"] == out["q"]
    assert [op.name for op in qc.OPERATORS] == ["classify_fasttext_hq_prob_enricher"]


def test_model_loaded_once_per_process(small_model):
    path, _ = small_model
    assert qc.load_quality_model(path) is qc.load_quality_model(path)


# --- bad input -------------------------------------------------------------------------

def test_not_a_fasttext_model(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"this is not a model at all" * 10)
    with pytest.raises(qc.QualityModelError, match="not a fastText model"):
        qc.score_texts(str(bogus), ["text"])
    with pytest.raises(qc.QualityModelError, match="not found"):
        qc.score_texts(str(tmp_path / "missing.bin"), ["text"])


def test_truncated_model_is_refused_before_fasttext_reads_it(small_model, tmp_path):
    path, _ = small_model
    data = open(path, "rb").read()
    for keep in (100, 5000, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"cut{keep}.bin"
        cut.write_bytes(data[:keep])
        with pytest.raises(qc.QualityModelError, match="truncated or corrupt|corrupt"):
            qc.score_texts(str(cut), ["text"])
    (tmp_path / "long.bin").write_bytes(data + b"x")
    with pytest.raises(qc.QualityModelError, match="unexpected bytes"):
        qc.score_texts(str(tmp_path / "long.bin"), ["text"])


def test_model_without_hq_label(tmp_path):
    train = tmp_path / "t.txt"
    train.write_text("__label__good some words here\n__label__bad other words there\n" * 5)
    _fit_file(train, tmp_path / "nohq.bin")
    with pytest.raises(qc.QualityModelError, match="__label__hq"):
        qc.score_texts(str(tmp_path / "nohq.bin"), ["text"])


def test_empty_positive_or_negative_set(tmp_path):
    with pytest.raises(TrainingDataError, match="positive"):
        train_classifier([], NEGATIVES, str(tmp_path / "m.bin"), SMALL)
    with pytest.raises(TrainingDataError, match="negative"):
        train_classifier(POSITIVES, [], str(tmp_path / "m.bin"), SMALL)


# --- the CLI ---------------------------------------------------------------------------

@pytest.fixture
def cli(run_cli, monkeypatch):
    """``dclm ...`` with the classifier command registered (a no-op once dclm.commands lists it)."""
    import dclm.commands as commands
    from dclm.commands import classifier

    original = commands.register_all

    def register_all(subparsers, add_execution_options):
        original(subparsers, add_execution_options)
        if "classifier" not in subparsers.choices:
            classifier.register(subparsers, add_execution_options)

    monkeypatch.setattr(commands, "register_all", register_all)
    return run_cli


def _write_inputs(directory):
    directory.mkdir()
    with open(directory / "pos.jsonl", "w") as fh:
        for d in POSITIVES:
            fh.write(json.dumps({"text": d.text}) + "\n")
    (directory / "neg.txt").write_text("\n\n".join(d.text for d in NEGATIVES))


def test_cli_train_and_bad_inputs(cli, tmp_path):
    _write_inputs(tmp_path / "in")
    args = ["classifier", "train", "--positive", tmp_path / "in" / "pos.jsonl", "--negative",
            tmp_path / "in" / "neg.txt", "--dim", 16, "--bucket", 20000, "--seed", 3]
    result = cli(*args, "--output", tmp_path / "m.bin")
    assert result.code == 0, result
    assert "ROC-AUC" in result.out and (tmp_path / "m.metrics.json").exists()
    (tmp_path / "empty.txt").write_text("\n\n")
    empty = cli("classifier", "train", "--positive", tmp_path / "empty.txt", "--negative",
                tmp_path / "in" / "neg.txt", "--output", tmp_path / "e.bin")
    assert empty.code == 1 and "no positive document" in empty.err
    bogus = tmp_path / "bogus.bin"
    bogus.write_text("nope")
    bad = cli("classifier", "score", "--model", bogus, "--input", tmp_path, "--output", tmp_path / "o")
    assert bad.code == 1 and "not a fastText model" in bad.err and "Traceback" not in bad.err


def test_cli_score_shards(cli, small_model, tmp_path):
    from dclm.io.parquet_shards import write_rows

    path, _ = small_model
    src = tmp_path / "shards"
    src.mkdir()
    docs = POSITIVES[:25] + NEGATIVES[:25]
    for k in range(2):
        write_rows(str(src / f"s{k}.parquet"),
                   [{"id": f"{k}-{i}", "url": "", "text": d.text, "source": "t", "date": "", "metadata": {}}
                    for i, d in enumerate(docs[k::2])])
    result = cli("classifier", "score", "--model", path, "--input", src, "--output", tmp_path / "out")
    assert result.code == 0, result
    for k in range(2):
        table = pq.read_table(tmp_path / "out" / "data" / f"s{k}.parquet")
        assert table.column_names[-1] == "fasttext_hq_prob" and table.num_rows == 25
        expected = qc.score_texts(path, table.column("text").to_pylist())
        assert table.column("fasttext_hq_prob").to_pylist() == list(expected)
    stats = json.loads((tmp_path / "out" / ".dclm" / "stats.json").read_text())
    assert stats["documents_in"] == stats["documents_out"] == 50 and stats["invariant_ok"]
    details = json.loads((tmp_path / "out" / ".dclm" / "ledger" / "s0.json").read_text())["details"]
    assert (details["text_prep"], details["text_prep_from"]) == ("normalize", "card")
    again = cli("classifier", "score", "--model", path, "--input", tmp_path / "out",
                "--output", tmp_path / "out2")
    assert again.code == 1 and "--overwrite" in again.err
