"""Running one task per shard on Ray, embedded or on a cluster, with resume.

The executor knows shards, files and Ray; it knows nothing about WARC, filters
or dedup. A stage hands it ``ShardJob``s and a module-level function
``work(job) -> ledger dict`` (picklable by reference, so workers import it).

* Resume: a job whose output and ledger both exist is skipped. Stages write the
  ledger last, so both files existing means the shard finished.
* Failures: a shard whose task raises is reported by name with the reason and
  leaves no output, so the next run retries it. Ray retries a task whose
  worker process died (killed, out of memory, node lost) up to
  ``WORKER_RETRIES`` times on a fresh worker; exceptions raised by our code
  are not retried, since the same input would raise again. A retried shard
  writes the same bytes (every stage is deterministic) and the dead attempt's
  temporary files are swept (``remove_stale_stage_temps``), so the output
  is that of an uninterrupted run; ``stats.json`` names the retried shards.
"""
from __future__ import annotations

import os
import posixpath
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from dclm.atomic_files import exists, remove_stale_temps
from dclm.inputs import shard_name
from dclm.output_layout import document_path, dropped_path, ledger_path, run_manifest_path, stage_folders

WORKER_RETRIES = 3


@dataclass(frozen=True)
class ShardJob:
    """One unit of work: an input shard, the output it makes, its ledger and its dropped documents."""

    name: str
    input: str
    output: str
    ledger: str
    params: dict = field(default_factory=dict, hash=False, compare=False)
    dropped: str = ""

    def __post_init__(self) -> None:
        if not self.dropped:
            # A job built by hand (tests, benchmarks): its dropped documents go
            # where the layout puts them for the folder its output is in.
            folder, _, _ = self.output.rpartition("/")
            if folder.endswith("/data"):
                folder = folder[: -len("/data")]
            object.__setattr__(self, "dropped", dropped_path(folder or ".", self.name))

    @property
    def source(self) -> str:
        return posixpath.basename(self.input)


def plan_jobs(inputs: list[str], output_dir: str, params: Optional[dict] = None) -> list[ShardJob]:
    """One job per input; outputs are named after their input (``dclm.output_layout``)."""
    params = dict(params or {})
    output_format = params.get("output_format") or "parquet"
    jobs = []
    for url in inputs:
        name = shard_name(url)
        jobs.append(ShardJob(name=name, input=url, output=document_path(output_dir, name, output_format),
                             ledger=ledger_path(output_dir, name), params=params,
                             dropped=dropped_path(output_dir, name)))
    return jobs


def is_done(job: ShardJob) -> bool:
    return exists(job.output) and exists(job.ledger)


def remove_stale_stage_temps(output_dir: str) -> list[str]:
    """Sweep temporary files that killed writers left in a stage's output folders."""
    return [name for folder in stage_folders(output_dir) for name in remove_stale_temps(folder)]


@dataclass
class RunReport:
    ledgers: list[dict]              # shards processed in this run
    resumed: list[str]               # shards skipped because they were already done
    failed: dict[str, str]           # shard name -> reason
    seconds: float
    retried: dict[str, int] = field(default_factory=dict)   # shard name -> worker deaths survived
    nodes: set = field(default_factory=set)                 # Ray node ids that ran shards
    permanent: set = field(default_factory=set)             # failed shards a rerun cannot fix


def task_facts() -> dict:
    """Where and on which attempt the current Ray task runs (recorded in stats.json).

    Ray has no public call for the attempt number; the core worker's is used
    where it exists (``None`` elsewhere). Attempt 0 is the first try.
    """
    import ray

    facts: dict = {"node": ray.get_runtime_context().get_node_id(), "attempt": None}
    core_worker = getattr(ray._private.worker.global_worker, "core_worker", None)
    attempt = getattr(core_worker, "get_current_task_attempt_number", None)
    if attempt is not None:
        facts["attempt"] = int(attempt())
    return facts


def _shard_task(work: Callable[[ShardJob], dict], job: ShardJob) -> tuple[dict, dict]:
    """The Ray task of one shard: its ledger, and where and how often it ran."""
    return work(job), task_facts()


def note_task(report: RunReport, name: str, facts: dict) -> None:
    report.nodes.add(facts.get("node"))
    if facts.get("attempt"):
        report.retried[name] = facts["attempt"]


def ensure_ray(address: Optional[str] = None, num_cpus: Optional[int] = None) -> bool:
    """Connect to Ray; returns True when this call started it (and should stop it).

    No address (and no RAY_ADDRESS) starts an embedded local runtime that uses
    every core, or ``num_cpus`` of them. It keeps its sockets and logs under
    ``$RAY_TMPDIR/ray`` (default ``/tmp/ray``): tests give it a folder of their
    own, so that they can find and end every process of a runtime whose driver
    they killed.
    """
    address = address or os.environ.get("RAY_ADDRESS") or None
    token = os.path.expanduser("~/.ray/auth_token")
    if address and "RAY_AUTH_MODE" not in os.environ and os.path.exists(token):
        # Clusters started by `ray start` (Ray >= 2.5x) require the token it saved
        # under ~/.ray, but ray.init(address="host:port") only sends it when token
        # mode is on before Ray is first imported.
        os.environ["RAY_AUTH_MODE"] = "token"
    import ray

    if ray.is_initialized():
        return False
    # Workers must import our packages the way the driver does, also when the
    # project runs from a checkout rather than an installed wheel.
    env_vars = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
                # jemalloc keeps freed Arrow buffers; the system allocator gives them back
                # (measured: dedup peak 844 -> 699 MiB at the same CPU time).
                "ARROW_DEFAULT_MEMORY_POOL": "system"}
    # Remote-storage settings (endpoint, credentials) must reach workers on other nodes.
    from dclm.remote_env import storage_env

    runtime_env = {"env_vars": {**storage_env(), **env_vars}}
    if address:
        _check_reachable(address)
        try:
            ray.init(address=address, runtime_env=runtime_env, log_to_driver=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            from dclm.errors import UsageError

            raise UsageError(f"cannot join the Ray cluster at {address!r}: {exc}") from exc
    else:
        # address="local" always starts a private runtime; a bare ray.init()
        # would attach to any cluster `ray start` left running on this machine.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, runtime_env=runtime_env,
                 log_to_driver=True, configure_logging=False)
    return True


def _check_reachable(address: str) -> None:
    """Fail in seconds, not minutes, when nothing listens at a host:port address.

    ray.init keeps retrying an unreachable GCS for a long time before it gives up.
    """
    import socket

    from dclm.errors import UsageError

    if "://" in address or address == "auto" or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            return
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot join the Ray cluster at {address!r}: nothing answers there ({exc})") from exc


def is_permanent_failure(exc: BaseException) -> bool:
    """A failure that rerunning cannot fix (an input in no format we read), as its exception says."""
    cause = getattr(exc, "cause", None) or exc
    return getattr(cause, "retriable", True) is False


def _failure_reason(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    text = str(cause).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(cause).__name__}: {first}"[:500]


def run_jobs(jobs: list[ShardJob], work: Callable[[ShardJob], dict], *, ray_address: Optional[str] = None,
             num_cpus: Optional[int] = None, progress: bool = True, desc: str = "shards",
             force: bool = False) -> RunReport:
    """Run ``work`` over every job not already done, one Ray task per shard."""
    from tqdm import tqdm

    started = time.monotonic()
    pending = [job for job in jobs if force or not is_done(job)]
    resumed = [job.name for job in jobs if job not in pending]
    report = RunReport(ledgers=[], resumed=resumed, failed={}, seconds=0.0)
    if not pending:
        report.seconds = time.monotonic() - started
        return report

    we_started = ensure_ray(ray_address, num_cpus)
    import ray  # only after ensure_ray, which may set Ray's auth mode first

    try:
        remote_task = ray.remote(_shard_task)
        # The task name shows in `ps` (ray::run_shard:NAME), so a stuck shard can be found.
        refs = {remote_task.options(num_cpus=1, max_retries=WORKER_RETRIES, retry_exceptions=False,
                                    name=f"{work.__name__}:{job.name}").remote(work, job): job
                for job in pending}
        docs = 0
        bar = tqdm(total=len(jobs), initial=len(resumed), desc=desc, unit="shard", disable=not progress,
                   file=sys.stderr, dynamic_ncols=True)
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            job = refs[ready[0]]
            try:
                ledger, facts = ray.get(ready[0])
                report.ledgers.append(ledger)
                note_task(report, job.name, facts)
                docs += ledger.get("documents_in", 0)
            except Exception as exc:  # the shard failed; the run goes on
                report.failed[job.name] = _failure_reason(exc)
                if is_permanent_failure(exc):
                    report.permanent.add(job.name)
            bar.update(1)
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.set_postfix(docs=docs, docs_per_s=f"{docs / elapsed:.0f}", failed=len(report.failed))
        bar.close()
    finally:
        if we_started:
            ray.shutdown()
    report.ledgers.sort(key=lambda ledger: ledger["shard"])
    report.seconds = time.monotonic() - started
    return report


def check_output_folder(output_dir: str) -> None:
    """An output must be a folder (or not exist yet): a file there would be lost or half-overwritten."""
    from fsspec.core import url_to_fs

    from dclm.errors import UsageError

    fs, path = url_to_fs(output_dir)
    if fs.exists(path) and not fs.isdir(path):
        raise UsageError(f"--output {output_dir} is a file, not a folder; give a folder path")


def check_run_manifest(output_dir: str, stage: str, params: dict[str, Any]) -> None:
    """Refuse to resume into a directory made by another stage or other parameters.

    Without this, rerunning with ``--extractor trafilatura`` into a directory
    made with resiliparse would silently keep the old shards.
    """
    import json

    import fsspec

    from dclm.atomic_files import write_bytes_atomic
    from dclm.errors import UsageError

    check_output_folder(output_dir)
    path = run_manifest_path(output_dir)
    wanted = {"stage": stage, "params": params}
    if exists(path):
        with fsspec.open(path, "rb") as fh:
            found = json.loads(fh.read())
        if found != wanted:
            raise UsageError(f"{output_dir} holds the output of a different run ({found}); "
                             f"this run is {wanted}. Use another --output, or --force to start over.")
        return
    write_bytes_atomic(path, json.dumps(wanted, indent=2, sort_keys=True).encode())
