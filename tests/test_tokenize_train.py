"""dclm tokenize and dclm train: manifests, determinism, repetition, bitwise CPU training, resume."""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tokenizers")

from dclm.errors import UsageError  # noqa: E402
from dclm.io.parquet_shards import write_rows  # noqa: E402
from dclm.training.scales import get_scale, scale_hash  # noqa: E402
from dclm.training.token_dataset import TokenDataset  # noqa: E402
from dclm.training.tokenize_data import tokenize_to_dir  # noqa: E402
from dclm.training.tokenizer import eos_id, load_tokenizer  # noqa: E402

# The micro tokenizer with a model small enough to train 12 steps in about a second.
TINY = dataclasses.replace(get_scale("micro"), name="tiny", d_model=32, n_heads=2, n_layers=2, ffn_hidden=96,
                           seq_len=64, global_batch=8, micro_batch=4, warmup_steps=3, tokens=12 * 8 * 64)
WORDS = ("the data model web page text token filter quality language train eval of and to in a is "
         "that for it as with by on not this are or from at which").split()


def _write_shards(folder, seed=0, shards=2, docs=60):
    rng = random.Random(seed)
    texts = []
    for shard in range(shards):
        rows = []
        for i in range(docs):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 120)))
            if i == 7:
                text = ""          # empty documents are counted and skipped
            rows.append({"id": f"{shard}-{i}", "url": "", "text": text, "source": "t", "date": "", "metadata": {}})
            texts.append(text)
        write_rows(str(folder / f"shard-{shard:02d}.parquet"), rows)
    return sorted(str(p) for p in folder.glob("*.parquet")), texts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("curated")
    return _write_shards(folder)


@pytest.fixture(scope="module")
def tokenized(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("tok") / "tiny"
    tokenize_to_dir(corpus[0], TINY, str(out))
    return out


def _cli(*argv):
    """Run our two sub-commands the way dclm.cli.main does, without needing them registered."""
    from dclm.commands import tokenize, train
    from dclm.commands.execution_options import add_execution_options

    parser = argparse.ArgumentParser(prog="dclm")
    sub = parser.add_subparsers(dest="command")
    tokenize.register(sub, add_execution_options)
    train.register(sub, add_execution_options)
    args = parser.parse_args([str(a) for a in argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = args.handler(args)
    return code, out.getvalue()


def test_tokenize_layout_manifest_and_determinism(corpus, tokenized, tmp_path):
    inputs, texts = corpus
    again = tmp_path / "again"
    tokenize_to_dir(inputs, TINY, str(again))
    manifest = json.loads((tokenized / "manifest.json").read_text())
    assert (again / "manifest.json").read_bytes() == (tokenized / "manifest.json").read_bytes()
    assert (again / "tokens-00000.npy").read_bytes() == (tokenized / "tokens-00000.npy").read_bytes()

    tokenizer = load_tokenizer(TINY)
    eos = eos_id(tokenizer)
    stream = []
    for text in texts:
        if text:
            stream += tokenizer.encode(text, add_special_tokens=False).ids + [eos]
    width = TINY.seq_len + 1
    n = len(stream) // width
    expected = np.array(stream[: n * width], dtype=np.uint16).reshape(n, width)
    stored = np.load(tokenized / "tokens-00000.npy")
    assert stored.dtype == np.uint16 and stored.shape == (n, width)
    # Same sequences, shuffled: compare as sorted sets of rows, and check the order moved.
    assert np.array_equal(np.unique(stored, axis=0), np.unique(expected, axis=0))
    assert not np.array_equal(stored, expected)
    assert manifest["num_sequences"] == n and manifest["num_tokens"] == n * width
    assert manifest["dataset_tokens"] == n * TINY.seq_len
    assert manifest["stream_tokens"] == len(stream) and manifest["tokens_dropped_tail"] == len(stream) - n * width
    assert manifest["documents"] == sum(1 for t in texts if t)
    assert [s["empty"] for s in manifest["sources"]] == [1, 1]
    assert manifest["tokenizer_sha256"] == TINY.tokenizer_sha256 and manifest["scale_hash"] == scale_hash(TINY)
    assert manifest["shuffle_seed"] == TINY.seed


def test_tokenize_rerun_is_noop_and_other_inputs_need_force(corpus, tokenized, tmp_path):
    before = (tokenized / "manifest.json").read_bytes()
    assert tokenize_to_dir(corpus[0], TINY, str(tokenized)).get("up_to_date")
    assert (tokenized / "manifest.json").read_bytes() == before
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other, _ = _write_shards(other_dir, seed=1, shards=1)
    target = tmp_path / "target"
    tokenize_to_dir(corpus[0], TINY, str(target))
    with pytest.raises(UsageError, match="--force"):
        tokenize_to_dir(other, TINY, str(target))
    replaced = tokenize_to_dir(other, TINY, str(target), force=True)
    assert [s["name"] for s in replaced["sources"]] == ["shard-00.parquet"]


def test_small_data_is_repeated_and_the_epochs_reported(tokenized):
    manifest = json.loads((tokenized / "manifest.json").read_text())
    data = TokenDataset(tokenized)
    trained = TINY.total_steps * TINY.tokens_per_step
    assert manifest["train_tokens"] == trained
    assert manifest["epochs"] == pytest.approx(trained / data.dataset_tokens)
    n = data.num_sequences
    # Every epoch is a permutation of all sequences; epochs are reshuffled; order is a function of the seed.
    first, second = data.sample_indices(5, 0, n), data.sample_indices(5, 1, n)
    assert sorted(first) == sorted(second) == list(range(n)) and first != second
    assert data.sample_indices(5, 3, 4) == data.sample_indices(5, 3, 4) != data.sample_indices(6, 3, 4)
    assert data.batch(5, 0, 4).shape == (4, TINY.seq_len + 1)


def _weights(run):
    return torch.load(run / "model.pt", weights_only=True)


def test_cpu_training_is_bitwise_reproducible_and_resumable(tokenized, tmp_path):
    from dclm.training.run_dir import list_checkpoints, load_trained
    from dclm.training.trainer import train

    kwargs = dict(seed=3, device="cpu", threads=1, progress=False)
    first = train(str(tokenized), TINY, str(tmp_path / "a"), **kwargs)
    train(str(tokenized), TINY, str(tmp_path / "b"), **kwargs)
    # Interrupted after step 7 with checkpoints every 4 steps: resumes from step 4.
    partial = train(str(tokenized), TINY, str(tmp_path / "c"), checkpoint_every=4, stop_after=7, **kwargs)
    assert not partial["complete"] and not (tmp_path / "c" / "model.pt").exists()
    train(str(tokenized), TINY, str(tmp_path / "c"), checkpoint_every=4, **kwargs)

    curves = [(tmp_path / r / "metrics.jsonl").read_text() for r in "abc"]
    assert curves[0] == curves[1] == curves[2]
    lines = [json.loads(line) for line in curves[0].splitlines()]
    assert [m["step"] for m in lines] == list(range(1, TINY.total_steps + 1))
    assert lines[-1]["tokens"] == TINY.total_steps * TINY.tokens_per_step
    assert lines[-1]["loss"] < lines[0]["loss"]
    weights = [_weights(tmp_path / r) for r in "abc"]
    for name in weights[0]:
        assert torch.equal(weights[0][name], weights[1][name]) and torch.equal(weights[0][name], weights[2][name])
    assert [step for step, _ in list_checkpoints(tmp_path / "c")] == [8, 12]
    ckpt = torch.load(list_checkpoints(tmp_path / "c")[-1][1], weights_only=False)
    assert {"model", "optimizer", "step", "rng"} <= set(ckpt)

    model, tokenizer, scale, config = load_trained(tmp_path / "a")
    assert scale == TINY and eos_id(tokenizer) == 0 and not model.training
    assert config["complete"] and config["seed"] == 3 and config["scale_hash"] == scale_hash(TINY)
    assert config["tokens_trained"] == first["tokens_trained"] == TINY.total_steps * TINY.tokens_per_step
    assert config["epochs"] == pytest.approx(config["tokens_trained"] / TokenDataset(tokenized).dataset_tokens)
    assert config["data_manifest_hash"] == TokenDataset(tokenized).manifest_hash
    # A finished run is not retrained; a different seed in the same directory is refused.
    assert train(str(tokenized), TINY, str(tmp_path / "a"), **kwargs)["complete"]
    with pytest.raises(UsageError, match="seed"):
        train(str(tokenized), TINY, str(tmp_path / "a"), **{**kwargs, "seed": 4})


def test_training_refuses_data_cut_for_another_scale(tokenized, tmp_path):
    from dclm.training.trainer import train

    with pytest.raises(UsageError, match="seq_len"):
        train(str(tokenized), dataclasses.replace(TINY, seq_len=32), str(tmp_path / "r"), progress=False)
    with pytest.raises(UsageError, match="no manifest"):
        train(str(tmp_path), TINY, str(tmp_path / "r"), progress=False)


def test_cli_tokenize_train_and_dry_run(corpus, tmp_path):
    code, out = _cli("tokenize", "--input", os.path.dirname(corpus[0][0]), "--scale", "micro",
                     "--output", tmp_path / "tok", "--no-progress")
    assert code == 0 and "epochs" in out and "(repeated)" in out
    assert json.loads((tmp_path / "tok" / "manifest.json").read_text())["scale"] == "micro"
    code, out = _cli("train", "--scale", "micro", "--dry-run")
    assert code == 0 and json.loads(out)["scale"] == "micro"
    with pytest.raises(UsageError, match="--data"):
        _cli("train", "--scale", "micro", "--output", tmp_path / "run")
    with pytest.raises(UsageError, match="unknown scale"):
        _cli("tokenize", "--input", corpus[0][0], "--scale", "nope", "--output", tmp_path / "x")


def test_commands_registered_in_the_dclm_cli():
    from dclm.cli import build_parser

    choices = build_parser()._subparsers._group_actions[0].choices
    if "train" not in choices:
        pytest.skip("dclm.commands.__init__ does not register tokenize/train yet")
    assert "tokenize" in choices
