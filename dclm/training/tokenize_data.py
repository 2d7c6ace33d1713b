"""Curated Parquet text -> shuffled fixed-length token sequences (``dclm tokenize``).

Layout follows open_lm's tokenize-shuffle: documents are tokenized without
special tokens, each is followed by ``<|endoftext|>``, the stream of all
documents (shards in sorted order, rows in file order) is cut into sequences of
``seq_len + 1`` tokens, so that one stored sequence gives ``seq_len`` inputs and
their ``seq_len`` next-token targets. The final partial sequence is dropped
(counted in the manifest). Sequences are then shuffled with a permutation
seeded by the scale's seed, so the file content depends only on the input
text, the tokenizer and the scale.

Why in-process and not one Ray task per shard: a global shuffle needs every
sequence anyway, and ``Tokenizer.encode_batch`` already uses every core. The
stream is held in memory at 2 bytes per token (4 above a 65,536 vocabulary),
about 16 GB for the 8.2B tokens of 400m-1x.

Output: ``tokens-00000.npy`` ... (2-D arrays [sequences, seq_len + 1], little-
endian uint16/uint32) and ``manifest.json``, written last, so a directory with a
manifest is complete. "Dataset tokens" below count predicted positions
(sequences x seq_len), the unit of the scale's budget; epochs = trained tokens /
dataset tokens.
"""
from __future__ import annotations

import hashlib
import io
import json
import posixpath
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from dclm.errors import UsageError
from dclm.io.atomic_files import write_bytes_atomic

MANIFEST = "manifest.json"
FORMAT = "dclm-tokens-v1"
SHARD_TOKENS = 1 << 26          # about 64M tokens (128 MB at uint16) per output file
ENCODE_BATCH = 512
ENCODE_BATCH_CHARS = 8 << 20      # encode sooner when documents are long: memory follows the text held


class TextBudgetExceeded(ValueError):
    """A shard holds more text than its caller allows (a validator bounding an untrusted shard)."""

    def __init__(self, characters: int):
        super().__init__(f"over {characters:,} characters of text")
        self.characters = characters


class TooFewTokens(UsageError):
    """The documents do not fill one training sequence."""

    def __init__(self, message: str, tokens: int, documents: int):
        super().__init__(message)
        self.tokens, self.documents = tokens, documents


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")


def _file_sha256(url: str) -> str:
    import fsspec

    digest = hashlib.sha256()
    with fsspec.open(url, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _encoded_documents(url: str, tokenizer, eos: int, stats: dict, text_budget: Optional[int] = None,
                       rows_per_read: int = ENCODE_BATCH, chars_per_encode: int = ENCODE_BATCH_CHARS
                       ) -> Iterator[list[int]]:
    """Each non-empty document's token ids with EOS appended, read and encoded a batch at a time.

    ``text_budget``: stop with TextBudgetExceeded once the documents' characters pass it.
    """
    from dclm.io.document_files import iter_documents

    batch: list[str] = []
    batch_chars = 0
    for row in iter_documents(url, columns=["text"], batch_size=rows_per_read):
        stats["rows"] += 1
        text = row.get("text")
        if not text:
            stats["empty"] += 1
            continue
        stats["documents"] += 1
        stats["characters"] = stats.get("characters", 0) + len(text)
        if text_budget is not None and stats["characters"] > text_budget:
            raise TextBudgetExceeded(stats["characters"])
        batch.append(text)
        batch_chars += len(text)
        if len(batch) >= ENCODE_BATCH or batch_chars >= chars_per_encode:
            for encoding in tokenizer.encode_batch(batch, add_special_tokens=False):
                yield encoding.ids + [eos]
            batch, batch_chars = [], 0
    if batch:
        for encoding in tokenizer.encode_batch(batch, add_special_tokens=False):
            yield encoding.ids + [eos]


def tokenize_shard(url: str, tokenizer, eos: int, dtype: np.dtype) -> tuple[np.ndarray, dict]:
    """All documents of one shard (Parquet or JSONL) as one token stream, each followed by EOS."""
    stats = {"rows": 0, "documents": 0, "empty": 0, "tokens": 0}
    pieces = [np.asarray(ids, dtype=dtype) for ids in _encoded_documents(url, tokenizer, eos, stats)]
    stats.pop("characters", None)
    stream = np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)
    stats["tokens"] = int(stream.size)
    return stream, stats


def count_shard_tokens(url: str, tokenizer, eos: int, text_budget: Optional[int] = None) -> dict:
    """What ``tokenize_shard`` counts (rows, documents, empty, tokens), holding one small batch at a time:
    32 rows read, about 1 MiB of text encoded (an untrusted shard's rows can be of any length)."""
    stats = {"rows": 0, "documents": 0, "empty": 0, "tokens": 0}
    for ids in _encoded_documents(url, tokenizer, eos, stats, text_budget, rows_per_read=32,
                                  chars_per_encode=1 << 20):
        stats["tokens"] += len(ids)
    stats.pop("characters", None)
    return stats


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def read_manifest(directory) -> Optional[dict]:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_sha256(directory) -> str:
    """The "data manifest hash" a training run records."""
    return hashlib.sha256((Path(directory) / MANIFEST).read_bytes()).hexdigest()


def tokenize_to_dir(inputs: list[str], scale, output: str, force: bool = False,
                    progress: Optional[Callable[[str], None]] = None) -> dict:
    """Tokenize Parquet shards for ``scale`` into ``output``; returns the manifest.

    A directory whose manifest already records the same scale and the same
    source bytes is left as it is; one made from anything else needs ``force``.
    """
    from dclm.training.scales import scale_hash
    from dclm.training.tokenizer import eos_id, load_tokenizer

    out = Path(output)
    tokenizer = load_tokenizer(scale)
    eos = eos_id(tokenizer)
    dtype = token_dtype(scale.vocab_size)
    shash = scale_hash(scale)
    sources = [{"name": posixpath.basename(url), "sha256": _file_sha256(url)} for url in inputs]
    existing = read_manifest(out)
    if existing is not None and not force:
        recorded = [(s["name"], s["sha256"]) for s in existing.get("sources", [])]
        if existing.get("scale_hash") == shash and recorded == [(s["name"], s["sha256"]) for s in sources]:
            existing["up_to_date"] = True
            return existing
        raise UsageError(f"{output} already holds tokens made from other inputs or another scale; "
                         "use --force to replace them, or another --output")

    streams = []
    for url, source in zip(inputs, sources, strict=True):
        stream, stats = tokenize_shard(url, tokenizer, eos, dtype)
        source.update(stats)
        streams.append(stream)
        if progress:
            progress(source["name"])
    stream = np.concatenate(streams) if streams else np.zeros(0, dtype=dtype)
    width = scale.seq_len + 1
    n_seq = stream.size // width
    if n_seq == 0:
        raise TooFewTokens(f"the inputs hold {stream.size} tokens, fewer than one sequence of {width}",
                           tokens=int(stream.size), documents=sum(s["documents"] for s in sources))
    sequences = stream[: n_seq * width].reshape(n_seq, width)
    order = np.random.Generator(np.random.PCG64(scale.seed)).permutation(n_seq)
    sequences = sequences[order]

    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    if manifest_path.exists():
        manifest_path.unlink()   # the old manifest must not vouch for half-replaced shards
    for stale in out.glob("tokens-*.npy"):
        stale.unlink()
    per_shard = max(1, SHARD_TOKENS // width)
    data_digest = hashlib.sha256()
    shards = []
    for index, start in enumerate(range(0, n_seq, per_shard)):
        part = np.ascontiguousarray(sequences[start: start + per_shard])
        name = f"tokens-{index:05d}.npy"
        payload = _npy_bytes(part)
        write_bytes_atomic(str(out / name), payload)
        data_digest.update(part.tobytes())
        shards.append({"name": name, "sequences": int(part.shape[0]),
                       "sha256": hashlib.sha256(payload).hexdigest()})

    dataset_tokens = n_seq * scale.seq_len
    trained = scale.total_steps * scale.tokens_per_step
    manifest = {
        "format": FORMAT,
        "scale": scale.name,
        "scale_hash": shash,
        "tokenizer": scale.tokenizer,
        "tokenizer_sha256": scale.tokenizer_sha256,
        "eos_id": eos,
        "seq_len": scale.seq_len,
        "sequence_width": width,
        "dtype": dtype.str,
        "shuffle_seed": scale.seed,
        "num_sequences": int(n_seq),
        "num_tokens": int(n_seq * width),
        "dataset_tokens": int(dataset_tokens),
        "stream_tokens": int(stream.size),
        "tokens_dropped_tail": int(stream.size - n_seq * width),
        "documents": sum(s["documents"] for s in sources),
        "data_sha256": data_digest.hexdigest(),
        "shards": shards,
        "sources": sources,
        "budget_tokens": int(scale.tokens),
        "train_tokens": int(trained),
        "epochs": trained / dataset_tokens,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    write_bytes_atomic(str(manifest_path), text.encode("utf-8"))
    return manifest
