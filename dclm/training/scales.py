"""Fixed training recipes ("scales"): one frozen record per comparison track.

A controlled comparison only means something if every strategy is trained with
the same architecture, tokenizer, token budget and optimizer. A ``Scale`` holds
all of them, and ``scale_hash`` fingerprints the whole record, so a run, a
tokenized dataset and an evaluation can each prove which recipe they used; any
edited hyper-parameter gives a new hash.

``400m-1x`` is DCLM's smallest competition track, copied from DCLM's
``training/configs/411m_1x.json`` and the open_lm flags its ``training/params.py``
adds (beta2 0.95, grad clip 1, cosine decay to the "cooldown" lr 3e-5,
amp_bfloat16, gain-only low-precision LayerNorm, qk-norm, z-loss 1e-4). Note
that its model file is ``d=1024_l=24_h=8``: DCLM trains it with 8 heads of 128,
not the 16 heads of open_lm's own ``open_lm_410m``; heads do not change the
parameter count. ``micro`` and ``small`` are ours: CPU minutes and GPU tens of
minutes, with the same architecture family and optimizer.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from dclm.errors import UsageError

NORMS = ("gain_only_lp_layer_norm", "gain_only_layer_norm", "rms_norm")
DTYPES = ("amp_bf16", "fp32")
SCHEDULES = ("cosine",)


def swiglu_hidden(d_model: int) -> int:
    """open_lm's SwiGLU width: 2/3 of 4*d, rounded up to a multiple of 256 (as LLaMA)."""
    return 256 * ((int(2 * 4 * d_model / 3) + 256 - 1) // 256)


@dataclass(frozen=True)
class Scale:
    name: str
    # Tokenizer: a name that dclm.training.tokenizer resolves to a file, pinned by hash.
    tokenizer: str
    tokenizer_sha256: str
    vocab_size: int          # embedding rows; >= the tokenizer's vocabulary (padded as DCLM's 50432)
    seq_len: int             # tokens the model sees; tokenized samples hold seq_len + 1
    # Architecture (open_lm "open_lm" transformer).
    d_model: int
    n_layers: int
    n_heads: int
    ffn_hidden: int
    norm: str
    norm_eps: float
    qk_norm: bool
    rope_theta: float
    # Budget and batch.
    tokens: int              # training token budget (predicted positions)
    global_batch: int        # sequences per optimizer step
    micro_batch: int         # sequences per forward pass; global/micro = accumulation steps
    # Optimizer and schedule (AdamW, weight decay on every parameter as open_lm).
    lr: float
    min_lr: float            # where the cosine ends (DCLM's "cd", open_lm's --lr-cooldown-end)
    weight_decay: float
    warmup_steps: int
    schedule: str
    z_loss: float
    grad_clip: float
    adam_beta1: float
    adam_beta2: float
    adam_eps: float
    dtype: str               # "amp_bf16": bf16 autocast on GPU (fp32 on CPU); "fp32": never autocast
    seed: int                # default training seed; also seeds the tokenize shuffle

    def __post_init__(self) -> None:
        problems = []
        if self.d_model % self.n_heads:
            problems.append(f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        elif (self.d_model // self.n_heads) % 2:
            problems.append("head dimension must be even for rotary embeddings")
        if self.global_batch % self.micro_batch:
            problems.append(f"global_batch {self.global_batch} is not a multiple of micro_batch {self.micro_batch}")
        if self.norm not in NORMS:
            problems.append(f"norm {self.norm!r} not in {NORMS}")
        if self.dtype not in DTYPES:
            problems.append(f"dtype {self.dtype!r} not in {DTYPES}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule {self.schedule!r} not in {SCHEDULES}")
        if min(self.tokens, self.seq_len, self.vocab_size, self.n_layers, self.global_batch) <= 0:
            problems.append("tokens, seq_len, vocab_size, n_layers and global_batch must be positive")
        if problems:
            raise ValueError(f"scale {self.name!r}: " + "; ".join(problems))

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def accumulation_steps(self) -> int:
        return self.global_batch // self.micro_batch

    @property
    def tokens_per_step(self) -> int:
        return self.global_batch * self.seq_len

    @property
    def total_steps(self) -> int:
        """Optimizer steps: the budget divided by tokens per step, rounded down (at least 1)."""
        return max(1, self.tokens // self.tokens_per_step)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def scale_from_dict(fields: dict) -> Scale:
    """Rebuild a Scale from ``to_dict()`` output (a run's config.json); unknown keys are an error."""
    names = {f.name for f in dataclasses.fields(Scale)}
    unknown = set(fields) - names
    missing = names - set(fields)
    if unknown or missing:
        raise ValueError(f"not a scale record: unknown {sorted(unknown)}, missing {sorted(missing)}")
    return Scale(**fields)


def scale_hash(scale: Scale) -> str:
    """sha256 of the canonical JSON of every field (sorted keys, no spaces)."""
    canonical = json.dumps(scale.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


NEOX = "gpt-neox-20b"
NEOX_SHA256 = "ca35d8727a533bb6639bf4781ae72b9fda00e6969a76260cf99644479abf1177"
MICRO_BPE = "dclm-micro-bpe-8k"
MICRO_BPE_SHA256 = "b6e0ea2e8b213c1e4c7c05de037ce4a67dbe03ae8c0a180b8790b5d1a29e9841"

# What every scale shares with DCLM's recipe; each scale below sets the rest.
_DCLM_COMMON = dict(norm="gain_only_lp_layer_norm", norm_eps=1e-5, qk_norm=True, rope_theta=10000.0,
                    schedule="cosine", z_loss=1e-4, grad_clip=1.0, adam_beta1=0.9, adam_beta2=0.95,
                    adam_eps=1e-8, dtype="amp_bf16")

SCALES: dict[str, Scale] = {
    # 3.1M parameters (1.05M in the transformer blocks, 2.1M in the two 8k embeddings), 1.23M
    # tokens in 300 steps of 16 x 256: 13.4 MFLOP per token, 1.6e13 FLOP in all. A step takes
    # 0.94 s on 2 idle cores (4,372 tokens/s, benchmarks/train_speed.py), so a run takes about
    # 4.7 minutes: small enough that `dclm compare` of two recipes over three seeds (six runs
    # plus their evaluations) fits in an hour on a 2-core laptop.
    "micro": Scale(
        name="micro", tokenizer=MICRO_BPE, tokenizer_sha256=MICRO_BPE_SHA256, vocab_size=8192, seq_len=256,
        d_model=128, n_layers=4, n_heads=4, ffn_hidden=swiglu_hidden(128),
        tokens=1_228_800, global_batch=16, micro_batch=16, lr=3e-3, min_lr=3e-5, weight_decay=0.033,
        warmup_steps=30, seed=0, **_DCLM_COMMON),
    # 78.9M parameters: open_lm's open_lm_79m_v2 shape (d 512, 8 layers, 4 heads), about 20
    # tokens per parameter (Chinchilla "1x"), 3051 steps of 256 x 2048.
    "small": Scale(
        name="small", tokenizer=NEOX, tokenizer_sha256=NEOX_SHA256, vocab_size=50432, seq_len=2048,
        d_model=512, n_layers=8, n_heads=4, ffn_hidden=swiglu_hidden(512),
        tokens=1_600_000_000, global_batch=256, micro_batch=32, lr=3e-3, min_lr=3e-5, weight_decay=0.033,
        warmup_steps=500, seed=0, **_DCLM_COMMON),
    # DCLM 400M-1x: 411.6M parameters (411.7M counting the qk-norm gains), 8.23B tokens,
    # 7850 steps of 512 x 2048. DCLM runs acc=8 on 8 GPUs, so 8 sequences per forward.
    "400m-1x": Scale(
        name="400m-1x", tokenizer=NEOX, tokenizer_sha256=NEOX_SHA256, vocab_size=50432, seq_len=2048,
        d_model=1024, n_layers=24, n_heads=8, ffn_hidden=swiglu_hidden(1024),
        tokens=8_232_325_120, global_batch=512, micro_batch=8, lr=3e-3, min_lr=3e-5, weight_decay=0.033,
        warmup_steps=2000, seed=124, **_DCLM_COMMON),
}


def get_scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise UsageError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}") from None
