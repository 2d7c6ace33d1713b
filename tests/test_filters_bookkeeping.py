"""Word counts, removal ratio, deterministic sampling and the fixed quality threshold."""
from __future__ import annotations

import copy

import pytest

from filters import bookkeeping as bk
from filters.operator import ENRICHER, FILTER


def page(text: str = "some text", **extra) -> dict:
    return {"id": "<urn:uuid:4>", "url": "https://example.com", "text": text, "metadata": {}, **extra}


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def run_filter(func, signals, keep, p, **params) -> bool:
    """Run a filter; check it leaves its input alone and agrees with signals + keep."""
    before = copy.deepcopy(p)
    out = func(p, **params)
    assert p == before and out in ([], [p])
    assert keep(signals(p, **params), **params) is bool(out)
    return bool(out)


# --- word_counter_enricher ----------------------------------------------------

def test_word_counter_enricher():
    p = page("Hello , world -- this is 4 words? |")
    before = copy.deepcopy(p)
    out = bk.word_counter_enricher(p, key="previous_word_count")[0]
    assert p == before and out is not p
    assert out["previous_word_count"] == 6   # punctuation-only tokens are not words
    assert bk.word_counter_enricher(p, ignore_punctuation=False)[0]["word_count"] == 9


def test_word_counter_enricher_models():
    p = page("don't stop-words here")
    assert bk.word_counter_enricher(p, model="split")[0]["word_count"] == 3
    assert bk.word_counter_enricher(p, model="fasttext")[0]["word_count"] == 3
    assert bk.word_counter_enricher(p, model="uniseg")[0]["word_count"] >= 3


def test_word_counter_enricher_overwrite():
    p = page("a b", word_count=7)
    with pytest.raises(ValueError, match="word_count"):
        bk.word_counter_enricher(p)
    assert bk.word_counter_enricher(p, overwrite=True)[0]["word_count"] == 2


# --- word_removal_ratio_filter (0.05) -----------------------------------------

def removal_kept(after: int, before: int = 100, **params) -> bool:
    p = page(words(after), previous_word_count=before)
    return run_filter(bk.word_removal_ratio_filter, bk.word_removal_ratio_filter_signals,
                      bk.word_removal_ratio_filter_keep, p,
                      prev_word_count_key="previous_word_count", **params)


@pytest.mark.parametrize("after, is_kept", [(96, True), (95, True), (94, False)])
def test_word_removal_ratio_threshold(after, is_kept):
    # 4% removed: under; 5%: at the threshold, kept; 6%: over.
    assert removal_kept(after) is is_kept


def test_word_removal_ratio_signal_and_custom_threshold():
    p = page(words(80), previous_word_count=100)
    signals = bk.word_removal_ratio_filter_signals(p, prev_word_count_key="previous_word_count")
    assert signals == {"word_removal_ratio": pytest.approx(0.2)}
    assert removal_kept(80, max_removed_ratio=0.2)
    assert not removal_kept(79, max_removed_ratio=0.2)


def test_word_removal_ratio_uses_new_count_key_and_grown_pages():
    p = page(words(1), previous_word_count=100, word_count=99)
    assert bk.word_removal_ratio_filter(p, prev_word_count_key="previous_word_count",
                                        new_word_count_key="word_count") == [p]
    assert removal_kept(120)   # negative removal: text grew


def test_word_removal_ratio_empty_before_is_dropped():
    assert not removal_kept(0, before=0)


def test_word_removal_ratio_needs_the_counter():
    with pytest.raises(KeyError, match="word_counter_enricher"):
        bk.word_removal_ratio_filter(page(), prev_word_count_key="previous_word_count")


def test_refinedweb_count_then_modify_then_check():
    from filters.line_modifiers import line_length_modifier

    text = "\n".join([words(10)] * 19 + ["menu"])      # 191 words, 1 in a one-word line
    p = bk.word_counter_enricher(page(text), key="previous_word_count")[0]
    p = line_length_modifier(p, min_length=2)[0]
    assert bk.word_removal_ratio_filter(p, prev_word_count_key="previous_word_count") == [p]


# --- random_sampling_filter ---------------------------------------------------

IDS = [f"<urn:uuid:{i:08d}>" for i in range(20_000)]


def sample(keep_probability: float, seed: int = 0) -> set[str]:
    return {i for i in IDS if bk.random_sampling_filter(page(id=i), keep_probability=keep_probability,
                                                        seed=seed)}


def test_random_sampling_is_deterministic_and_about_right():
    first = sample(0.1)
    assert first == sample(0.1)
    assert abs(len(first) - 2000) < 300
    other_seed = sample(0.1, seed=1)
    assert other_seed != first and abs(len(other_seed) - 2000) < 300
    assert first <= sample(0.2)   # nested: raising p only adds pages


def test_random_sampling_edges():
    assert sample(0.0) == set()
    assert sample(1.0) == set(IDS)
    with pytest.raises(ValueError, match="keep_probability"):
        bk.random_sampling_filter(page(), keep_probability=1.5)


def test_random_sampling_threshold_on_the_draw():
    p = page(id="<urn:uuid:abc>")
    draw = bk.random_sampling_filter_signals(p)["random_draw"]
    assert 0.0 <= draw < 1.0
    assert draw == bk.random_sampling_filter_signals(copy.deepcopy(p))["random_draw"]
    keep = bk.random_sampling_filter_keep
    assert not keep({"random_draw": draw}, keep_probability=draw)          # at: dropped
    assert keep({"random_draw": draw}, keep_probability=draw + 1e-9)       # just over: kept
    assert not keep({"random_draw": draw}, keep_probability=draw - 1e-9)   # just under: dropped
    assert run_filter(bk.random_sampling_filter, bk.random_sampling_filter_signals,
                      bk.random_sampling_filter_keep, p, keep_probability=draw + 1e-9)


def test_random_sampling_without_id_uses_url():
    a = {"url": "https://a.com/1", "text": "x"}
    assert bk.random_sampling_filter_signals(a) == bk.random_sampling_filter_signals(dict(a))
    assert bk.random_sampling_filter_signals(a) != bk.random_sampling_filter_signals(
        {"url": "https://a.com/2", "text": "x"})


# --- quality_filter -----------------------------------------------------------

def quality_kept(score, **params) -> bool:
    p = page(fasttext_oh_eli5_vs_rw_v2_prob=score)
    return run_filter(bk.quality_filter, bk.quality_filter_signals, bk.quality_filter_keep, p,
                      key="fasttext_oh_eli5_vs_rw_v2_prob", **params)


@pytest.mark.parametrize("score, is_kept", [(0.018111, False), (0.018112, True), (0.018113, True)])
def test_quality_threshold_higher_better(score, is_kept):
    assert quality_kept(score, threshold=0.018112) is is_kept


@pytest.mark.parametrize("score, is_kept", [(99.0, True), (100.0, True), (101.0, False)])
def test_quality_threshold_lower_better(score, is_kept):
    assert quality_kept(score, threshold=100.0, lower_better=True) is is_kept


def test_quality_missing_key():
    with pytest.raises(KeyError, match="quality_filter"):
        bk.quality_filter(page(), key="score")
    assert bk.quality_filter(page(), key="score", key_must_exist=False, threshold=-1e9) == []
    assert bk.quality_filter(page(), key="score", key_must_exist=False, lower_better=True,
                             threshold=1e9) == []


def test_quality_default_key_and_signal():
    p = page(fasttext_hq_prob=0.5)
    assert bk.quality_filter_signals(p) == {"quality_score": 0.5}
    assert bk.quality_filter(p) == [p]


def test_operators_registered():
    ops = {op.name: op for op in bk.OPERATORS}
    assert ops["word_counter_enricher"].kind == ENRICHER
    for name in ("word_removal_ratio_filter", "random_sampling_filter", "quality_filter"):
        assert ops[name].kind == FILTER and ops[name].signals and ops[name].keep
