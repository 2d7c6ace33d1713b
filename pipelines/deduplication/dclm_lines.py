"""DCLM's line-level exact dedup: ``exact_dedup`` on the lines of ``split_lines_modifier``.

DCLM's ``c4.yaml`` splits each page into lines, runs ``exact_dedup(content_key:
text, normalize: normalize_whitespace_and_lowercase, selection_key: url,
selection_normalize: hash_text)`` over every line of the corpus, then joins
the surviving lines. Every line whose normalized form occurs elsewhere is
removed except one copy: the one whose page has the smallest selected value
(here the md5 of the URL), ties going to the earlier page, then the earlier
line. As in DCLM the empty line is a line like any other, so only one empty
line survives in the whole corpus. A page left without lines is dropped
(DCLM drops it at ``join_lines_modifier``).

Phases and partitioning are those of ``pipelines.deduplication.first_occurrence``, with one
row per line: a line is ``(doc, line)``, keys are partitioned by hash, and
each shard gets back the lines it must remove, as a decision table with the
rewritten ``text`` (``pipelines.deduplication.write``).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pyarrow as pa

from dedup.dclm_keys import content_keys, selection_values
from dedup.exact_keys import hash128
from dedup.partitioning import concat_parts, key_partition, pack_doc_index, split_by_partition, unpack_doc_index
from pipelines.deduplication.first_occurrence import selection_rank
from pipelines.deduplication.ray_tasks import cluster_cpus, submit, submit_per_group, transpose
from pipelines.deduplication.stage_timer import StageTimer

_DTYPES = (np.uint64, np.uint64, np.int64, np.int64)
REASON = "exact_duplicate_lines"


def _key_body(inputs: list, path: str, shard_index: int, column: str, delimiter: str,
              normalize: Optional[str], selection_column: Optional[str],
              selection_normalize: Optional[str], num_partitions: int) -> list:
    from dclm.io.document_files import read_documents_table as read_table

    columns = [column] + ([selection_column] if selection_column else [])
    table = read_table(path, columns=list(dict.fromkeys(columns)))
    texts = table.column(column).to_pylist()
    per_row = [[] if t is None else t.split(delimiter) for t in texts]
    rows = np.repeat(np.arange(len(per_row), dtype=np.int64), [len(units) for units in per_row])
    line = np.concatenate([np.arange(len(units), dtype=np.int64) for units in per_row]
                          + [np.zeros(0, np.int64)])
    keys = content_keys([unit for units in per_row for unit in units], normalize)
    hi, lo = hash128(keys)
    selected = None
    if selection_column:
        chosen = selection_values(table.column(selection_column).to_pylist(), selection_normalize)
        selected = pa.array(chosen).take(pa.array(rows))
    doc = pack_doc_index(shard_index, rows)
    parts = split_by_partition(key_partition(hi, num_partitions), num_partitions,
                               hi, lo, doc, line, selected)
    return [table.num_rows] + parts


def _find_body(inputs: list, num_groups: int, selection_reverse: bool) -> list:
    hi, lo, doc, line = concat_parts([part[:4] for part in inputs], _DTYPES)
    rank = selection_rank(inputs, selection_reverse)
    order = np.lexsort((line, doc, rank, lo, hi))
    hi, lo, doc, line = hi[order], lo[order], doc[order], line[order]
    starts = np.ones(len(doc), dtype=bool)
    starts[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    dup = np.flatnonzero(~starts)
    shard, _ = unpack_doc_index(doc[dup])
    parts = split_by_partition(shard % num_groups, num_groups, doc[dup], line[dup])
    return [{"removed_lines": int(len(dup))}] + parts


def _annotate_body(inputs: list, paths: list, shard_indices: list, column: str,
                   delimiter: str) -> list:
    from dclm.io.document_files import read_documents_table as read_table

    counts, parts = inputs[:len(shard_indices)], inputs[len(shard_indices):]
    doc, line = concat_parts([part[:2] for part in parts], (np.int64, np.int64))
    shard, row = unpack_doc_index(doc)
    tables = []
    for path, shard_index, num_rows in zip(paths, shard_indices, counts, strict=True):
        mine = np.flatnonzero(shard == shard_index)
        removed: dict[int, set] = {}
        for r, n in zip(row[mine].tolist(), line[mine].tolist(), strict=True):
            removed.setdefault(r, set()).add(n)
        texts = read_table(path, columns=[column]).column(column).to_pylist() if removed else []
        keep = np.ones(num_rows, dtype=bool)
        new_text: list = [None] * num_rows
        for r, gone in removed.items():
            units = [u for i, u in enumerate(texts[r].split(delimiter)) if i not in gone]
            if units:
                new_text[r] = delimiter.join(units)
            else:
                keep[r] = False
        tables.append(pa.table({"keep": pa.array(keep),
                                "reason": pa.array(np.where(keep, None, REASON), pa.string()),
                                "text": pa.array(new_text, pa.string())}))
    return tables


def line_dedup_annotations(shard_paths: Sequence[str], *, column: str = "text", delimiter: str = "\n",
                           normalize: Optional[str] = None, selection_column: Optional[str] = None,
                           selection_normalize: Optional[str] = None, selection_reverse: bool = False,
                           num_partitions: Optional[int] = None,
                           timings: Optional[dict] = None) -> tuple[list, dict]:
    """Per-shard decision tables (refs, input order) and run totals."""
    import ray

    timer = StageTimer(timings)
    S = len(shard_paths)
    P = num_partitions or min(cluster_cpus(), 64)
    G = max(1, min(S, P))
    keyed = [submit(_key_body, P + 1, path=str(p), shard_index=s, column=column, delimiter=delimiter,
                    normalize=normalize, selection_column=selection_column,
                    selection_normalize=selection_normalize, num_partitions=P)
             for s, p in enumerate(shard_paths)]
    counts = [out[0] for out in keyed]
    timer.wait("keys", counts)
    found = [submit(_find_body, G + 1, parts, num_groups=G, selection_reverse=selection_reverse)
             for parts in transpose([out[1:] for out in keyed], P)]
    removed = sum(stats["removed_lines"] for stats in ray.get([out[0] for out in found]))
    timer.mark("find")
    annotations = submit_per_group(
        _annotate_body, counts, transpose([out[1:] for out in found], G), G,
        lambda members: {"paths": [str(shard_paths[s]) for s in members], "shard_indices": members,
                         "column": column, "delimiter": delimiter})
    timer.wait("annotate", annotations)
    return annotations, {"removed_lines": removed, "num_partitions": P, "num_groups": G}
