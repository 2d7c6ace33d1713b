"""MinHash dedup speed and memory, end to end: ours, datatrove, datasketch.

All three read the same Parquet shards (``dedup_neardup_generator``), use
word 5-grams and the same b × r (14 × 8), go from text to clusters to the
removal of duplicates, and write the kept documents (and, where the tool
can, the removed ones) as Parquet:

* ours: ``dclm dedup minhash``'s code path (``pipelines.deduplication.stage``) on an
  embedded Ray runtime with ``--cpus`` CPUs; output, dropped/, ledgers;
* datatrove 0.10: its four stages ``MinhashDedupSignature``,
  ``MinhashDedupBuckets``, ``MinhashDedupCluster``, ``MinhashDedupFilter``,
  each a ``LocalPipelineExecutor`` with ``--cpus`` workers (stage 3 is one
  task by design), ``ParquetReader``/``ParquetWriter`` and an exclusion
  writer for the removed documents;
* datasketch: ``MinHash`` + ``MinHashLSH`` in one process (it has no
  parallel mode), candidate pairs joined by union-find, lowest id kept.

A fourth run, ``ray_idle``, is the floor under ours: the same embedded Ray
runtime with one worker per CPU, our modules imported, and no data; its
settled PSS (after start-up) is reported next to its peak.

Each runs in its own subprocess; this parent samples the process *tree*
(the child, and for ours the Ray daemons and workers it starts) every
0.2 s (``dedup_tree_sampler``) and reports the peak of the summed RSS and
of the summed PSS (which counts a shared page once, split among its users:
Ray's object store and forked workers share a lot), the PSS at that peak by
role (Ray daemons, Ray workers, the job's own processes) and the CPU time
of the tree. Ours minus ``ray_idle`` is the memory our dedup adds to an idle
runtime. Throughput is given two ways: documents per second of wall time
per CPU used (for ours with and without the Ray runtime's start-up, which a
long run pays once), and documents per CPU-second of the whole tree, which
other jobs on a shared machine do not distort.

    python benchmarks/dedup_speed.py --data /tmp/neardup --cpus 2

datatrove 0.10 hashes ``str`` shingles with xxhash, which xxhash 4 (our
environment's) refuses; ``--datatrove-python`` runs its child under another
interpreter, e.g. a venv that adds ``xxhash<4`` in front of this one's
packages (a ``.pth`` file naming this venv's site-packages).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.dedup_tree_sampler import TreeSampler, pss_by_role  # noqa: E402

NGRAM, BANDS, ROWS = 5, 14, 8


def _paths(data: str) -> list[str]:
    return sorted(glob.glob(os.path.join(data, "*.parquet")))


def run_ours(data: str, work: str, cpus: int) -> dict:
    started = time.monotonic()
    import ray

    from dclm.runtime.executor import ensure_ray

    ensure_ray(None, cpus)          # the CLI's embedded runtime, settings and all
    ready = time.monotonic()
    from dedup.minhash_config import MinHashConfig
    from pipelines.deduplication.methods import minhash_method
    from pipelines.deduplication.stage import run_dedup

    config = MinHashConfig(ngram=NGRAM, num_bands=BANDS, rows_per_band=ROWS)
    with open(os.devnull, "w") as quiet:
        code, stats = run_dedup(minhash_method(config), _paths(data), work, progress=False,
                                out=quiet)
    done = time.monotonic()
    ray.shutdown()
    return {"exit_code": code, "docs": stats["documents_in"], "kept": stats["documents_out"],
            "seconds": done - started, "seconds_without_startup": done - ready,
            "startup_seconds": ready - started, "cpus": cpus,
            "phases": stats.get("stage_seconds", {})}


def run_datatrove(data: str, work: str, cpus: int) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    started = time.monotonic()
    config = MinhashConfig(n_grams=NGRAM, num_buckets=BANDS, hashes_per_bucket=ROWS, seed=1)
    files = len(_paths(data))

    def reader():
        return ParquetReader(data, glob_pattern="*.parquet", text_key="text", id_key="id")

    phases = {}
    stages = [
        ("signatures", [reader(), MinhashDedupSignature(f"{work}/sigs", config=config)], files, cpus),
        ("buckets", [MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=config)],
         BANDS, cpus),
        ("components", [MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=config)],
         1, 1),
        ("filter", [reader(), MinhashDedupFilter(f"{work}/remove",
                                                 exclusion_writer=ParquetWriter(f"{work}/removed")),
                    ParquetWriter(f"{work}/output")], files, cpus),
    ]
    for name, pipeline, tasks, workers in stages:
        t0 = time.monotonic()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=workers,
                              logging_dir=f"{work}/logs/{name}").run()
        phases[name] = round(time.monotonic() - t0, 3)
    seconds = time.monotonic() - started
    import pyarrow.parquet as pq

    kept = sum(pq.ParquetFile(p).metadata.num_rows
               for p in glob.glob(f"{work}/output/*.parquet"))
    docs = sum(pq.ParquetFile(p).metadata.num_rows for p in _paths(data))
    return {"docs": docs, "kept": kept, "seconds": seconds, "cpus": cpus, "phases": phases}


def run_datasketch(data: str, work: str, cpus: int) -> dict:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasketch import MinHash, MinHashLSH

    from dedup.shingles import word_ngrams
    from dedup.union_find import UnionFind

    started = time.monotonic()
    table = pa.concat_tables(pq.read_table(p) for p in _paths(data))
    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
    lsh = MinHashLSH(num_perm=BANDS * ROWS, params=(BANDS, ROWS))
    sketches = []
    for i, text in enumerate(texts):
        sketch = MinHash(num_perm=BANDS * ROWS, seed=1)
        sketch.update_batch([s.encode("utf-8") for s in word_ngrams(text or "", NGRAM)])
        lsh.insert(i, sketch)
        sketches.append(sketch)
    signed = time.monotonic()
    uf = UnionFind()
    for i, sketch in enumerate(sketches):
        for j in lsh.query(sketch):
            if j != i:
                uf.union(i, j)
    # Keep the lowest id of each cluster, like ours.
    best: dict = {}
    for node in uf.parent:
        root = uf.find(node)
        if root not in best or ids[node] < ids[best[root]]:
            best[root] = node
    removed = {node for node in uf.parent if best[uf.find(node)] != node}
    keep = np.array([i not in removed for i in range(len(ids))])
    os.makedirs(work, exist_ok=True)
    pq.write_table(table.filter(pa.array(keep)), f"{work}/kept.parquet")
    pq.write_table(table.filter(pa.array(~keep)), f"{work}/removed.parquet")
    done = time.monotonic()
    return {"docs": len(ids), "kept": int(keep.sum()), "seconds": done - started, "cpus": 1,
            "phases": {"signatures_and_index": round(signed - started, 3),
                       "query_cluster_write": round(done - signed, 3)}}


def _import_our_modules(seconds: float) -> int:
    """Ray task of the idle baseline: load what a dedup task loads, then wait."""
    import pipelines.deduplication.minhash_dedup  # noqa: F401
    import pipelines.deduplication.write  # noqa: F401
    time.sleep(seconds)
    return os.getpid()


def run_ray_idle(data: str, work: str, cpus: int) -> dict:
    """The floor under ours: the embedded runtime with one idle worker per CPU.

    The same runtime as ours (``ensure_ray``), every worker started and our
    modules imported in it and in the driver, and no data.
    """
    started = time.monotonic()
    import ray

    from dclm.runtime.executor import ensure_ray
    from pipelines.deduplication.stage import run_dedup  # noqa: F401  (as the driver of ours)

    ensure_ray(None, cpus)
    task = ray.remote(_import_our_modules)
    # All tasks at once, each holding a CPU for a while: one worker per CPU.
    pids = ray.get([task.remote(4.0) for _ in range(cpus)])
    time.sleep(2.0)
    # The sampler's peak includes start-up (workers being set up run as two
    # processes for a moment); the floor a long run sits on is the settled tree.
    settled = pss_by_role(os.getpid())
    ray.shutdown()
    return {"docs": 0, "workers": len(set(pids)), "seconds": time.monotonic() - started,
            "cpus": cpus, "settled_pss_mib": settled}


RUNNERS = {"ours": run_ours, "datatrove": run_datatrove, "datasketch": run_datasketch,
           "ray_idle": run_ray_idle}


def measure(method: str, args: argparse.Namespace) -> dict:
    work = os.path.join(args.work, method)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    result_path = os.path.join(args.work, f"{method}.json")
    python = args.datatrove_python if method == "datatrove" and args.datatrove_python else sys.executable
    cmd = [python, os.path.abspath(__file__), "--child", method, "--data", args.data,
           "--work", work, "--cpus", str(args.cpus), "--result", result_path]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{err.decode()[-3000:]}")
    with open(result_path) as fh:
        result = json.load(fh)
    result.update(cpu_seconds=round(sampler.cpu_seconds, 1),
                  docs_per_cpu_second=round(result["docs"] / max(sampler.cpu_seconds, 1e-9), 1),
                  peak_rss_mib=round(sampler.peak_rss / 2**20, 1),
                  peak_pss_mib=round(sampler.peak_pss / 2**20, 1),
                  processes_at_peak=sampler.peak_processes,
                  pss_mib_by_role_at_peak=sampler.peak_roles,
                  pss_mib_by_process_at_peak=sampler.peak_detail)
    if not result["docs"]:                     # the idle baseline
        return result
    result["docs_per_s_per_cpu"] = round(result["docs"] / result["seconds"] / result["cpus"], 1)
    if "seconds_without_startup" in result:
        result["docs_per_s_per_cpu_without_startup"] = round(
            result["docs"] / result["seconds_without_startup"] / result["cpus"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder of Parquet shards (id, text)")
    parser.add_argument("--work", default="/tmp/dedup_speed", help="scratch folder")
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--methods", default="ray_idle,ours,datatrove,datasketch")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--reuse", default=None, metavar="JSON",
                        help="take these methods' results from an earlier --json instead of "
                             "rerunning them (datatrove takes long on 2 cores)")
    parser.add_argument("--datatrove-python", default=None, metavar="PYTHON",
                        help="interpreter of an environment with datatrove 0.10 and xxhash < 4 "
                             "(datatrove 0.10 hashes str, which xxhash 4 refuses)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = RUNNERS[args.child](args.data, args.work, args.cpus)
        with open(args.result, "w") as fh:
            json.dump(result, fh)
        return
    results = {}
    if args.reuse:
        with open(args.reuse) as fh:
            results = {k: v for k, v in json.load(fh).items() if k in RUNNERS}
    for method in args.methods.split(","):
        if method in results:
            continue
        results[method] = measure(method, args)
        print(method, json.dumps(results[method]), flush=True)
    if "ours" in results and "datatrove" in results:
        ours, peer = results["ours"], results["datatrove"]
        results["ours_vs_datatrove"] = {
            "throughput_x": round(ours["docs_per_s_per_cpu"] / peer["docs_per_s_per_cpu"], 2),
            "cpu_time_x": round(ours["docs_per_cpu_second"] / peer["docs_per_cpu_second"], 2),
            "throughput_x_without_startup": round(
                ours["docs_per_s_per_cpu_without_startup"] / peer["docs_per_s_per_cpu"], 2),
            "peak_pss_ratio": round(ours["peak_pss_mib"] / peer["peak_pss_mib"], 2),
            "peak_rss_ratio": round(ours["peak_rss_mib"] / peer["peak_rss_mib"], 2)}
        if "ray_idle" in results:
            floor = results["ray_idle"]["settled_pss_mib"]["total"]
            results["ours_vs_datatrove"].update(
                ray_idle_pss_mib=floor,
                ours_above_ray_idle_pss_mib=round(ours["peak_pss_mib"] - floor, 1),
                ray_idle_pss_ratio=round(floor / peer["peak_pss_mib"], 2))
        print("ours vs datatrove", json.dumps(results["ours_vs_datatrove"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
