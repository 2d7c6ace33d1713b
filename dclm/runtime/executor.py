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

import contextlib
import os
import posixpath
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from dclm.io import shard_progress
from dclm.io.atomic_files import exists, remove_stale_temps
from dclm.io.inputs import shard_name
from dclm.io.output_layout import document_path, dropped_path, ledger_path, run_manifest_path, stage_folders
from dclm.runtime import progress_board
from dclm.runtime.shard_failures import failure_reason, is_retriable, mark_retriable

WORKER_RETRIES = 3
# How often the driver asks the workers' progress board for counts.
POLL_EVERY_S = 0.5


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
    """One job per input; outputs are named after their input (``dclm.io.output_layout``)."""
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
    retriable: set = field(default_factory=set)             # failed shards a rerun may fix

    def fail(self, name: str, exc: BaseException) -> None:
        """Record why shard ``name`` failed, and whether running again may help."""
        self.failed[name] = failure_reason(exc)
        if is_retriable(exc):
            self.retriable.add(name)


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


def _shard_task(work: Callable[[ShardJob], dict], job: ShardJob, board=None) -> tuple[dict, dict]:
    """The Ray task of one shard: its ledger, and where and how often it ran.

    ``board``: the run's ``ProgressBoard`` (None: no live progress).
    """
    try:
        with shard_progress.reporting(board, job.name):
            ledger = work(job)
    except Exception as exc:
        mark_retriable(exc)     # the cause chain is lost once Ray pickles the exception
        raise
    return ledger, task_facts()


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
    from dclm.io.remote_env import storage_env

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
        # Only what a local job needs (benchmarks/ray_startup.py measures each
        # setting): no dashboard, no metrics agent (the raylet waits for it
        # otherwise), no accelerator probe (stages run on CPUs).
        # The workers of a local runtime are the raylet's children, which is ours: they inherit
        # our environment. Passing it as a runtime_env instead would make Ray start fresh
        # workers for the job rather than use the ones it pre-started (+1.2 s to the first task).
        # A private runtime reports no usage statistics, unless the user's environment asks for them.
        local_env = {"RAY_USAGE_STATS_ENABLED": os.environ.get("RAY_USAGE_STATS_ENABLED", "0"), **env_vars}
        with _quiet_token_notice(), _environment(local_env), _without_head_extras():
            ray.init(address="local", num_cpus=num_cpus, num_gpus=0, include_dashboard=False,
                     log_to_driver=True, configure_logging=False,
                     _system_config={"enable_metrics_collection": False})
    return True


@contextlib.contextmanager
def _environment(variables: dict[str, str]):
    """``variables`` set in this process's environment for the duration (inherited by children)."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _without_head_extras():
    """Start a local runtime without the two head processes a one-machine job never uses.

    Ray has no switch for either, so ``Node.start_api_server`` and
    ``Node.start_monitor`` are skipped for the duration of our own
    ``ray.init`` (and restored after it; other runtimes are untouched):

    * the API server: with ``include_dashboard=False`` it only runs the
      usage-statistics module, and usage statistics are off for the embedded
      runtime. ``ray.init`` otherwise waits for it to publish its address.
    * the autoscaler monitor: one machine has nothing to scale.

    On a 2-core machine the two Python processes compete with the raylet's own
    agents for the CPUs during start-up; ``benchmarks/ray_startup.py`` measures
    the gain ("embedded" against "full head"). A Ray release without these
    methods simply starts everything, as before. ``DCLM_RAY_FULL_HEAD=1``
    keeps them (for debugging with ``ray status``).
    """
    from ray._private import node

    skipped = ("start_api_server", "start_monitor")
    saved = {name: node.Node.__dict__.get(name) for name in skipped}
    if os.environ.get("DCLM_RAY_FULL_HEAD") == "1" or not all(saved.values()):
        yield
        return
    node.Node.start_api_server = lambda self, **_: None
    node.Node.start_monitor = lambda self: None
    try:
        yield
    finally:
        for name, method in saved.items():
            setattr(node.Node, name, method)


@contextlib.contextmanager
def _quiet_token_notice():
    """Hide Ray's "Token authentication is enabled" notice for the embedded runtime.

    The token protects the runtime's ports, so it stays on; the notice tells
    a user of a private, short-lived runtime nothing they can act on.
    """
    import logging

    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = notice.level
    notice.setLevel(logging.ERROR)
    try:
        yield
    finally:
        notice.setLevel(level)


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


def run_jobs(jobs: list[ShardJob], work: Callable[[ShardJob], dict], *, ray_address: Optional[str] = None,
             num_cpus: Optional[int] = None, progress: bool = True, desc: str = "shards",
             force: bool = False) -> RunReport:
    """Run ``work`` over every job not already done, one Ray task per shard.

    With ``progress``, the workers report documents as they read them
    (``dclm.io.shard_progress``) and the driver shows them while shards run.
    """
    from dclm.runtime.progress_display import StageProgress

    started = time.monotonic()
    pending = [job for job in jobs if force or not is_done(job)]
    resumed = [job.name for job in jobs if job not in pending]
    report = RunReport(ledgers=[], resumed=resumed, failed={}, seconds=0.0)
    if not pending:
        report.seconds = time.monotonic() - started
        return report

    display = StageProgress(desc, len(jobs), len(resumed), enabled=progress)
    display.status("starting Ray…")     # seconds on a busy machine, otherwise a blank screen
    we_started = ensure_ray(ray_address, num_cpus)
    import ray  # only after ensure_ray, which may set Ray's auth mode first

    try:
        board = progress_board.start_board() if progress else None
        remote_task = ray.remote(_shard_task)
        # The task name shows in `ps` (ray::run_shard:NAME), so a stuck shard can be found.
        refs = {remote_task.options(num_cpus=1, max_retries=WORKER_RETRIES, retry_exceptions=False,
                                    name=f"{work.__name__}:{job.name}").remote(work, job, board): job
                for job in pending}
        display.begin()
        poll = None
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1, timeout=POLL_EVERY_S if board else None)
            if board is not None:
                poll = _poll_board(board, poll, display)
            for ref in ready:
                job = refs[ref]
                try:
                    ledger, facts = ray.get(ref)
                    report.ledgers.append(ledger)
                    note_task(report, job.name, facts)
                    display.shard_finished(job.name)
                except Exception as exc:  # the shard failed; the run goes on
                    report.fail(job.name, exc)
                    display.shard_finished(job.name, failed=True)
            display.refresh()
        if board is not None:
            _poll_board(board, None, display, wait_s=2.0)   # the last counts the workers sent
        display.close()
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


def _poll_board(board, poll, display, wait_s: float = 0.0):
    """Feed ``display`` the board's snapshot once it has come back; returns the next request.

    Never blocks the loop (unless ``wait_s``): a board that is still starting just shows nothing yet.
    """
    import ray

    if poll is None:
        poll = board.snapshot.remote()
    done, _ = ray.wait([poll], timeout=wait_s)
    if not done:
        return poll
    try:
        display.update_running(ray.get(done[0]))
    except Exception:   # a lost board costs the live counts, never the run
        return None
    return board.snapshot.remote()


def check_run_manifest(output_dir: str, stage: str, params: dict[str, Any], force: bool = False) -> None:
    """Refuse to resume into a directory made by another stage or other parameters.

    Without this, rerunning with ``--extractor trafilatura`` into a directory
    made with resiliparse would silently keep the old shards. With ``force``
    the folder is claimed for this run whatever it held.
    """
    import json

    import fsspec

    from dclm.errors import UsageError
    from dclm.io.atomic_files import write_bytes_atomic

    check_output_folder(output_dir)
    path = run_manifest_path(output_dir)
    wanted = {"stage": stage, "params": params}
    if exists(path) and not force:
        with fsspec.open(path, "rb") as fh:
            found = json.loads(fh.read())
        if found != wanted:
            raise UsageError(f"{output_dir} holds the output of a different run ({found}); "
                             f"this run is {wanted}. Use another --output, or --force to start over.")
        return
    write_bytes_atomic(path, json.dumps(wanted, indent=2, sort_keys=True).encode())
