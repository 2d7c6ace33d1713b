"""Training throughput of a scale: tokens/s, seconds per step, full-run time, MFU.

Times the real code path (``dclm.training.train_step.optimizer_step``: micro-batches,
z-loss, clipping, AdamW, bf16 autocast on GPU) on random tokens, after a few
untimed warm-up steps, with the same determinism settings as ``dclm train``.
MFU = achieved training FLOPs / peak FLOPs, with the FLOPs per token of
``dclm.training.model.flops_per_token`` (6 per non-embedding weight plus causal
attention); give the accelerator's peak with --peak-tflops (e.g. 989 for an H100
SXM in dense bf16), else MFU is only printed for known GPUs.

    python benchmarks/train_speed.py --scale micro --threads 2
    python benchmarks/train_speed.py --scale small --device cuda --steps 5
    python benchmarks/train_speed.py --scale micro --batch 8   # fewer sequences per timed step
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from dclm.training import determinism  # noqa: E402
from dclm.training.model import build_model, flops_per_token, parameter_count  # noqa: E402
from dclm.training.scales import get_scale  # noqa: E402
from dclm.training.train_step import build_optimizer, optimizer_step  # noqa: E402

# Dense bf16 peaks (TFLOP/s) for MFU when --peak-tflops is not given.
KNOWN_PEAKS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0, "A10": 125.0}


def _peak_tflops(device: torch.device, given: float | None) -> float | None:
    if given:
        return given
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, peak in KNOWN_PEAKS.items():
            if key in name:
                return peak
    return None


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="micro")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--batch", type=int, default=None,
                        help="sequences per step (default: the scale's global batch)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--peak-tflops", type=float, default=None, help="accelerator peak, for MFU")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args()

    scale = get_scale(args.scale)
    if args.batch:
        scale = dataclasses.replace(scale, global_batch=args.batch, micro_batch=min(scale.micro_batch, args.batch))
    device = determinism.resolve_device(args.device)
    threads = args.threads or determinism.default_threads()
    determinism.configure(device, threads)
    determinism.seed_everything(0)
    model = build_model(scale, device=device)
    optimizer = build_optimizer(model, scale, device.type)
    generator = torch.Generator().manual_seed(0)
    times = []
    for step in range(args.warmup + args.steps):
        batch = torch.randint(0, scale.vocab_size, (scale.global_batch, scale.seq_len + 1), generator=generator)
        batch = batch.to(device)
        _sync(device)
        start = time.perf_counter()
        optimizer_step(model, optimizer, scale, batch, step)
        _sync(device)
        if step >= args.warmup:
            times.append(time.perf_counter() - start)

    full = get_scale(args.scale)
    per_step = statistics.median(times)
    tokens_per_s = scale.tokens_per_step / per_step
    achieved = tokens_per_s * flops_per_token(scale)
    peak = _peak_tflops(device, args.peak_tflops)
    result = {
        "scale": full.name, "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": threads if device.type == "cpu" else None, "parameters": parameter_count(full),
        "sequences_per_step": scale.global_batch, "tokens_per_step": scale.tokens_per_step,
        "seconds_per_step_median": round(per_step, 4), "seconds_per_step_best": round(min(times), 4),
        "tokens_per_s": round(tokens_per_s, 1), "tokens_per_s_best": round(scale.tokens_per_step / min(times), 1),
        "achieved_tflops": round(achieved / 1e12, 4),
        "mfu": round(achieved / (peak * 1e12), 4) if peak else None,
        "full_run_tokens": full.total_steps * full.tokens_per_step,
        "full_run_hours_estimate": round(full.total_steps * full.tokens_per_step / tokens_per_s / 3600, 3),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['scale']} on {result['device']}" + (f" ({threads} threads)" if device.type == "cpu" else ""))
    print(f"  {result['parameters']:,} parameters, {scale.tokens_per_step:,} tokens per step")
    print(f"  {per_step:.3f} s/step (median of {len(times)}; best {min(times):.3f})")
    print(f"  {tokens_per_s:,.0f} tokens/s (best {result['tokens_per_s_best']:,.0f}), "
          f"{result['achieved_tflops']:.3f} TFLOP/s achieved")
    if result["mfu"] is not None:
        print(f"  MFU {100 * result['mfu']:.1f}% of {peak:g} TFLOP/s")
    minutes = result["full_run_hours_estimate"] * 60
    print(f"  full run ({result['full_run_tokens']:,} tokens): about {minutes:,.1f} minutes at this speed")


if __name__ == "__main__":
    main()
