"""How long a command waits for Ray: the embedded runtime against a bare ``ray.init()``.

    python benchmarks/ray_startup.py [--repeats 5] [--json results.json]

Every measurement is a fresh Python process with its own ``RAY_TMPDIR``, so
nothing is reused between runs and no other runtime on the machine is joined.
Each process times ``import ray``, the start (``ray.init`` or
``dclm.runtime.executor.ensure_ray``), a first task's round trip (a worker must start)
and ``ray.shutdown()``, and notes whether Ray printed its "Token
authentication is enabled" notice. Reported: the median and range of each.

Configurations, each adding one setting to the one before, so the table
shows where the time goes:

  bare            ray.init()                        (what a user would write)
  local           ray.init(address="local", include_dashboard=False)
  before          the same with the job's variables as a runtime_env (the
                  executor before this change: its first task waits for
                  fresh workers)
  +num_gpus=0     no accelerator probe
  +no metrics     _system_config enable_metrics_collection=False: the raylet
                  otherwise waits for the metrics agent
  full head       dclm.runtime.executor.ensure_ray() with DCLM_RAY_FULL_HEAD=1: all
                  of the above, usage stats off, the token notice hidden
                  (token auth stays on)
  embedded        dclm.runtime.executor.ensure_ray(): the same without the head's API
                  server and autoscaler monitor, which a one-machine job
                  never uses

The machine may be shared: the load average is printed with the results.
Measurements are ``--settle`` seconds apart: a command normally starts on a
machine where no other runtime is shutting down.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
started = time.perf_counter()
import ray
imported = time.perf_counter()
how = sys.argv[1]
if how.startswith("embedded"):
    sys.path.insert(0, sys.argv[2])
    if how == "embedded-full":
        import os
        os.environ["DCLM_RAY_FULL_HEAD"] = "1"
    from dclm.runtime.executor import ensure_ray
    ensure_ray()
else:
    ray.init(**eval(how))
ready = time.perf_counter()
ray.get(ray.remote(lambda: 1).remote())
first_task = time.perf_counter()
ray.shutdown()
done = time.perf_counter()
print(json.dumps({"import": imported - started, "start": ready - imported, "first_task": first_task - ready,
                  "shutdown": done - first_task}))
"""

CONFIGS = {
    "bare": "{}",
    "local": "dict(address='local', include_dashboard=False)",
    "before": "dict(address='local', include_dashboard=False, "
              "runtime_env={'env_vars': {'ARROW_DEFAULT_MEMORY_POOL': 'system'}})",
    "+num_gpus=0": "dict(address='local', include_dashboard=False, num_gpus=0)",
    "+no metrics": "dict(address='local', include_dashboard=False, num_gpus=0, "
                   "_system_config={'enable_metrics_collection': False})",
    "full head": "embedded-full",
    "embedded": "embedded",
}
TOKEN_NOTICE = "Token authentication is enabled"


def measure(how: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="ray_startup_") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_USAGE_STATS_ENABLED")}
        env["RAY_TMPDIR"] = tmp
        proc = subprocess.run([sys.executable, "-c", CHILD, how, str(REPO)], capture_output=True, text=True,
                              env=env, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"{how}: failed\n{proc.stderr[-2000:]}")
    times = json.loads(proc.stdout.strip().splitlines()[-1])
    times["token_notice"] = TOKEN_NOTICE in proc.stderr
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None, help="also write the measurements here")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds to wait between measurements (default 3): Ray's processes go on exiting "
                             "after ray.shutdown() returns, and would slow the next start")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results: dict = {name: [] for name in CONFIGS}
    # Interleaved, so that a burst of load on a shared machine hits every configuration alike.
    for _ in range(args.repeats):
        for name, how in CONFIGS.items():
            time.sleep(args.settle)
            results[name].append(measure(how))
    print(f"{'configuration':<14}{'import':>8}{'start (median, range)':>26}{'first task':>12}{'shutdown':>10}"
          f"{'start+task':>12}  token notice")
    for name, runs in results.items():
        starts = [r["start"] for r in runs]
        print(f"{name:<14}{statistics.median(r['import'] for r in runs):>8.2f}"
              f"{statistics.median(starts):>12.2f} s ({min(starts):.2f}-{max(starts):.2f})"
              f"{statistics.median(r['first_task'] for r in runs):>12.2f}"
              f"{statistics.median(r['shutdown'] for r in runs):>10.2f}"
              f"{statistics.median(r['start'] + r['first_task'] for r in runs):>12.2f}"
              f"  {'printed' if any(r['token_notice'] for r in runs) else 'none'}")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{os.cpu_count()} CPUs; {args.repeats} fresh processes per configuration")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
