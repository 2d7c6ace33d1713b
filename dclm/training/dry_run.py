"""``dclm train --dry-run``: prove a scale's recipe builds and trains, in seconds, on CPU.

Checks, in order: the tokenizer file exists and matches the pinned sha256; the
full model builds on the meta device (no memory) with the parameter count the
config implies; then ONE optimizer step of the real code path (z-loss,
clipping, warmup lr, AdamW) on random tokens. Scales too big for a quick CPU
step are shrunk for that step only: the depth is cut to 2 blocks and the
sequence to 32 tokens, so every layer shape (width, heads, SwiGLU, vocabulary)
is still the real one. What stays costly is the vocabulary: the 50k x 1024
output layer and AdamW over 100M embedding weights take a few seconds.
"""
from __future__ import annotations

import dataclasses
import math

import torch

from dclm.training.model import build_model, count_parameters, parameter_count
from dclm.training.scales import Scale, scale_hash
from dclm.training.tokenizer import load_tokenizer
from dclm.training.train_step import build_optimizer, optimizer_step

SHRINK_ABOVE = 20_000_000   # parameters; micro stays whole, small and 400m-1x are shrunk


def shrink(scale: Scale) -> Scale:
    """The scale's layer shapes at a depth and length a CPU steps through in seconds."""
    if parameter_count(scale) <= SHRINK_ABOVE:
        return scale
    return dataclasses.replace(scale, n_layers=min(scale.n_layers, 2), seq_len=min(scale.seq_len, 32),
                               global_batch=2, micro_batch=1)


def dry_run(scale: Scale, seed: int | None = None) -> dict:
    seed = scale.seed if seed is None else seed
    tokenizer = load_tokenizer(scale)
    full = count_parameters(build_model(scale, device="meta"))
    expected = parameter_count(scale)
    if full != expected:
        raise AssertionError(f"model has {full} parameters, config implies {expected}")
    small = shrink(scale)
    # One step needs no full batch; two sequences show accumulation and batching work.
    small = dataclasses.replace(small, global_batch=2, micro_batch=1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(small)
        optimizer = build_optimizer(model, small, "cpu")
        tokens = torch.randint(0, tokenizer.get_vocab_size(), (2, small.seq_len + 1))
        metrics = optimizer_step(model, optimizer, small, tokens, step=0, total_steps=scale.total_steps)
    if not all(math.isfinite(metrics[k]) for k in ("loss", "z_loss", "grad_norm")):
        raise AssertionError(f"non-finite step metrics: {metrics}")
    return {
        "scale": scale.name,
        "scale_hash": scale_hash(scale),
        "parameters": full,
        "tokenizer_vocab": tokenizer.get_vocab_size(),
        "total_steps": scale.total_steps,
        "tokens_per_step": scale.tokens_per_step,
        "stepped": {"n_layers": small.n_layers, "seq_len": small.seq_len, "batch": small.global_batch,
                    "parameters": count_parameters(model), "shrunk": small.n_layers != scale.n_layers
                    or small.seq_len != scale.seq_len},
        **metrics,
    }
