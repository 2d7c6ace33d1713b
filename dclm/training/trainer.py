"""``dclm train``: a scale's fixed recipe on a tokenized dataset, resumable and reproducible.

The run directory layout is in ``dclm.training.run_dir``. A run that finds its
directory already started checks that the scale, seed and data are the same,
loads the last checkpoint (model, optimizer, step, RNG states), drops the
metric lines written after it, and carries on: the resumed run's losses and
final weights equal those of an uninterrupted one (bitwise on CPU).
"""
from __future__ import annotations

import json
import sys
import time
from typing import Optional

import torch

from dclm.errors import UsageError
from dclm.training import determinism, run_dir
from dclm.training.model import build_model, count_parameters
from dclm.training.scales import Scale, scale_hash
from dclm.training.token_dataset import TokenDataset
from dclm.training.train_step import build_optimizer, optimizer_step

CHECKPOINTS_PER_RUN = 10   # default spacing: a crash costs at most a tenth of the run


def _new_run_config(scale: Scale, seed: int, data: TokenDataset, data_dir: str, device, threads: int) -> dict:
    trained = scale.total_steps * scale.tokens_per_step
    return {
        "scale": scale.name,
        "scale_hash": scale_hash(scale),
        "scale_config": scale.to_dict(),
        "seed": seed,
        "data": str(data_dir),
        "data_manifest_hash": data.manifest_hash,
        "data_sha256": data.manifest["data_sha256"],
        "dataset_tokens": data.dataset_tokens,
        "tokens_trained": 0,
        "tokens_planned": trained,
        "epochs": 0.0,
        "epochs_planned": trained / data.dataset_tokens,
        "total_steps": scale.total_steps,
        "steps_done": 0,
        "parameters": None,
        "device": device.type,
        "threads": threads,
        "torch_version": torch.__version__,
        "complete": False,
    }


def _check_same_run(existing: dict, fresh: dict, output: str) -> None:
    for key in ("scale_hash", "seed", "data_sha256"):
        if existing.get(key) != fresh[key]:
            raise UsageError(f"{output} holds a run with another {key} ({existing.get(key)!r} vs {fresh[key]!r}); "
                             "choose another --output")


def _truncate_metrics(output: str, last_step: int) -> None:
    """Keep metric lines up to the checkpoint; the steps after it are about to be redone."""
    path = run_dir.metrics_path(output)
    if not path.exists():
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and json.loads(line)["step"] <= last_step]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def _record_progress(config: dict, steps: int, scale: Scale, data: TokenDataset) -> None:
    tokens = steps * scale.tokens_per_step
    config.update(steps_done=steps, tokens_trained=tokens, epochs=tokens / data.dataset_tokens)


def _save_checkpoint(output: str, model, optimizer, step: int, config: dict) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
             "rng": determinism.rng_state(), "scale_hash": config["scale_hash"], "seed": config["seed"],
             "data_sha256": config["data_sha256"]}
    run_dir.save_torch_atomic(state, run_dir.checkpoint_path(output, step))
    run_dir.prune_checkpoints(output)


def train(data_dir: str, scale: Scale, output: str, seed: Optional[int] = None, device: str = "auto",
          threads: Optional[int] = None, checkpoint_every: Optional[int] = None, progress: bool = True,
          stop_after: Optional[int] = None, log=None) -> dict:
    """Train (or resume) a run; returns its run config. ``stop_after`` ends early, as a crash would."""
    log = log or (lambda message: print(message, file=sys.stderr))
    seed = scale.seed if seed is None else seed
    dev = determinism.resolve_device(device)
    data = TokenDataset(data_dir)
    data.check_compatible(scale)
    existing = run_dir.read_run_config(output) if run_dir.config_path(output).exists() else None
    threads = threads or (existing or {}).get("threads") or determinism.default_threads()
    config = _new_run_config(scale, seed, data, data_dir, dev, threads)
    if existing is not None:
        _check_same_run(existing, config, output)
        if existing.get("complete"):
            log(f"{output}: already complete ({existing['steps_done']} steps); nothing to do")
            return existing
        if existing.get("threads") != threads and dev.type == "cpu":
            log(f"warning: resuming with {threads} threads, the run started with {existing.get('threads')}; "
                "the result will not be bitwise identical to an uninterrupted run")
    determinism.configure(dev, threads)
    determinism.seed_everything(seed)
    model = build_model(scale, device=dev)
    optimizer = build_optimizer(model, scale, dev.type)
    config["parameters"] = count_parameters(model)
    start = 0
    latest = run_dir.latest_checkpoint(output)
    if latest is not None:
        state = torch.load(latest[1], map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        determinism.set_rng_state(state["rng"])
        start = state["step"]
        log(f"resuming {output} from step {start}")
    _truncate_metrics(output, start)
    _record_progress(config, start, scale, data)
    run_dir.write_run_config(output, config)
    if config["epochs_planned"] > 1:
        log(f"note: the data holds {data.dataset_tokens:,} tokens and the budget is {config['tokens_planned']:,}: "
            f"training repeats it {config['epochs_planned']:.2f} times")

    total = scale.total_steps
    every = checkpoint_every or max(1, total // CHECKPOINTS_PER_RUN)
    end = total if stop_after is None else max(start, min(total, stop_after))
    from tqdm import tqdm

    bar = tqdm(total=total, initial=start, desc=f"train {scale.name}", unit="step", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    model.train()
    began, tokens_timed, saved = time.perf_counter(), 0, start
    with open(run_dir.metrics_path(output), "a", encoding="utf-8") as metrics:
        for step in range(start, end):
            batch = torch.from_numpy(data.batch(seed, step, scale.global_batch)).to(dev)
            record = optimizer_step(model, optimizer, scale, batch, step, total)
            done = step + 1
            record = {"step": done, **record, "tokens": done * scale.tokens_per_step}
            metrics.write(json.dumps(record) + "\n")
            metrics.flush()
            tokens_timed += scale.tokens_per_step
            speed = tokens_timed / max(1e-9, time.perf_counter() - began)
            bar.update(1)
            bar.set_postfix(loss=f"{record['loss']:.3f}", tok_s=f"{speed:,.0f}")
            if done % every == 0 or done == total:
                _save_checkpoint(output, model, optimizer, done, config)
                saved = done
                _record_progress(config, done, scale, data)
                run_dir.write_run_config(output, config)
    bar.close()
    seconds = time.perf_counter() - began
    # Stopped between checkpoints: the steps after the last one will be redone, so they do not count.
    _record_progress(config, saved, scale, data)
    if end == total:
        run_dir.save_torch_atomic(model.state_dict(), run_dir.final_model_path(output))
        config["complete"] = True
    config["last_session"] = {"steps": end - start, "seconds": round(seconds, 3),
                              "tokens_per_s": round(tokens_timed / max(seconds, 1e-9), 1)}
    run_dir.write_run_config(output, config)
    return config
