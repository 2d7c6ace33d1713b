"""Layout of a training run directory, and loading a trained model back.

    RUN/config.json        the run's record (below); written at start, completed at the end
    RUN/metrics.jsonl      one line per optimizer step: step, loss, z_loss, lr, tokens, ...
    RUN/checkpoints/step_00000100.pt   model + optimizer + step + RNG states (the last two kept)
    RUN/model.pt           final weights only (a state_dict), written when training completes

config.json keys (the "run config"): scale (name), scale_hash, scale_config (every
field, so a run stays loadable after the registry changes), seed, data (the
tokenized dir as given), data_manifest_hash (sha256 of its manifest.json),
data_sha256 (of the token bytes), dataset_tokens, tokens_trained, epochs
(tokens_trained / dataset_tokens), total_steps, steps_done, device, threads,
torch_version, complete.

Local paths only: checkpoints are torch files rewritten many times per run.
"""
from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Optional

from dclm.errors import UsageError
from dclm.io.atomic_files import write_bytes_atomic

CONFIG = "config.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
FINAL_MODEL = "model.pt"
_CHECKPOINT_NAME = re.compile(r"^step_(\d{8})\.pt$")


def config_path(run_dir) -> Path:
    return Path(run_dir) / CONFIG


def metrics_path(run_dir) -> Path:
    return Path(run_dir) / METRICS


def final_model_path(run_dir) -> Path:
    return Path(run_dir) / FINAL_MODEL


def checkpoint_path(run_dir, step: int) -> Path:
    return Path(run_dir) / CHECKPOINTS / f"step_{step:08d}.pt"


def list_checkpoints(run_dir) -> list[tuple[int, Path]]:
    """(step, path) of every complete checkpoint, oldest first."""
    folder = Path(run_dir) / CHECKPOINTS
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = _CHECKPOINT_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry))
    return sorted(found)


def latest_checkpoint(run_dir) -> Optional[tuple[int, Path]]:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def read_run_config(run_dir) -> dict:
    path = config_path(run_dir)
    if not path.is_file():
        raise UsageError(f"{run_dir} is not a training run (no {CONFIG})")
    return json.loads(path.read_text(encoding="utf-8"))


def write_run_config(run_dir, config: dict) -> None:
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(str(config_path(run_dir)), text.encode("utf-8"))


def save_torch_atomic(obj, path: Path) -> None:
    """torch.save through a temporary name, so a crash never leaves half a checkpoint."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes_atomic(str(path), buffer.getvalue())


def prune_checkpoints(run_dir, keep: int = 2) -> None:
    for _, path in list_checkpoints(run_dir)[:-keep]:
        os.remove(path)


def load_trained(run_dir, device="cpu", allow_partial: bool = False):
    """(model in eval mode on ``device``, tokenizer, scale, run config) of a finished run.

    The scale is rebuilt from the run's own record and must hash to the recorded
    scale_hash. ``allow_partial`` loads the latest checkpoint of an unfinished run.
    """
    import torch

    from dclm.training.model import build_model
    from dclm.training.scales import scale_from_dict, scale_hash
    from dclm.training.tokenizer import load_tokenizer

    config = read_run_config(run_dir)
    scale = scale_from_dict(config["scale_config"])
    if scale_hash(scale) != config["scale_hash"]:
        raise UsageError(f"{run_dir}: scale record does not match its scale_hash (edited config.json?)")
    tokenizer = load_tokenizer(scale)
    final = final_model_path(run_dir)
    if final.is_file():
        state = torch.load(final, map_location="cpu", weights_only=True)
    elif allow_partial and latest_checkpoint(run_dir):
        state = torch.load(latest_checkpoint(run_dir)[1], map_location="cpu", weights_only=False)["model"]
    else:
        raise UsageError(f"{run_dir}: no {FINAL_MODEL}; training has not completed (rerun `dclm train` to resume)")
    # Building initialises weights from the global RNG; keep the caller's RNG untouched.
    with torch.random.fork_rng(devices=[]):
        model = build_model(scale)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval(), tokenizer, scale, config
