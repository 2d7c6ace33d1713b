"""How long the micro evaluation takes, with multiple-choice items packed (one row per item) and unpacked.

    python benchmarks/eval_speed.py [--scale micro] [--tasks micro] [--threads N] [--json OUT.json]

Both runs score the same freshly initialised model (seed 0) on the same task
set in this process, packed first, then with packing turned off (every
choice its own row, as before packing existed). Printed per task: wall
seconds both ways, their ratio, and the largest difference between the two
runs' per-task gold bits per byte (packing changes the arithmetic's order,
not the numbers, beyond float rounding; items whose context must be cut
to fit the window keep a little less context when packed, see
``dclm.evaluation.packed_choices``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _timed_eval(model, tokenizer, scale, task_set, pack: bool) -> tuple[dict, dict]:
    import dataclasses

    from dclm.evaluation import runner
    from dclm.training.tokenizer import eos_id

    seconds, metrics = {}, {}
    original = runner.model_accepts_packing
    runner.model_accepts_packing = (lambda m: pack and original(m))
    try:
        for spec in task_set.tasks:
            one = dataclasses.replace(task_set, tasks=(spec,), heldout_sets=())
            began = time.perf_counter()
            results = runner.evaluate_model(model, tokenizer, eos_id=eos_id(tokenizer), max_len=scale.seq_len,
                                            vocab_size=scale.vocab_size, task_set=one, progress=False)
            seconds[spec.name] = time.perf_counter() - began
            metrics[spec.name] = results.tasks[spec.name]["bpb_gold"]
    finally:
        runner.model_accepts_packing = original
    return seconds, metrics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="micro")
    parser.add_argument("--tasks", default="micro")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    import torch

    from dclm.evaluation.tasks import get_task_set
    from dclm.training.model import build_model
    from dclm.training.scales import get_scale
    from dclm.training.tokenizer import load_tokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    scale = get_scale(args.scale)
    torch.manual_seed(0)
    model = build_model(scale)
    tokenizer = load_tokenizer(scale)
    task_set = get_task_set(args.tasks)
    packed_s, packed_bpb = _timed_eval(model, tokenizer, scale, task_set, pack=True)
    plain_s, plain_bpb = _timed_eval(model, tokenizer, scale, task_set, pack=False)
    print(f"{'task':<22}{'packed s':>10}{'plain s':>10}{'speed-up':>10}{'max |d bpb|':>13}")
    for name in packed_s:
        print(f"{name:<22}{packed_s[name]:>10.1f}{plain_s[name]:>10.1f}{plain_s[name] / packed_s[name]:>10.2f}"
              f"{abs(packed_bpb[name] - plain_bpb[name]):>13.2e}")
    total_packed, total_plain = sum(packed_s.values()), sum(plain_s.values())
    print(f"{'all tasks':<22}{total_packed:>10.1f}{total_plain:>10.1f}{total_plain / total_packed:>10.2f}")
    print(f"torch threads {torch.get_num_threads()}; held-out text sets are not packed and not timed here")
    if args.json:
        Path(args.json).write_text(json.dumps({"packed_s": packed_s, "plain_s": plain_s, "packed_bpb": packed_bpb,
                                               "plain_bpb": plain_bpb}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
