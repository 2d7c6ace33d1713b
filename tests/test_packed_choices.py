"""Packed multiple-choice scoring gives what scoring each choice alone gives."""
from __future__ import annotations

import dataclasses
import random

import pytest

torch = pytest.importorskip("torch")

from dclm.evaluation.packed_choices import ChoiceGroup, packable, score_groups  # noqa: E402
from dclm.evaluation.scoring import score_requests  # noqa: E402
from dclm.training.model import build_model  # noqa: E402
from dclm.training.scales import SCALES  # noqa: E402

VOCAB = 8192
WINDOW = 32


@pytest.fixture(scope="module")
def model():
    scale = dataclasses.replace(SCALES["micro"], name="packed-test", d_model=32, n_heads=2, n_layers=2,
                                ffn_hidden=64, seq_len=WINDOW)
    torch.manual_seed(0)
    return build_model(scale)


def _random_groups(seed: int, count: int, max_context: int, max_choice: int) -> list[ChoiceGroup]:
    rng = random.Random(seed)
    groups = []
    for _ in range(count):
        context = (0,) + tuple(rng.randrange(1, VOCAB) for _ in range(rng.randrange(1, max_context)))
        choices = tuple(tuple(rng.randrange(1, VOCAB) for _ in range(rng.randrange(1, max_choice)))
                        for _ in range(rng.randrange(1, 5)))
        groups.append(ChoiceGroup(context, choices))
    return groups


def _plain(model, group: ChoiceGroup, keep: int):
    context = list(group.context[-keep:])
    requests = [(context + list(c), len(context)) for c in group.continuations]
    return score_requests(model, requests, max_len=WINDOW, vocab_size=VOCAB)


def test_packed_scores_equal_one_row_per_choice(model):
    groups = _random_groups(0, 30, 20, 10)          # every choice fits after the whole context
    packed = score_groups(model, groups, max_len=WINDOW, vocab_size=VOCAB, token_budget=96)
    for group, scores in zip(groups, packed, strict=True):
        for a, b in zip(scores, _plain(model, group, len(group.context)), strict=True):
            assert a.num_tokens == b.num_tokens and a.greedy == b.greedy
            assert a.logprob == pytest.approx(b.logprob, abs=1e-4)


def test_long_context_is_cut_so_the_longest_choice_fits_and_all_choices_share_it(model):
    groups = _random_groups(1, 12, 60, 14)
    packed = score_groups(model, groups, max_len=WINDOW, vocab_size=VOCAB)
    for group, scores in zip(groups, packed, strict=True):
        keep = min(len(group.context), WINDOW + 1 - max(len(c) for c in group.continuations))
        for a, b in zip(scores, _plain(model, group, keep), strict=True):
            assert a.logprob == pytest.approx(b.logprob, abs=1e-4)


def test_a_choice_never_sees_another(model):
    group = ChoiceGroup((0, 5, 6, 7), ((11, 12, 13), (21, 22)))
    other = ChoiceGroup((0, 5, 6, 7), ((11, 12, 13), (31, 32, 33, 34)))
    first, second = score_groups(model, [group, other], max_len=WINDOW, vocab_size=VOCAB)
    assert first[0].logprob == second[0].logprob          # same choice 0, other neighbour


def test_same_inputs_give_bit_identical_scores(model):
    groups = _random_groups(2, 20, 20, 8)
    assert score_groups(model, groups, max_len=WINDOW, vocab_size=VOCAB) == \
        score_groups(model, groups, max_len=WINDOW, vocab_size=VOCAB)


def test_a_choice_as_long_as_the_window_is_not_packable(model):
    assert packable(ChoiceGroup((0, 1), ((2,) * WINDOW,)), WINDOW)
    assert not packable(ChoiceGroup((0, 1), ((2,) * (WINDOW + 1),)), WINDOW)
    assert not packable(ChoiceGroup((0, 1), ((),)), WINDOW)
    with pytest.raises(ValueError, match="unpacked"):
        score_groups(model, [ChoiceGroup((0,), ((2,) * (WINDOW + 1),))], max_len=WINDOW, vocab_size=VOCAB)


def test_explicit_positions_and_causal_mask_equal_the_plain_forward(model):
    ids = torch.randint(1, VOCAB, (2, WINDOW))
    positions = torch.arange(WINDOW).expand(2, WINDOW)
    mask = torch.ones(WINDOW, WINDOW, dtype=torch.bool).tril().expand(2, WINDOW, WINDOW)
    with torch.no_grad():
        assert torch.allclose(model(ids), model(ids, positions=positions, attention_mask=mask), atol=1e-5)
    with pytest.raises(ValueError, match="beyond seq_len"):
        model(ids, positions=positions + 1, attention_mask=mask)
