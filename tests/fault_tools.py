"""Shared pieces of the fault-tolerance tests: real WARC shards, a killable CLI, output checks.

* ``sample_shards`` cuts the bundled Readability WARC into several valid WARC
  files at record boundaries (its records are gzipped one by one, so a cut
  between two gzip members is a well-formed file), plus the genuine Common
  Crawl excerpt: a multi-shard run on real records that every checkout has.
* ``CliProcess`` runs ``dclm`` in its own session and with its own Ray temp
  folder (``RAY_TMPDIR``), so that killing it, and then every process its
  embedded Ray runtime started, touches nothing else on the machine.
* ``OutputWatcher`` reads every visible file of an output folder while a run
  writes it: each must be complete at every moment.
* ``comparable_tree`` reads a whole output folder for an exact comparison,
  with the wall-clock fields and run facts of the JSON files removed.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

import pyarrow.parquet as pq
from conftest import REPO, SAMPLE_DIR

# Fields measured by a clock or the kernel (seconds, peak memory): never equal between two runs.
TIMING_KEYS = {"seconds", "wall_seconds", "shard_seconds", "stage_seconds", "worker_peak_rss_mib"}
# Facts about how a run went (what it skipped, redid or reused, where): checked
# on their own, by each test.
RUN_FACT_KEYS = {"shards_resumed", "shards_retried", "nodes_used", "phases_reused"}


def split_warc(source: Path, folder: Path, parts: int) -> list[Path]:
    """Cut a per-record gzipped WARC into ``parts`` files, each a run of whole pages.

    A page (request, response, metadata) is never cut apart, and every part
    starts with the source's warcinfo record, as a crawler's files do.
    """
    from warcio.archiveiterator import ArchiveIterator

    raw = source.read_bytes()
    starts, types = [], []
    with open(source, "rb") as fh:
        records = ArchiveIterator(fh)
        for record in records:
            starts.append(records.get_record_offset())
            types.append(record.rec_type)
    starts.append(len(raw))
    assert types[0] == "warcinfo"
    pages = [i for i, kind in enumerate(types) if kind == "request"]
    pages.append(len(types))
    per_part = -(-(len(pages) - 1) // parts)
    stem = source.name[: -len(".warc.gz")]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for part in range(parts):
        first, last = pages[part * per_part], pages[min((part + 1) * per_part, len(pages) - 1)]
        path = folder / f"{stem}-part{part + 1}.warc.gz"
        path.write_bytes(raw[starts[0]:starts[1]] + raw[starts[first]:starts[last]])
        paths.append(path)
    return paths


def sample_shards(folder: Path, parts: int = 4) -> list[Path]:
    """``parts`` pieces of the Readability WARC and the Common Crawl excerpt, sorted by name."""
    shards = split_warc(SAMPLE_DIR / "CC-MAIN-DEV-00010.warc.gz", folder, parts)
    excerpt = folder / "CC-MAIN-2020-34-sample.warc.gz"
    shutil.copyfile(SAMPLE_DIR / "CC-MAIN-2020-34-sample.warc.gz", excerpt)
    return sorted(shards + [excerpt])


def short_temp_dir() -> str:
    """A fresh folder under /tmp: Ray's socket paths inside it must stay under 108 bytes."""
    return tempfile.mkdtemp(prefix="dclmft-", dir="/tmp")


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after "(comm)": state, ppid, pgrp, session, ... (empty once gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Running (a zombie is dead: it waits only for its parent to read its status)."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def session_of(pid: int) -> int:
    """The session id of a live process (-1 once it is gone)."""
    fields = _stat_fields(pid)
    return int(fields[3]) if fields else -1


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def processes_of(session: int, marker: str) -> list[int]:
    """Live processes in ``session`` or whose command line names ``marker`` (a unique folder)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        fields = _stat_fields(int(entry))
        # Zombies are dead already (only their parent can reap them).
        if not fields or fields[0] in ("Z", "X"):
            continue
        if int(fields[3]) == session or marker in cmdline(int(entry)):
            found.append(int(entry))
    return found


def end_processes(session: int, marker: str, timeout: float = 30.0) -> list[int]:
    """SIGKILL everything ``processes_of`` finds until nothing is left; the pids it killed."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while True:
        alive = processes_of(session, marker)
        if not alive:
            return sorted(killed)
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes survive SIGKILL: {alive}")
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


class CliProcess:
    """``python -m dclm.cli ARGS --no-progress`` in a session of its own; a context manager.

    On exit every process of the session, and every process naming its Ray
    temp folder, is killed, and the folder is removed.
    """

    def __init__(self, args: list, env: Optional[dict] = None):
        self.ray_tmp = short_temp_dir()
        full_env = {k: v for k, v in os.environ.items()
                    if k != "RAY_ADDRESS" and not k.startswith("DCLM_TEST_")}
        full_env.update({"RAY_TMPDIR": self.ray_tmp, **(env or {})})
        self.log_path = Path(self.ray_tmp) / "cli.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "dclm.cli", *map(str, args), "--no-progress"],
                                     stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=REPO,
                                     start_new_session=True)
        self.pid = self.proc.pid

    def __enter__(self) -> "CliProcess":
        return self

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def running(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill_driver(self) -> None:
        """SIGKILL the CLI process alone, as an out-of-memory killer or a lost terminal would."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def end_leftovers(self) -> list[int]:
        """Kill what the driver's embedded Ray left running; the pids killed."""
        return end_processes(self.pid, self.ray_tmp)

    def __exit__(self, *exc) -> None:
        if self.running():
            self.kill_driver()
        self.end_leftovers()
        self._log.close()
        shutil.rmtree(self.ray_tmp, ignore_errors=True)


def wait_for(condition, timeout: float, what: str, process: Optional[CliProcess] = None, step: float = 0.2):
    """Poll ``condition()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and not process.running():
            raise AssertionError(f"the run ended (code {process.proc.returncode}) before {what}:\n"
                                 f"{process.output()[-3000:]}")
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class OutputWatcher(threading.Thread):
    """Reads every visible Parquet and JSON file under ``root`` every ``interval`` seconds.

    A visible file (a name not starting with ".") must parse completely at
    every moment; temporary files are hidden names, counted in ``temps_seen``.
    """

    def __init__(self, root: Path, interval: float = 0.1):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.problems: list[str] = []
        self.reads = 0
        self.temps_seen: set[str] = set()
        self._stop_event = threading.Event()

    def check_once(self) -> None:
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = Path(folder) / name
                if name.startswith("."):
                    self.temps_seen.add(name)
                    continue
                try:
                    if name.endswith(".parquet"):
                        pq.read_table(path)
                    elif name.endswith(".json"):
                        json.loads(path.read_bytes())
                    else:
                        continue
                except FileNotFoundError:       # removed since listed (the end of a dedup drops _phases/)
                    continue
                except Exception as exc:        # anything else: a reader saw a partial file
                    self.problems.append(f"{path.relative_to(self.root)}: {type(exc).__name__}: {exc}")
                self.reads += 1

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.check_once()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)
        self.check_once()


def _scrub(value):
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in TIMING_KEYS | RUN_FACT_KEYS}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def comparable_tree(root: Path) -> dict[str, object]:
    """Every file under ``root`` by relative path: bytes, or for JSON the parsed
    content with ``root`` written as ``OUT`` and timings and run facts removed."""
    files: dict[str, object] = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            data = path.read_bytes()
            if name.endswith(".json"):
                files[rel] = _scrub(json.loads(data.decode().replace(str(root), "OUT")))
            else:
                files[rel] = data
    return files


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
