"""``dclm run dclm_baseline`` on a 3-node Ray cluster gives the output of a single node.

The cluster (``tests/local_cluster.py``: ``ray.cluster_utils.Cluster``, a
head and two worker nodes with one CPU each, each its own raylet and object
store) runs in a process of its own; the CLI joins it with
``--ray-address``, as on a real cluster. The recipe runs in segments —
heuristics per shard, BFF dedup over all shards, the fastText classifier,
the top 10% of the run — and every file of the output (the final shards,
each segment's shards under ``_work/``, dropped pages, ledgers, stats
without their seconds) must equal the run on the test's own single-node
runtime. With one CPU per node, concurrent shard tasks cannot share a node,
so the shards really spread: ``stats.json`` counts the nodes that ran them.
Inputs: the bundled sample cut into shards, plus two WARCs of the shared
corpus when it is there.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, WARC_DIR, invoke_cli
from fault_tools import CliProcess, comparable_tree, end_processes, read_json, sample_shards, short_temp_dir, wait_for

pytestmark = pytest.mark.slow

NODES = 3
RUN_TIMEOUT_S = 600
CORPUS_EXTRAS = ("CC-MAIN-2014-35-sample.warc.gz", "CC-MAIN-DEV-00000.warc.gz")


@pytest.fixture
def three_node_cluster():
    """The address of a 3-node cluster; afterwards no process of it is left, nor its folder."""
    ray_tmp = short_temp_dir()
    address_file = Path(ray_tmp) / "address"
    env = {**{k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"},
           "RAY_TMPDIR": ray_tmp, "RAY_AUTH_MODE": "disabled"}
    cluster = subprocess.Popen([sys.executable, str(REPO / "tests" / "local_cluster.py"), str(address_file),
                                str(NODES), "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env, cwd=REPO, start_new_session=True)
    try:
        wait_for(lambda: address_file.exists() or cluster.poll() is not None, 240, "the cluster to start")
        assert cluster.poll() is None, f"the cluster script exited with {cluster.returncode}"
        yield address_file.read_text()
    finally:
        cluster.stdin.close()               # the script shuts the cluster down
        try:
            cluster.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        end_processes(cluster.pid, ray_tmp)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _inputs(folder: Path) -> list[Path]:
    shards = sample_shards(folder)
    for name in CORPUS_EXTRAS:
        if (WARC_DIR / name).exists():
            shutil.copyfile(WARC_DIR / name, folder / name)
            shards.append(folder / name)
    return sorted(shards)


def test_dclm_baseline_on_three_nodes_equals_one_node(tmp_path, ray_session, three_node_cluster):
    shards = _inputs(tmp_path / "warc")
    single = tmp_path / "single" / "out"
    done = invoke_cli("run", "dclm_baseline", "--input", *shards, "--output", single)
    assert done.code == 0, done

    multi = tmp_path / "multi" / "out"
    with CliProcess(["run", "dclm_baseline", "--input", *shards, "--output", multi,
                     "--ray-address", three_node_cluster], env={"RAY_AUTH_MODE": "disabled"}) as run:
        assert run.wait(RUN_TIMEOUT_S) == 0, run.output()[-4000:]

    segments = sorted(path.name for path in (multi / ".dclm" / "work").iterdir())
    assert segments == ["01_local", "02_27_bff_dedup", "03_local"]
    first = read_json(multi / ".dclm" / "work" / "01_local" / ".dclm" / "stats.json")
    assert first["shards_done"] == len(shards) and 2 <= first["nodes_used"] <= NODES
    assert read_json(single / ".dclm" / "work" / "01_local" / ".dclm" / "stats.json")["nodes_used"] == 1
    final = read_json(multi / ".dclm" / "stats.json")
    assert 0 < final["documents_out"] < final["documents_in"]      # the top 10% of the run
    got, want = comparable_tree(multi), comparable_tree(single)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name
