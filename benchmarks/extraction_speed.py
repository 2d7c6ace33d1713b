"""WARC -> main text throughput per core: our shard extraction vs datatrove vs bare resiliparse.

    python benchmarks/extraction_speed.py [--inputs A.warc.gz B.warc.gz ...] [--repeat 3]
                                          [--systems ours,datatrove,bare] [--dt-timeout 10] [--json out.json]

Default inputs: the first 11 dev WARCs, ``CC-MAIN-DEV-0000[0-9]`` and
``CC-MAIN-DEV-00010`` (1,079 HTML pages). Everything runs in this one process,
on one core, over the same files:

  ours       ``pipelines.extract.extract_shard`` per WARC, as ``dclm extract``
             runs it inside a Ray task, minus Ray: read the WARC (our robust
             reader), decode the charset, ``extract_main_content``, build the
             document rows and write the Parquet shard and its ledger (to a
             temporary directory).
  datatrove  datatrove 0.10's own pipeline, ``WarcReader -> Trafilatura``
             (favour_precision, its default), run by ``LocalPipelineExecutor``
             with tasks=1, workers=1, which runs the task in this process.
             datatrove extracts in a sandbox subprocess, so its CPU time is
             this process's plus that of its (reaped) children. The extractor's
             per-document timeout is set to ours (``--dt-timeout``, 10 s)
             instead of its default 1 s, so no page is skipped for slowness.
  bare       the floor: warcio ``ArchiveIterator``, resiliparse
             ``detect_encoding(from_html_meta=True)`` + ``bytes_to_str``, and
             ``extract_plain_text(main_content=True)`` in a loop, no output.

Documents: every HTML response record (Content-Type says html, or the payload
starts like HTML when there is none). Each system's own count of the pages it
took in is printed next to its speed, so a mismatch would show.

docs/s per core = documents / CPU seconds (user + system). CPU time, unlike
wall time, does not grow when other processes share the machine; wall-clock
figures are printed too. ``ours`` and ``bare`` take turns file by file, in an
order that rotates, ``--repeat`` times; datatrove, ~50x slower, runs once.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WARC_DIR = REPO.parent / "shared" / "corpus" / "warc"
DEFAULT_INPUTS = [WARC_DIR / f"CC-MAIN-DEV-{i:05d}.warc.gz" for i in range(11)]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _looks_like_html(content_type: str | None, payload: bytes) -> bool:
    """The pipeline's rule for which responses are pages to extract."""
    if content_type:
        return "html" in content_type.lower()
    head = payload[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


# --- (a) ours -----------------------------------------------------------------

def make_ours(workdir: Path) -> tuple[str, Callable[[Path], int]]:
    """One shard through the project's extraction; returns the pages it took in."""
    try:
        from dclm.runtime.executor import ShardJob
        from pipelines.extract import extract_shard
    except ImportError:  # no shard pipeline in this checkout: the same steps by hand
        return "ours (warcio + decode + extract_main_content)", _ours_fallback

    counter = iter(range(1 << 30))

    def run(warc: Path) -> int:
        name = f"{warc.name.split('.')[0]}-{next(counter)}"
        job = ShardJob(name=name, input=str(warc), output=str(workdir / f"{name}.parquet"),
                       ledger=str(workdir / "ledger" / f"{name}.json"))
        ledger = extract_shard(job)
        step = next(s for s in ledger["steps"] if s["step"] == "extract")
        extraction_errors = sum(v for k, v in step["errors"].items() if k.startswith("extraction"))
        return step["kept"] + step["dropped"].get("empty_text", 0) + extraction_errors

    return "ours (pipelines.extract.extract_shard)", run


def _html_responses(warc: Path):
    """(Content-Type, payload) of every HTML response, read with plain warcio."""
    from warcio.archiveiterator import ArchiveIterator

    with open(warc, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            content_type = record.http_headers.get_header("Content-Type")
            payload = record.content_stream().read()
            if _looks_like_html(content_type, payload):
                yield content_type, payload


def _ours_fallback(warc: Path) -> int:
    from dclm.extract.html_text import decode_html
    from dclm.extract.main_content import extract_main_content

    pages = 0
    for content_type, payload in _html_responses(warc):
        extract_main_content(decode_html(payload, content_type))
        pages += 1
    return pages


# --- (c) bare resiliparse -------------------------------------------------------

def bare(warc: Path) -> int:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    from resiliparse.parse.html import HTMLTree

    pages = 0
    for _content_type, payload in _html_responses(warc):
        html = bytes_to_str(payload, detect_encoding(payload, from_html_meta=True))
        extract_plain_text(HTMLTree.parse(html), main_content=True, preserve_formatting=True,
                           list_bullets=False, alt_texts=False)
        pages += 1
    return pages


# --- (b) datatrove ----------------------------------------------------------------

def run_datatrove(warcs: list[Path], timeout: float, verbose: bool) -> dict:
    import trafilatura  # imported here so the forked extractor inherits it, as on a warm worker
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader

    counts = {"in": 0, "out": 0}

    def count_in(data, rank: int = 0, world_size: int = 1):
        for doc in data:
            counts["in"] += 1
            yield doc

    def count_out(data, rank: int = 0, world_size: int = 1):
        for doc in data:
            counts["out"] += 1
            yield doc

    inputs = Path(tempfile.mkdtemp(prefix="dt-inputs-"))
    logs = Path(tempfile.mkdtemp(prefix="dt-logs-"))
    try:
        for i, warc in enumerate(warcs):  # one folder holding exactly the chosen files
            os.symlink(warc.resolve(), inputs / f"{i:05d}-{warc.name}")
        executor = LocalPipelineExecutor(
            pipeline=[WarcReader(str(inputs), glob_pattern="*"), count_in,
                      Trafilatura(favour_precision=True, timeout=timeout), count_out],
            tasks=1, workers=1, logging_dir=str(logs))
        quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stderr(io.StringIO())
        cpu0, child0, wall0 = time.process_time(), _children_cpu(), time.perf_counter()
        with quiet:
            executor.run()
        wall = time.perf_counter() - wall0
        cpu, child = time.process_time() - cpu0, _children_cpu() - child0
    finally:
        shutil.rmtree(inputs, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
    return {"docs": counts["in"], "docs_out": counts["out"], "cpu_s": cpu + child, "cpu_self_s": cpu,
            "cpu_children_s": child, "wall_s": wall, "trafilatura": trafilatura.__version__,
            "python": sys.executable}


def run_datatrove_elsewhere(python: str, warcs: list[Path], timeout: float) -> dict:
    """datatrove's run in another interpreter: its own virtualenv, with its own pins."""
    with tempfile.TemporaryDirectory(prefix="dt-json-") as tmp:
        out = Path(tmp) / "dt.json"
        subprocess.run([python, str(Path(__file__).resolve()), "--systems", "datatrove", "--dt-timeout",
                        str(timeout), "--json", str(out), "--inputs", *map(str, warcs)],
                       check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())["results"]["datatrove"]


# ----------------------------------------------------------------------------------

def time_alternating(systems: dict[str, Callable[[Path], int]], warcs: list[Path], repeat: int) -> dict:
    """Each system over each file in turn, the order rotating; CPU and wall totals."""
    stats = {name: {"docs": 0, "cpu_s": 0.0, "wall_s": 0.0, "passes": 0} for name in systems}
    names = list(systems)
    turn = 0
    for _ in range(max(1, repeat)):
        for warc in warcs:
            order = names[turn % len(names):] + names[:turn % len(names)]
            turn += 1
            for name in order:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                pages = systems[name](warc)
                stats[name]["cpu_s"] += time.process_time() - cpu0
                stats[name]["wall_s"] += time.perf_counter() - wall0
                stats[name]["docs"] += pages
        for name in names:
            stats[name]["passes"] += 1
    for st in stats.values():  # per pass
        st["docs"] //= st["passes"]
        st["cpu_s"] /= st["passes"]
        st["wall_s"] /= st["passes"]
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", nargs="+", type=Path, default=DEFAULT_INPUTS, help="WARC files")
    ap.add_argument("--systems", default="ours,datatrove,bare")
    ap.add_argument("--repeat", type=int, default=3, help="passes for ours and bare (datatrove: 1)")
    ap.add_argument("--dt-timeout", type=float, default=10.0,
                    help="datatrove Trafilatura per-document timeout, seconds (ours is 10)")
    ap.add_argument("--dt-python", default=None,
                    help="run datatrove with this interpreter instead (a virtualenv holding datatrove[processing] "
                         "with its own trafilatura pin, <1.12, which this project's >=1.12 excludes)")
    ap.add_argument("--verbose", action="store_true", help="show datatrove's log")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    # warcio logs a warning per URI with a space in it; identical for every system, and noise here.
    logging.getLogger("warcio").setLevel(logging.ERROR)
    wanted = [s.strip() for s in args.systems.split(",") if s.strip()]
    warcs = [Path(p) for p in args.inputs]
    missing = [str(p) for p in warcs if not p.is_file()]
    if missing:
        raise SystemExit(f"missing inputs: {', '.join(missing)}")

    workdir = Path(tempfile.mkdtemp(prefix="extract-speed-"))
    results: dict[str, dict] = {}
    labels: dict[str, str] = {}
    try:
        fast: dict[str, Callable[[Path], int]] = {}
        if "ours" in wanted:
            labels["ours"], fast["ours"] = make_ours(workdir)
        if "bare" in wanted:
            labels["bare"], fast["bare"] = "bare resiliparse loop", bare
        for run in fast.values():  # warm-up: imports, compiled patterns
            run(warcs[0])
        if fast:
            results.update(time_alternating(fast, warcs, args.repeat))
        if "datatrove" in wanted:
            labels["datatrove"] = "datatrove (WarcReader + Trafilatura)"
            if args.dt_python:
                results["datatrove"] = run_datatrove_elsewhere(args.dt_python, warcs, args.dt_timeout)
            else:
                results["datatrove"] = run_datatrove(warcs, args.dt_timeout, args.verbose)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{len(warcs)} WARC files; single process; docs/s per core = documents / CPU seconds\n")
    print(f"{'system':<42}{'docs':>6}{'CPU s':>9}{'wall s':>9}{'docs/s/core':>13}{'docs/s wall':>13}")
    for name in ("ours", "datatrove", "bare"):
        if name not in results:
            continue
        st = results[name]
        st["docs_per_s_core"] = st["docs"] / st["cpu_s"] if st["cpu_s"] else 0.0
        st["docs_per_s_wall"] = st["docs"] / st["wall_s"] if st["wall_s"] else 0.0
        print(f"{labels[name]:<42}{st['docs']:>6}{st['cpu_s']:>9.2f}{st['wall_s']:>9.2f}"
              f"{st['docs_per_s_core']:>13.1f}{st['docs_per_s_wall']:>13.1f}")
    if "datatrove" in results:
        dt = results["datatrove"]
        print(f"\ndatatrove CPU: {dt['cpu_self_s']:.2f}s in its process + {dt['cpu_children_s']:.2f}s in its "
              f"extractor subprocess; {dt['docs_out']} of {dt['docs']} pages came out non-empty; "
              f"trafilatura {dt['trafilatura']} ({dt['python']})")
    print()
    if "ours" in results and "datatrove" in results:
        ratio = results["ours"]["docs_per_s_core"] / results["datatrove"]["docs_per_s_core"]
        wall_ratio = results["ours"]["docs_per_s_wall"] / results["datatrove"]["docs_per_s_wall"]
        print(f"ours / datatrove: {ratio:.1f}x per core ({wall_ratio:.1f}x wall)   goal >= 20x")
    if "ours" in results and "bare" in results:
        ratio = results["bare"]["docs_per_s_core"] / results["ours"]["docs_per_s_core"]
        wall_ratio = results["bare"]["docs_per_s_wall"] / results["ours"]["docs_per_s_wall"]
        print(f"bare / ours:      {ratio:.2f}x per core ({wall_ratio:.2f}x wall)   goal <= 1.3x")
    if args.json:
        args.json.write_text(json.dumps({"inputs": [str(p) for p in warcs], "labels": labels,
                                         "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
