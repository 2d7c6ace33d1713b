"""The embedded Ray runtime a command starts: only the processes a one-machine job uses.

Each case runs in a fresh Python process with its own RAY_TMPDIR, as a
``dclm`` command would; the session's shared runtime is not involved.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fault_tools import short_temp_dir

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys
import ray
from ray._private import node
from dclm.runtime.executor import ensure_ray

methods = (node.Node.start_api_server, node.Node.start_monitor)
assert ensure_ray(num_cpus=1) is True
running = sorted(ray._private.worker._global_node.all_processes)
answer = ray.get(ray.remote(lambda: 6 * 7).remote())
restored = (node.Node.start_api_server, node.Node.start_monitor) == methods
ray.shutdown()
print(json.dumps({"processes": running, "answer": answer, "restored": restored}))
"""


def _start(**env: str) -> dict:
    ray_tmp = short_temp_dir()
    environment = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "DCLM_RAY_FULL_HEAD")}
    environment.update(RAY_TMPDIR=ray_tmp, PYTHONPATH=str(REPO), **env)
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=environment,
                              timeout=180, cwd=ray_tmp)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_embedded_runtime_starts_without_api_server_and_monitor():
    started = _start()
    assert started["answer"] == 42
    assert {"gcs_server", "raylet"} <= set(started["processes"])
    assert "dashboard" not in started["processes"]      # the API server (usage statistics only)
    assert "monitor" not in started["processes"]        # the autoscaler: one machine has nothing to scale
    assert started["restored"], "Ray's own start methods must be put back after our ray.init"


@pytest.mark.slow
def test_full_head_on_request():
    started = _start(DCLM_RAY_FULL_HEAD="1")
    assert started["answer"] == 42
    assert {"dashboard", "monitor"} <= set(started["processes"])
