"""Throughput of `dclm run` through the real Ray executor: 1 worker, 2 workers, a 3-node cluster.

    python benchmarks/scaling.py [--warc-dir ../shared/corpus/warc] [--shards 8] [--pages-per-shard 400]
                                 [--recipe dclm_baseline_heuristics] [--json results.json]

The workload is real crawl bytes: the response records of the WARCs in
``--warc-dir`` (the shared corpus when present, else ``data/sample``), copied
gzip member by gzip member into ``--shards`` equal shards, pages dealt round
robin so every shard has the same mix. Each configuration starts its own Ray
runtime, warms its workers up on one small shard each (imports and models are
loaded once per worker, which a 90,000-shard run amortises), then runs every
shard with ``pipelines.filter.run_shard`` (`dclm run`: extraction and the
recipe in one pass) through ``dclm.runtime.executor.run_jobs``.

Reported: pages per second (WARC response records) over the wall time of the
timed pass, scaling efficiency ``T2 / (2 * T1)``, pages per CPU-second (the
rate of a core that runs nothing else), the cluster's pages per second and
how many nodes ran shards, and the largest worker peak RSS the ledgers
recorded. The cluster is ``ray.cluster_utils.Cluster``: three raylets
on this machine, so it shows that work spreads over nodes, not extra speed.
The machine may be shared: the load average before and after each pass is
printed with it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED_WARCS = REPO.parent / "shared" / "corpus" / "warc"


def response_members(warc_dir: Path) -> list[tuple[Path, int, int]]:
    """(file, offset, length) of every response record's gzip member, in file order."""
    from warcio.archiveiterator import ArchiveIterator

    members = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            records = ArchiveIterator(fh)
            for record in records:
                if record.rec_type == "response":
                    record.content_stream().read()          # warcio knows the length once read
                    members.append((path, records.get_record_offset(), records.get_record_length()))
    return members


def build_shards(warc_dir: Path, out_dir: Path, shards: int, pages_per_shard: int) -> list[str]:
    """``shards`` WARCs of ``pages_per_shard`` real response records each, dealt round robin."""
    members = response_members(warc_dir)
    if not members:
        raise SystemExit(f"benchmarks/scaling.py: no response record in {warc_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    handles = {}
    for shard in range(shards):
        path = out_dir / f"SCALE-{shard:05d}.warc.gz"
        with open(path, "wb") as out:
            for page in range(pages_per_shard):
                source, offset, length = members[(page * shards + shard) % len(members)]
                fh = handles.setdefault(source, open(source, "rb"))
                fh.seek(offset)
                out.write(fh.read(length))
        paths.append(str(path))
    for fh in handles.values():
        fh.close()
    return paths


def _runtime_env() -> dict:
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
                         "ARROW_DEFAULT_MEMORY_POOL": "system"}}


def run_shard_on_the_clock(job) -> dict:
    """``run_shard`` plus the CPU seconds its worker spent on it (all threads)."""
    from pipelines.filter import run_shard

    started = time.process_time()
    ledger = run_shard(job)
    ledger["cpu_s"] = time.process_time() - started
    return ledger


def timed_pass(shards: list[str], warmup: list[str], out_dir: Path, params: dict) -> dict:
    """Warm every worker up, then run all shards once; what the ledgers and the clock say.

    ``pages_per_cpu_s`` is what one core does when it has nothing else to run;
    ``cpu_share`` (CPU seconds over a worker's wall seconds) shows how much of
    a core the workers got, below 1 when other jobs competed for the machine.
    """
    from dclm.runtime.executor import plan_jobs, run_jobs

    run_jobs(plan_jobs(warmup, str(out_dir / "warmup"), params), run_shard_on_the_clock, progress=False,
             force=True)
    load_before = os.getloadavg()[0]
    report = run_jobs(plan_jobs(shards, str(out_dir / "run"), params), run_shard_on_the_clock, progress=False,
                      force=True)
    if report.failed:
        raise SystemExit(f"benchmarks/scaling.py: shards failed: {report.failed}")
    pages = sum(ledger["details"]["responses"] for ledger in report.ledgers)
    cpu = sum(ledger["cpu_s"] for ledger in report.ledgers)
    shard_wall = sum(ledger["seconds"] for ledger in report.ledgers)
    return {"pages": pages, "records": sum(ledger["documents_in"] for ledger in report.ledgers),
            "wall_s": round(report.seconds, 2), "pages_per_s": round(pages / report.seconds, 1),
            "shard_s": round(shard_wall, 2), "cpu_s": round(cpu, 2),
            "pages_per_cpu_s": round(pages / cpu, 1), "cpu_share": round(cpu / shard_wall, 3),
            "worker_peak_rss_mib": max(ledger["details"].get("worker_peak_rss_mib", 0) for ledger in report.ledgers),
            "nodes": len(getattr(report, "nodes", ()) or ()),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}


def local_runtime(workers: int, shards, warmup, out_dir: Path, params: dict) -> dict:
    import ray

    ray.init(address="local", num_cpus=workers, include_dashboard=False, configure_logging=False,
             log_to_driver=False, runtime_env=_runtime_env())
    try:
        return timed_pass(shards, warmup[:workers], out_dir / f"local-{workers}", params)
    finally:
        ray.shutdown()


def simulated_cluster(nodes: int, shards, warmup, out_dir: Path, params: dict) -> dict:
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, runtime_env=_runtime_env(), log_to_driver=False)
    try:
        return timed_pass(shards, warmup[:nodes], out_dir / f"cluster-{nodes}", params)
    finally:
        ray.shutdown()
        cluster.shutdown()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warc-dir", type=Path,
                        default=SHARED_WARCS if SHARED_WARCS.is_dir() else REPO / "data" / "sample")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--pages-per-shard", type=int, default=400)
    parser.add_argument("--recipe", default="dclm_baseline_heuristics")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cluster-nodes", type=int, default=3, help="0 skips the simulated cluster")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    from dclm.recipe import load_recipe, recipe_for_record

    recipe = load_recipe(args.recipe)
    params = {"extractor": "resiliparse", "time_limit_s": 10.0, "recipe_path": recipe.path, "source": None,
              "annotate": False, "dropped_sample": None, **recipe_for_record(recipe)}
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="dclm-scaling-"))
    shards = build_shards(args.warc_dir, work / "warc", args.shards, args.pages_per_shard)
    warmup = build_shards(args.warc_dir, work / "warmup-warc", max(args.workers + [args.cluster_nodes]), 20)
    results: dict = {"warc_dir": str(args.warc_dir), "recipe": args.recipe, "shards": args.shards,
                     "pages_per_shard": args.pages_per_shard, "cores": os.cpu_count(), "local": {}}
    for workers in args.workers:
        results["local"][str(workers)] = local_runtime(workers, shards, warmup, work, params)
        print(f"{workers} worker(s): {results['local'][str(workers)]}", flush=True)
    one, two = results["local"].get("1"), results["local"].get("2")
    if one and two:
        results["efficiency_2_workers"] = round(two["pages_per_s"] / (2 * one["pages_per_s"]), 3)
        # The same ratio per CPU-second: the cost of running side by side, without
        # the CPU time other jobs on a shared machine took from the workers.
        results["cpu_efficiency_2_workers"] = round(two["pages_per_cpu_s"] / one["pages_per_cpu_s"], 3)
    if args.cluster_nodes:
        results["cluster"] = simulated_cluster(args.cluster_nodes, shards, warmup, work, params)
        print(f"{args.cluster_nodes}-node simulated cluster: {results['cluster']}", flush=True)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
