"""Time and peak memory of each hostile input of issue 15, for one checkout of the toolkit.

Every case builds its hostile file (the same builders as the tests,
``tests/hostile_archives.py``), then runs the real CLI, or for case 3 the
validator's shard recount, in a subprocess with ``PYTHONPATH`` set to
``--code``. The subprocess is capped (``--timeout`` seconds, ``--memory`` GB
of address space) so that the cases that hang or exhaust memory before the
fix end on a shared machine; such a run is reported as "> limit". Peak memory
is the subprocess's maximum RSS (``wait4``, which includes the children it
waited for: the validation worker, the page worker), not that of Ray's
workers. The cap is on the heap (``RLIMIT_DATA``), since Ray maps its object
store far beyond what it uses. Run it once on the old commit and once on the new one:

    git archive 006730e | tar -x -C /tmp/before
    python benchmarks/hostile_inputs.py --code /tmp/before --out before.json
    python benchmarks/hostile_inputs.py --code . --out after.json
    python benchmarks/hostile_inputs.py --table before.json after.json

Cases 7 and 8 need a real package or a signal mid-run; they are checked by
the tests (tests/test_leaderboard_hostile.py, tests/test_hostile_archives.py).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import hostile_archives as hostile  # noqa: E402

CLI = "import sys; from dclm.cli import main; sys.exit(main())"
DEEP_HTML = b"<html><body>" + b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000 + b"</body></html>"
RECOUNT = """
import sys, pyarrow as pa, pyarrow.parquet as pq
from dclm.training.scales import get_scale
from dclm.training.tokenizer import eos_id, load_tokenizer
path = sys.argv[1]
tokenizer = load_tokenizer(get_scale("micro"))
try:
    from dclm.submission.shard_limits import ShardBudget, shard_problem
    from dclm.training.tokenize_data import TextBudgetExceeded, count_shard_tokens
except ImportError:                                  # before the fix: the validator's tokenize_shard
    from dclm.training.tokenize_data import token_dtype, tokenize_shard
    print(tokenize_shard(path, tokenizer, eos_id(tokenizer), token_dtype(50432))[1])
else:
    import os
    print(shard_problem(path))
    try:
        print(count_shard_tokens(path, tokenizer, eos_id(tokenizer), ShardBudget(os.path.getsize(path)).text_bytes))
    except TextBudgetExceeded as exc:
        print("refused:", exc)
"""


def _run(code: Path, args: list[str], timeout: float, memory_gb: float, cwd: Path, env_extra=None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), **(env_extra or {})}
    limit = int(memory_gb * (1 << 30))

    def cap():
        # The heap, not the address space: Ray maps its object store far beyond any real use.
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        os.setsid()

    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, preexec_fn=cap)
    try:
        out, _ = process.communicate(timeout=timeout + 60)      # the wrapper stops the case at ``timeout``
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        out, _ = process.communicate()
    elapsed = time.perf_counter() - began
    lines = out.decode("utf-8", "replace").strip().splitlines()
    peak = [int(line.split()[1]) for line in lines if line.startswith("PEAK_RSS_MIB ")]
    timed_out = any(line.endswith("TIMED_OUT") for line in lines)     # a progress bar may precede it
    lines = [line.removesuffix("TIMED_OUT") for line in lines if not line.startswith("PEAK_RSS_MIB ")]
    lines = [line for line in lines if line]
    return {"seconds": round(elapsed, 2), "timed_out": timed_out, "exit": process.returncode,
            "traceback": any(line.startswith("Traceback") for line in lines), "peak_mib": peak[0] if peak else None,
            "tail": lines[-1][:160] if lines else ""}


_WRAPPER = """
import json, os, signal, sys
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.execv(sys.executable, [sys.executable] + json.loads(sys.argv[1]))
def stop(signum, frame):
    print("TIMED_OUT", flush=True)
    os.killpg(pid, signal.SIGKILL)
signal.signal(signal.SIGALRM, stop)
signal.setitimer(signal.ITIMER_REAL, float(sys.argv[2]))
_, status, usage = os.wait4(pid, 0)
print("PEAK_RSS_MIB", usage.ru_maxrss // 1024, flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _peak_wrapper(args: list[str], timeout: float) -> list[str]:
    """Run ``args`` under a small parent that stops it at ``timeout`` and reports its peak RSS (wait4)."""
    return ["-c", _WRAPPER, json.dumps(args), str(timeout)]


def measure(code: Path, args: list[str], timeout: float, memory_gb: float, cwd: Path, env_extra=None) -> dict:
    return _run(code, _peak_wrapper(args, timeout), timeout, memory_gb, cwd, env_extra)


def _warc(path: Path, pages: list[tuple[bytes, list[tuple[str, str]]]]) -> Path:
    return hostile.warc_of_pages(path, pages)


def build_cases(work: Path) -> dict[str, list[str]]:
    """Case number -> the arguments after the interpreter (the hostile files are written here)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    html = [("Content-Type", "text/html; charset=utf-8")]
    normal = b"<html><body><p>An ordinary page of plain English words to keep as a document.</p></body></html>"
    lb = ["-c", CLI, "leaderboard", "validate"]
    deep = work / "deep-json"
    deep.mkdir()
    (deep / "submission.json").write_text("[" * 200_000 + "]" * 200_000)
    board = work / "board"
    board.mkdir()
    hostile.pax_digits(board / "digits.tar.gz", 200_000)
    shutil.copytree(deep, board / "deep")
    bomb = work / "bomb.parquet"
    column = pa.DictionaryArray.from_arrays(pa.array([0] * 100, pa.int32()), pa.array(["a" * (1 << 20)]))
    pq.write_table(pa.table({"text": column}), bomb, compression="zstd")
    laughs = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
    recipes = {
        "laughs": laughs + "steps:\n  - func: url_substring_filter\n    banlist: *l8\n",
        "types": "- source: cc\n  steps:\n    - func: page_length_filter\n      length_type: word\n"
                 "      min_length: abc\n    - func: random_sampling_filter\n      keep_probability: -5\n",
        "nosource": "steps:\n  - func: page_length_filter\n    length_type: word\n    min_length: 5\n",
        "deep": "steps: " + "[" * 50_000 + "]" * 50_000 + "\n",
    }
    for name, text in recipes.items():
        (work / f"{name}.yaml").write_text(text)
    sample = str(REPO / "data" / "sample")
    _warc(work / "deep-html.warc.gz", [(DEEP_HTML, html), (normal, html)])
    _warc(work / "te-gzip.warc.gz", [(gzip.compress(normal), html + [("Transfer-Encoding", "gzip")])])
    _warc(work / "charset.warc.gz", [(normal.decode().encode("utf-16-le"), html),
                                     (normal + b" " * (len(normal) % 2),
                                      [("Content-Type", "text/html; charset=utf-16")])])
    run = ["-c", CLI, "run"]
    # Case 17's X: an extraction made by this checkout's code (the same format before and after the fix).
    subprocess.run([sys.executable, "-c", CLI, "extract", sample, "--output", str(work / "x"), "--num-cpus", "1",
                    "--no-progress"], env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, capture_output=True)
    return {
        "1 pax header of 200,000 digits": lb + [str(hostile.pax_digits(work / "digits.tar.gz", 200_000))],
        "2 GNU long name claiming 256 MiB": lb + [str(hostile.long_name_claim(work / "longname.tar.gz"))],
        "3 zstd Parquet: 100 MB of text in a few KB": ["-c", RECOUNT, str(bomb)],
        "4 1 GiB zero-filled submission.json": lb + [str(hostile.zero_filled_json(work / "zeros.tar.gz"))],
        "5 200,000-deep submission.json": lb + [str(deep)],
        "6 rank over a folder with hostile packages": ["-c", CLI, "leaderboard", "rank", str(board),
                                                       "--output", str(work / "board-out")],
        "9 billion laughs in a recipe": run + [str(work / "laughs.yaml"), "--input", sample,
                                               "--output", str(work / "o9"), "--num-cpus", "1"],
        "10 wrong parameter types and values": run + [str(work / "types.yaml"), "--input", sample,
                                                      "--output", str(work / "o10"), "--num-cpus", "1"],
        "11 steps without source": run + [str(work / "nosource.yaml"), "--input", sample,
                                          "--output", str(work / "o11"), "--num-cpus", "1"],
        "12 200,000-deep recipe YAML": run + [str(work / "deep.yaml"), "--input", sample,
                                              "--output", str(work / "o12"), "--num-cpus", "1"],
        "13 100,000 nested divs, --time-limit 10": ["-c", CLI, "extract", str(work / "deep-html.warc.gz"),
                                                    "--output", str(work / "o13"), "--num-cpus", "1",
                                                    "--time-limit", "10"],
        "14 Transfer-Encoding gzip": ["-c", CLI, "extract", str(work / "te-gzip.warc.gz"),
                                     "--output", str(work / "o14"), "--num-cpus", "1"],
        "15 UTF-16 as utf-8, ASCII as utf-16": ["-c", CLI, "extract", str(work / "charset.warc.gz"),
                                                "--output", str(work / "o15"), "--num-cpus", "1"],
        "16 --num-cpus 0": ["-c", CLI, "extract", sample, "--output", str(work / "o16"), "--num-cpus", "0"],
        "17 filter --input X --output X --force": ["-c", CLI, "filter", "--recipe", "raw", "--input",
                                                   str(work / "x"), "--output", str(work / "x"), "--force",
                                                   "--num-cpus", "1"],
    }


def _digest(folder: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.parquet")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _texts(folder: Path) -> list[str]:
    import pyarrow.parquet as pq

    documents = folder / "data" if (folder / "data").is_dir() else folder       # the layout since issue 13
    return [row for path in sorted(documents.glob("*.parquet")) for row in pq.read_table(path)["text"].to_pylist()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", type=Path, help="checkout to measure (its root goes on PYTHONPATH)")
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--memory", type=float, default=6.0, help="heap cap per case, GB")
    parser.add_argument("--only", nargs="+", metavar="N", help="run these case numbers, merging into --out")
    parser.add_argument("--table", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="print the table")
    args = parser.parse_args()
    if args.table:
        before, after = (json.loads(p.read_text()) for p in args.table)
        print("| case | before: time, peak RSS, outcome | after: time, peak RSS, outcome |\n|---|---|---|")
        for case in after:
            cells = []
            for figures in (before.get(case), after[case]):
                if figures is None:
                    cells.append("n/a")
                    continue
                seconds = f"> {figures['seconds']:.0f} s (stopped)" if figures["timed_out"] else \
                    f"{figures['seconds']:.1f} s"
                peak = f"{figures['peak_mib']:,} MiB" if figures["peak_mib"] else "n/a"
                peak = f"≥ {peak} when stopped" if figures["timed_out"] else peak
                note = figures.get("note", "").replace("|", "\\|")
                cells.append(f"{seconds}, {peak}, exit {figures['exit']}"
                             + (", traceback" if figures["traceback"] else "") + (f"; {note}" if note else ""))
            print(f"| {case} | {cells[0]} | {cells[1]} |")
        return
    work = Path(tempfile.mkdtemp(prefix="dclm-hostile-"))
    results = json.loads(args.out.read_text()) if args.only and args.out and args.out.exists() else {}
    try:
        cases = build_cases(work)
        x_before = _digest(work / "x")
        for case, case_args in cases.items():
            if args.only and case.split()[0] not in args.only:
                continue
            results[case] = measure(args.code.resolve(), case_args, args.timeout, args.memory, work)
            if case.startswith(("14", "15")) and (work / f"o{case.split()[0]}").is_dir():
                texts = _texts(work / f"o{case.split()[0]}")
                results[case]["note"] = " / ".join(ascii(t[:40]) for t in texts) or "no document"
            elif case.startswith("17"):
                results[case]["note"] = "X " + ("unchanged" if _digest(work / "x") == x_before else "overwritten")
            print(case, results[case], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
