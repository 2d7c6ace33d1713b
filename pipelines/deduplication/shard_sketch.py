"""Phase 1 of MinHash dedup for one shard (Parquet or JSONL): text to LSH band keys.

Reads only the columns it needs, in record batches of ``batch_rows``, so a
shard of any size is sketched in bounded memory. Besides the band keys it
keeps what the keep rule needs later (``id`` and the optional priority
column), indexed by row, and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pyarrow as pa

from dedup.keep_rule import priority_values
from dedup.minhash import lsh_band_keys, minhash_signatures
from dedup.minhash_config import MinHashConfig
from dedup.partitioning import pack_doc_index, unpack_doc_index
from dedup.shingles import shingle_batch


@dataclass
class ShardMeta:
    """Per-row facts of one shard that the keep rule and annotation need."""

    shard_index: int
    ids: pa.Array                      # the id column, as strings
    priority: np.ndarray | None        # keep-rule column as float64, or None
    # Low 16 bits of every signature entry, only when candidates or removals
    # are checked (``MinHashConfig.keeps_signatures``): 2 bytes per hash
    # instead of 8, and chance agreement of 2^-16 per entry.
    signatures: np.ndarray | None = None

    @property
    def num_rows(self) -> int:
        return len(self.ids)


def stored_signatures(nodes: np.ndarray, metas: dict[int, ShardMeta]) -> np.ndarray:
    """16-bit signature rows of packed doc indices, all from shards in ``metas``."""
    shard, row = unpack_doc_index(nodes)
    width = next(iter(metas.values())).signatures.shape[1] if metas else 0
    out = np.zeros((len(nodes), width), dtype=np.uint16)
    for shard_index, meta in metas.items():
        mine = shard == shard_index
        out[mine] = meta.signatures[row[mine]]
    return out


def stored_ids(nodes: np.ndarray, metas: dict[int, ShardMeta]) -> pa.Array:
    """Ids of packed doc indices (in their order), all from shards in ``metas``."""
    shard, row = unpack_doc_index(nodes)
    positions, ids = [np.zeros(0, np.int64)], [pa.array([], pa.string())]
    for shard_index, meta in metas.items():
        mine = np.flatnonzero(shard == shard_index)
        positions.append(mine)
        ids.append(meta.ids.take(pa.array(row[mine])).cast(pa.string()))
    gathered = pa.concat_arrays(ids)
    return gathered.take(pa.array(np.argsort(np.concatenate(positions)), pa.int64()))


def text_signatures(texts: Iterable[str | None], config: MinHashConfig) -> np.ndarray:
    """``(docs, num_hashes)`` MinHash signatures of a batch of texts (None = "")."""
    values, offsets = shingle_batch(("" if t is None else t for t in texts),
                                    config.ngram, fold_digits=config.fold_digits)
    return minhash_signatures(values, offsets, config.num_hashes, config.seed)


def text_band_keys(texts: Iterable[str | None], config: MinHashConfig) -> np.ndarray:
    """``(docs, num_bands)`` uint64 LSH band keys of a batch of texts (None = "")."""
    return lsh_band_keys(text_signatures(texts, config), config.num_bands,
                         config.rows_per_band, config.seed)


def _concat(arrays: list[np.ndarray], empty_shape: tuple, dtype) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(empty_shape, dtype=dtype)


def sketch_shard(path: str, shard_index: int, config: MinHashConfig
                 ) -> tuple[np.ndarray, np.ndarray, ShardMeta]:
    """Band keys, packed doc indices and meta of every row of a Parquet shard.

    ``path`` is a local path or any fsspec URL.
    """
    from dclm.io.document_files import iter_document_batches

    keep_column = config.keep.column
    columns = [config.text_column, config.id_column] + ([keep_column] if keep_column else [])
    return _sketch_batches(iter_document_batches(path, list(dict.fromkeys(columns)), config.batch_rows),
                           shard_index, config)


def _sketch_batches(batches, shard_index: int, config: MinHashConfig
                    ) -> tuple[np.ndarray, np.ndarray, ShardMeta]:
    keep_column = config.keep.column
    keep_signatures = config.keeps_signatures
    keys, ids, priorities, compact = [], [], [], []
    for batch in batches:
        signatures = text_signatures(batch.column(config.text_column).to_pylist(), config)
        keys.append(lsh_band_keys(signatures, config.num_bands, config.rows_per_band,
                                  config.seed))
        ids.append(batch.column(config.id_column).cast(pa.string()))
        if keep_column:
            priorities.append(priority_values(batch.column(keep_column), batch.num_rows))
        if keep_signatures:
            compact.append(signatures.astype(np.uint16))      # keeps the low 16 bits
    band_keys = _concat(keys, (0, config.num_bands), np.uint64)
    meta = ShardMeta(
        shard_index=shard_index,
        ids=pa.concat_arrays(ids) if ids else pa.array([], pa.string()),
        priority=_concat(priorities, (0,), np.float64) if keep_column else None,
        signatures=_concat(compact, (0, config.num_hashes), np.uint16) if keep_signatures else None)
    doc_index = pack_doc_index(shard_index, np.arange(len(band_keys)))
    return band_keys, doc_index, meta
