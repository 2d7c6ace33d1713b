"""Input and output on S3, against moto's real S3 server on loopback, with and without faults.

The end-to-end tests run the real ``dclm`` command in a subprocess whose
environment points at the server (``AWS_ENDPOINT_URL``), as a user would, and
compare every Parquet file with the same run on local disk, byte for byte.
Faults are real HTTP failures from a proxy (``tests/s3_server.py``).
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

s3fs = pytest.importorskip("s3fs", reason="s3fs is part of the test extra")
pytest.importorskip("moto.server", reason="moto[server] is part of the test extra")

from conftest import REPO, SAMPLE_DIR  # noqa: E402
from s3_server import CREDENTIALS, FaultProxy, MotoServer, object_get, s3_env  # noqa: E402

from dclm.io.remote_files import RetryingReader, publish, spool_path, write_object  # noqa: E402
from dclm.io.remote_retry import RetryPolicy, collect_retries, is_transient, retry_call  # noqa: E402

# botocore retries nothing; s3fs still retries SlowDown and cut bodies itself, but
# not a 500, so each injected 500 reaches dclm's own retries exactly once.
NO_BOTOCORE_RETRIES = {"AWS_MAX_ATTEMPTS": "1", "DCLM_REMOTE_RETRY_BASE_S": "0.05"}
QUICK = RetryPolicy(attempts=6, base_delay_s=0.01, max_delay_s=0.1)


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        yield server


def _fs(endpoint: str, **options):
    return s3fs.S3FileSystem(key=CREDENTIALS["AWS_ACCESS_KEY_ID"], secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                             endpoint_url=endpoint, skip_instance_cache=True, **options)


@pytest.fixture
def bucket(moto):
    """A fresh bucket holding the sample WARCs under ``warc/``."""
    fs = _fs(moto.url)
    name = f"dclm-{uuid.uuid4().hex[:10]}"
    fs.mkdir(name)
    for warc in sorted(SAMPLE_DIR.glob("*.warc.gz")):
        fs.put_file(str(warc), f"{name}/warc/{warc.name}")
    return fs, name


@pytest.fixture
def in_process_s3(monkeypatch, moto):
    """Point this process's s3fs at an endpoint, with botocore's and s3fs's own retries off."""
    import fsspec.config

    monkeypatch.setattr(s3fs.S3FileSystem, "retries", 1)

    def use(endpoint: str) -> None:
        monkeypatch.setitem(fsspec.config.conf, "s3", {
            "endpoint_url": endpoint, "key": "testing", "secret": "testing",
            "config_kwargs": {"retries": {"total_max_attempts": 1}}, "skip_instance_cache": True})
    return use


def _dclm(env: dict, *argv: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dclm.cli", *argv, "--num-cpus", "2", "--no-progress"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def _dclm_many(env: dict, commands: list[list[str]], timeout: int = 300) -> subprocess.CompletedProcess:
    """Several dclm commands in one process sharing one embedded Ray (it costs ~10 s to start)."""
    script = ("import json, sys, ray\nfrom dclm.cli import main\n"
              "ray.init(address='local', num_cpus=2, include_dashboard=False, configure_logging=False)\n"
              "codes = [main(argv + ['--no-progress']) for argv in json.loads(sys.argv[1])]\n"
              "ray.shutdown()\nsys.exit(max(codes))\n")
    return subprocess.run([sys.executable, "-c", script, json.dumps(commands)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _assert_same_parquet(fs, remote_dir: str, local_dir: Path) -> int:
    """Every Parquet file of a local run has a byte-identical twin on S3, and nothing else is there."""
    fs.invalidate_cache()
    remote = {key[len(remote_dir) + 1:]: key for key in fs.find(remote_dir) if key.endswith(".parquet")}
    local = {str(p.relative_to(local_dir)): p for p in local_dir.rglob("*.parquet")}
    assert sorted(remote) == sorted(local)
    for name, path in local.items():
        assert fs.cat_file(remote[name]) == path.read_bytes(), f"{name} differs between S3 and local disk"
    assert not [key for key in fs.find(remote_dir) if ".tmp-" in key], "a temporary object was left behind"
    return len(local)


def _ledgers(fs, folder: str) -> list[dict]:
    return [json.loads(fs.cat_file(key)) for key in sorted(fs.find(f"{folder}/.dclm/ledger"))]


@pytest.mark.slow
def test_recipe_run_on_s3_under_throttling_matches_local_disk(run_cli, moto, bucket, tmp_path):
    """`dclm run dclm_baseline --input s3:// --output s3://` (global steps included) with 503 SlowDown
    on every 7th request of any kind: client retries absorb them and the bytes equal a local run.
    Then a shard whose ledger is missing is redone on resume, and only that one."""
    fs, name = bucket
    local = tmp_path / "local"
    assert run_cli("run", "dclm_baseline", "--input", SAMPLE_DIR, "--output", local).code == 0
    out = f"{name}/run"
    with FaultProxy(moto.port, every=7, faults=("slowdown",)) as proxy:
        done = _dclm(s3_env(proxy.url), "run", "dclm_baseline", "--input", f"s3://{name}/warc/",
                     "--output", f"s3://{out}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert proxy.injected >= 10, f"only {proxy.injected} faults in {proxy.requests} requests"
    assert _assert_same_parquet(fs, out, local) >= 10
    assert json.loads(fs.cat_file(f"{out}/.dclm/stats.json"))["invariant_ok"]

    # An output object without its ledger is an unfinished shard.
    first_segment = f"{out}/.dclm/work/01_local"
    fs.rm(f"{first_segment}/.dclm/ledger/CC-MAIN-DEV-00010.json")
    again = _dclm(s3_env(moto.url), "run", "dclm_baseline", "--input", f"s3://{name}/warc/",
                  "--output", f"s3://{out}")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    stats = json.loads(fs.cat_file(f"{first_segment}/.dclm/stats.json"))
    assert stats["shards_resumed"] == ["CC-MAIN-2020-34-sample"]
    _assert_same_parquet(fs, out, local)


@pytest.mark.slow
def test_extract_and_filter_on_s3_retry_failed_reads(run_cli, moto, bucket, tmp_path):
    """Every 2nd object read fails (500 InternalError, 503 SlowDown, or the body cut half-way) and
    botocore does not retry: s3fs absorbs throttling and cut bodies, dclm's read retries the 500s
    (each counted in a ledger), and the output of `extract` and `filter` equals a local-disk run."""
    fs, name = bucket
    assert run_cli("extract", SAMPLE_DIR, "--output", tmp_path / "ext").code == 0
    assert run_cli("filter", "--recipe", "refinedweb", "--input", tmp_path / "ext",
                   "--output", tmp_path / "flt").code == 0
    with FaultProxy(moto.port, every=2, faults=("internal", "cut", "internal", "slowdown"),
                    select=object_get) as proxy:
        done = _dclm_many(s3_env(proxy.url, **NO_BOTOCORE_RETRIES), [
            ["extract", f"s3://{name}/warc/", "--output", f"s3://{name}/ext"],
            ["filter", "--recipe", "refinedweb", "--input", f"s3://{name}/ext", "--output", f"s3://{name}/flt"]])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert proxy.injected_kinds["internal"] >= 2
    _assert_same_parquet(fs, f"{name}/ext", tmp_path / "ext")
    _assert_same_parquet(fs, f"{name}/flt", tmp_path / "flt")
    retries = sum(n for folder in ("ext", "flt") for ledger in _ledgers(fs, f"{name}/{folder}")
                  for n in ledger["details"]["remote_retries"].values())
    assert retries == proxy.injected_kinds["internal"], f"{retries} retries for {proxy.injected_kinds}"


@pytest.mark.slow
def test_reader_resumes_at_the_offset_where_the_connection_dropped(moto, bucket, in_process_s3):
    fs, name = bucket
    data = random.Random(7).randbytes(3 * 2**20 + 123)
    fs.pipe_file(f"{name}/blob.bin", data)
    with FaultProxy(moto.port, every=2, faults=("cut", "slowdown"), select=object_get) as proxy:
        in_process_s3(proxy.url)
        with collect_retries() as retries:
            reader = RetryingReader(f"s3://{name}/blob.bin", QUICK, block_size=256 * 2**10)
            chunks = []
            while chunk := reader.read(100_000):
                chunks.append(chunk)
            reader.seek(2**20)
            middle = reader.read(1000)
            reader.close()
    assert b"".join(chunks) == data
    assert middle == data[2**20:2**20 + 1000]
    assert proxy.injected >= 5 and sum(retries.values()) == proxy.injected


@pytest.mark.slow
def test_missing_object_fails_at_once(moto, bucket, in_process_s3):
    fs, name = bucket
    in_process_s3(moto.url)
    with collect_retries() as retries, pytest.raises(FileNotFoundError):
        RetryingReader(f"s3://{name}/no-such-object", QUICK)
    assert not retries


@pytest.mark.slow
def test_failed_upload_leaves_no_object_and_no_open_multipart_upload(moto, bucket):
    fs, name = bucket
    key = f"{name}/out/half.parquet"
    with pytest.raises(RuntimeError, match="writer died"):
        with write_object(fs, key, block_size=5 * 2**20) as fh:
            fh.write(b"x" * (12 * 2**20))          # two 5 MiB parts are already uploaded
            raise RuntimeError("writer died")
    fs.invalidate_cache()
    assert not fs.exists(key)
    uploads = fs.call_s3("list_multipart_uploads", Bucket=name)
    assert not uploads.get("Uploads"), "the aborted multipart upload is still open"


@pytest.mark.slow
def test_publish_retries_a_throttled_upload(moto, bucket, in_process_s3, tmp_path):
    fs, name = bucket
    url = f"s3://{name}/out/shard.parquet"
    spool = spool_path(url)
    payload = random.Random(3).randbytes(300_000)
    Path(spool).write_bytes(payload)
    throttled: list[str] = []

    def first_write(method: str, path: str) -> bool:
        if method in ("PUT", "POST") and not throttled:
            throttled.append(path)
            return True
        return False

    with FaultProxy(moto.port, every=1, faults=("slowdown",), select=first_write) as proxy:
        in_process_s3(proxy.url)
        with collect_retries() as retries:
            publish(spool, url, QUICK)
    assert fs.cat_file(url) == payload
    assert proxy.injected == 1 and sum(retries.values()) == 1
    assert not os.path.exists(spool)


def test_transient_and_permanent_errors_are_told_apart():
    from botocore.exceptions import ClientError, EndpointConnectionError

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": code},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")

    wrapped = OSError(16, "Please reduce your request rate.")
    wrapped.__cause__ = client_error("SlowDown", 503)
    assert is_transient(wrapped)
    assert is_transient(client_error("InternalError", 500))
    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient(ConnectionResetError("reset by peer"))
    assert not is_transient(client_error("AccessDenied", 403))
    assert not is_transient(FileNotFoundError("s3://bucket/key"))
    missing = FileNotFoundError("gone")
    missing.__cause__ = client_error("NoSuchKey", 404)
    assert not is_transient(missing)


def test_backoff_is_jittered_exponential_and_capped():
    policy = RetryPolicy(attempts=8, base_delay_s=0.5, max_delay_s=4.0)
    rng = random.Random(1)
    for retry in range(7):
        cap = min(4.0, 0.5 * 2 ** retry)
        waits = [policy.delay(retry, rng) for _ in range(200)]
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > 0.8 * cap and min(waits) < 0.2 * cap     # spread over the whole range
    slept: list[float] = []
    calls = iter([ConnectionResetError("1"), ConnectionResetError("2"), "done"])

    def flaky():
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with collect_retries() as retries:
        assert retry_call(flaky, "flaky call", policy, sleep=slept.append) == "done"
    assert len(slept) == 2 and retries == {"ConnectionResetError": 2}

    def always_fails():
        raise ConnectionResetError("down for good")

    with pytest.raises(ConnectionResetError):
        retry_call(always_fails, "always fails", RetryPolicy(attempts=3, base_delay_s=0.0), sleep=slept.append)
    assert len(slept) == 4
