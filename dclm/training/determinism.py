"""Reproducible training: thread count, deterministic kernels, RNG states for checkpoints.

On CPU, the same data, scale, seed and thread count give a bitwise-identical
loss curve and weights: kernels are forced deterministic, the thread count is
fixed (reductions split across threads differently with a different count),
and all randomness comes from seeded generators. On CUDA the same switches are
set, but only as warnings: flash-attention backward and some reductions have no
deterministic kernel, so GPU runs are reproducible only up to float noise.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from dclm.errors import UsageError

        raise UsageError("--device cuda, but torch sees no CUDA device")
    return torch.device(name)


def default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def configure(device: torch.device, threads: int) -> None:
    torch.set_num_threads(threads)
    if device.type == "cuda":
        # cuBLAS needs a fixed workspace to be deterministic; must be set before first use.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch.use_deterministic_algorithms(True)
    # Filling every new tensor with NaN only helps catch reads of uninitialised
    # memory; it costs ~10% of CPU step time and changes no result.
    torch.utils.deterministic.fill_uninitialized_memory = False


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
