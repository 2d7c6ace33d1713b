"""Is JSONL.zst input a bottleneck? ``dclm filter --recipe refinedweb`` over the same documents
as Parquet and as JSONL.zst.

    python benchmarks/jsonl_speed.py [--pool ../shared/pool] [--shards 24] [--work /tmp/jsonl_speed] [--cpus 2]

Steps: extract the blog pool's WET shards once (``dclm extract``), write
each shard's documents again as DCLM-pool-shaped ``.jsonl.zst`` (text, url,
metadata with the WARC headers; no id column, so the reader derives it), then
run the same recipe over both, each in a fresh embedded Ray runtime,
alternating formats ``--repeats`` times and keeping each format's fastest run
(a busy machine slows whichever run it meets), and print documents per
second and their ratio (JSONL / Parquet; the target is at least 0.8). The
kept texts of both are compared, and the read alone (every document of every
shard, in this process) is timed for both formats too.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _dclm(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dclm.cli", *args, "--no-progress"], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _to_dclm_pool(parquet: Path, target: Path) -> int:
    import pyarrow.parquet as pq
    import zstandard

    rows = pq.read_table(parquet).to_pylist()
    with zstandard.open(target, "wb") as fh:
        for row in rows:
            metadata = json.loads(row["metadata"] or "{}")
            record = {"text": row["text"], "url": row["url"],
                      "metadata": {"WARC-Record-ID": row["id"], "WARC-Date": row["date"], **metadata}}
            fh.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    return len(rows)


def _read_seconds(paths: list[Path]) -> float:
    from dclm.io.document_files import iter_documents

    started = time.perf_counter()
    for path in paths:
        for _ in iter_documents(str(path)):
            pass
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", default=str(REPO.parent / "shared" / "pool"))
    parser.add_argument("--shards", type=int, default=24)
    parser.add_argument("--work", default="/tmp/jsonl_speed")
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    import pyarrow.parquet as pq

    work = Path(args.work)
    shards = sorted(Path(args.pool).glob("*.warc.gz"))[: args.shards]
    extracted = work / "extracted"
    if not (extracted / "data").is_dir():
        _dclm("extract", *map(str, shards), "--output", str(extracted), "--num-cpus", str(args.cpus))
    parquet_dir, jsonl_dir = extracted / "data", work / "jsonl"
    jsonl_dir.mkdir(parents=True, exist_ok=True)
    documents = 0
    for parquet in sorted(parquet_dir.glob("*.parquet")):
        target = jsonl_dir / (parquet.stem + ".jsonl.zst")
        documents += _to_dclm_pool(parquet, target) if not target.exists() else pq.read_metadata(parquet).num_rows
    sizes = {"parquet_mb": sum(p.stat().st_size for p in parquet_dir.glob("*.parquet")) / 1e6,
             "jsonl_zst_mb": sum(p.stat().st_size for p in jsonl_dir.glob("*.jsonl.zst")) / 1e6}
    read_s = {name: _read_seconds(sorted(folder.iterdir())) for name, folder in (("parquet", parquet_dir),
                                                                                  ("jsonl.zst", jsonl_dir))}
    seconds: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, source in (("parquet", parquet_dir), ("jsonl.zst", jsonl_dir)):
            out = work / f"out_{name.replace('.', '_')}"
            took = _dclm("filter", "--recipe", "refinedweb", "--input", str(source), "--output", str(out),
                         "--num-cpus", str(args.cpus), "--force")
            seconds[name] = min(seconds.get(name, took), took)
    kept = {name: sorted(pq.read_table(work / f"out_{name.replace('.', '_')}" / "data").column("text").to_pylist())
            for name in seconds}
    rates = {name: documents / s for name, s in seconds.items()}
    ratio = rates["jsonl.zst"] / rates["parquet"]
    print(f"{documents:,} documents in {len(shards)} shards "
          f"(Parquet {sizes['parquet_mb']:.1f} MB, JSONL.zst {sizes['jsonl_zst_mb']:.1f} MB)")
    for name in seconds:
        print(f"{name:<10} {seconds[name]:8.1f} s  {rates[name]:8.0f} docs/s (wall, Ray start-up included)")
    print(f"JSONL.zst / Parquet docs/s: {ratio:.2f} (target >= 0.8); kept texts identical: "
          f"{kept['parquet'] == kept['jsonl.zst']}")
    print("reading alone, every document: " + ", ".join(f"{name} {s:.1f} s ({documents / s:,.0f} docs/s)"
                                                        for name, s in read_s.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"documents": documents, "seconds": seconds, "ratio": ratio,
                                               "read_seconds": read_s, **sizes}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
