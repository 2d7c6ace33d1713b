"""Dedup on a 3-node Ray cluster gives the same output as on one node.

The cluster (``ray.cluster_utils.Cluster``: a head and two worker nodes on
this machine, one CPU each, each with its own raylet and object store) runs
in a subprocess, this file run as a script, because the test session may
already hold an embedded Ray runtime and a process joins one cluster only.
With one CPU per node, the per-shard and per-partition tasks are spread
over the nodes, so band rows, edges and labels really cross object stores.
The single-node run happens in the test process, on the session runtime.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

METHODS = {
    "minhash": ("minhash_dedup", {"ngram": 5, "num_bands": 14, "rows_per_band": 8}),
    "exact": ("exact_dedup", {}),
    "bff": ("bff_dedup", {"ngram": 13, "threshold": 0.8}),
}


def make_corpus(folder: str, shards: int = 6, families: int = 150, seed: int = 5) -> None:
    """Families of near-duplicates (a few words edited), spread over shards."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(3000)]
    rows = []
    for f in range(families):
        base = [" ".join(rng.choice(vocab) for _ in range(rng.randint(20, 60)))
                for _ in range(rng.randint(2, 6))]
        for v in range(rng.choice((1, 1, 2, 3, 5))):
            lines = [" ".join(w if rng.random() > 0.02 * v else rng.choice(vocab)
                              for w in line.split()) for line in base]
            rows.append({"id": f"f{f:04d}-v{v}", "text": "\n".join(lines)})
    rng.shuffle(rows)
    os.makedirs(folder, exist_ok=True)
    for s in range(shards):
        pq.write_table(pa.Table.from_pylist(rows[s::shards]), f"{folder}/part-{s:02d}.parquet")


def _run_all(shards: list[str], out: str) -> dict:
    from pipelines.global_steps import run_global_step

    stats = {}
    for method, (step, kwargs) in METHODS.items():
        result = run_global_step(step, kwargs, shards, f"{out}/{method}", progress=False,
                                 out=open(os.devnull, "w"))
        stats[method] = {"exit_code": result["exit_code"], "out": result["documents_out"],
                         "global": result.get("global", {})}
    return stats


def _cluster_main(data: str, out: str) -> None:
    """Subprocess: start a 3-node cluster, run every method on it, print facts as JSON."""
    import time

    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)

        @ray.remote(num_cpus=1)
        def where() -> str:
            time.sleep(0.5)
            return ray.get_runtime_context().get_node_id()

        nodes_used = len(set(ray.get([where.remote() for _ in range(6)])))
        shards = sorted(f"{data}/{name}" for name in os.listdir(data))
        stats = _run_all(shards, out)
        stats["nodes"] = len([n for n in ray.nodes() if n["Alive"]])
        stats["nodes_used"] = nodes_used
        print("RESULT " + json.dumps(stats))
    finally:
        ray.shutdown()
        cluster.shutdown()


def _tables(folder: str) -> dict:
    return {name: pq.read_table(os.path.join(folder, name))
            for name in sorted(os.listdir(folder)) if name.endswith(".parquet")}


@pytest.mark.slow
def test_three_node_cluster_matches_single_node(tmp_path, ray_session):
    data = str(tmp_path / "data")
    make_corpus(data)
    proc = subprocess.run([sys.executable, __file__, data, str(tmp_path / "cluster")],
                          capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    on_cluster = json.loads(lines[0][len("RESULT "):])
    assert on_cluster["nodes"] == 3 and on_cluster["nodes_used"] >= 2
    shards = sorted(f"{data}/{name}" for name in os.listdir(data))
    single = _run_all(shards, str(tmp_path / "single"))
    for method in METHODS:
        assert on_cluster[method]["exit_code"] == single[method]["exit_code"] == 0
        assert on_cluster[method]["out"] == single[method]["out"]
        a, b = (_tables(str(tmp_path / where / method / "data")) for where in ("cluster", "single"))
        assert a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a), method
        for folder in (".dclm/dropped",):
            da, db = (_tables(str(tmp_path / where / method / folder)) for where in ("cluster", "single"))
            assert all(da[k].equals(db[k]) for k in da), method
    mh_cluster, mh_single = on_cluster["minhash"]["global"], single["minhash"]["global"]
    assert mh_cluster["cluster_sizes"] == mh_single["cluster_sizes"]
    assert mh_cluster["clusters"] > 50 and mh_cluster["removed"] == mh_single["removed"]


if __name__ == "__main__":
    _cluster_main(sys.argv[1], sys.argv[2])
