"""Keep the best fraction of documents of a whole run by a stored score (two passes).

DCLM-Baseline keeps the top 10% of pages by fastText score (Li et al. 2024,
§4.4); its released threshold 0.018112 is that cut on its pool. A fixed
threshold does not transfer to another pool or classifier, so here the cut
is computed on the run itself:

1. ``find_cut`` reads only the score and ``id`` columns of every shard, on
   the driver (two columns of 8-byte floats and short strings: ~100 MB for
   a million-page shard set), and finds the exact boundary: the
   ``ceil(fraction * N)``-th document in the order best score first, then
   ``id``, then shard name, then row. A NaN or missing score is worst.
2. ``select_top_fraction`` filters every shard against that boundary in one
   Ray task per shard (``dclm.runtime.stage.run_stage``), so exactly
   ``ceil(fraction * N)`` documents survive, ties included, whatever the
   shard count. The threshold, N and the number kept go into each shard's
   ledger and the run's ``stats.json``.

Beyond what one driver can hold (billions of documents), the same cut can be
found without gathering all scores: a first Ray pass builds a per-shard
histogram of scores over fine bins, the bin holding the k-th document is
found from the summed counts, and a second pass gathers only the scores,
ids and positions inside that bin. That variant is not implemented.
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dclm.io.document_files import read_documents_table
from dclm.io.document_writers import write_documents_table
from dclm.io.inputs import shard_name
from dclm.runtime.executor import ShardJob, plan_jobs
from dclm.runtime.input_ledger import counted_table
from dclm.runtime.ledger import ShardLedger
from dclm.runtime.stage import run_stage
from filters.bookkeeping import check_top_fraction

STAGE = "select_top_fraction"
DROP_REASON = "below_top_fraction"


def check_fraction(fraction: float) -> float:
    """``fraction`` as a float in (0, 1], else ValueError (the rule ``quality_filter`` uses too)."""
    return check_top_fraction(fraction, where="top fraction selection")


@dataclass(frozen=True)
class TopFractionCut:
    """The last document kept, in the order (score best first, id, shard, row)."""

    by: str
    fraction: float
    lower_better: bool
    documents_total: int
    documents_to_keep: int
    threshold: Optional[float]      # the boundary document's score (None: nothing to keep)
    boundary_id: Optional[str]
    boundary_shard: Optional[str]
    boundary_row: Optional[int]

    def as_params(self) -> dict:
        return asdict(self)


def _scores(table: pa.Table, by: str, lower_better: bool) -> np.ndarray:
    """Scores oriented so that larger is better; NaN and null become -inf (worst)."""
    column = table.column(by)
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    values = np.where(np.isnan(values), -np.inf, -values if lower_better else values)
    return values


def _columns_and_rows(path: str) -> tuple[list[str], int]:
    from dclm.io.document_files import PARQUET, read_documents_table, sniff_format

    if sniff_format(path) == PARQUET:
        import fsspec

        with fsspec.open(path, "rb") as fh:
            parquet = pq.ParquetFile(fh)
            return list(dict.fromkeys(parquet.schema_arrow.names + ["id"])), parquet.metadata.num_rows
    table = read_documents_table(path)
    return table.column_names, table.num_rows


def find_cut(shard_paths: Sequence[str], by: str, fraction: float,
             lower_better: bool = False) -> TopFractionCut:
    """Pass 1: the exact boundary of the best ``ceil(fraction * N)`` documents over all shards."""
    fraction = check_fraction(fraction)
    names = [shard_name(p) for p in shard_paths]
    if len(set(names)) != len(names):
        raise ValueError("two shards share a name; ties are broken by shard name, so names must differ")
    scores, ids, shard_of, rows = [], [], [], []
    for index, path in enumerate(shard_paths):
        columns, num_rows = _columns_and_rows(path)
        if by not in columns:
            if num_rows == 0:
                continue    # every page was dropped upstream, so no enricher ever ran on this shard
            raise ValueError(f"{path}: no {by!r} column to select on")
        table = read_documents_table(path, columns=list(dict.fromkeys([by, "id"])))
        scores.append(_scores(table, by, lower_better))
        ids.append(table.column("id"))
        shard_of.append(np.full(table.num_rows, index, dtype=np.int64))
        rows.append(np.arange(table.num_rows, dtype=np.int64))
    score = np.concatenate(scores) if scores else np.zeros(0)
    total = len(score)
    keep = math.ceil(fraction * total)
    if keep == 0:
        return TopFractionCut(by, fraction, lower_better, total, 0, None, None, None, None)
    # The k-th best score, then the order among the documents that share it.
    kth = np.partition(-score, keep - 1)[keep - 1] * -1
    better = int((score > kth).sum())
    tied = np.flatnonzero(score == kth)
    all_ids = pa.chunked_array([c for chunk in ids for c in chunk.chunks], type=pa.string()) \
        if ids else pa.chunked_array([], type=pa.string())
    shard_idx, row_idx = np.concatenate(shard_of), np.concatenate(rows)
    tie_table = pa.table({
        "id": pc.take(all_ids, pa.array(tied)).combine_chunks() if len(tied) else pa.array([], pa.string()),
        "shard": pa.array([names[i] for i in shard_idx[tied]], type=pa.string()),
        "row": pa.array(row_idx[tied]),
    })
    order = pc.sort_indices(tie_table, sort_keys=[("id", "ascending"), ("shard", "ascending"),
                                                 ("row", "ascending")])   # nulls last (default)
    last = order[keep - better - 1].as_py()
    threshold = float(-kth if lower_better else kth)
    return TopFractionCut(by, fraction, lower_better, total, keep, threshold,
                          tie_table.column("id")[last].as_py(), tie_table.column("shard")[last].as_py(),
                          int(tie_table.column("row")[last].as_py()))


def keep_mask(table: pa.Table, cut: TopFractionCut, shard: str) -> np.ndarray:
    """Which rows of one shard (named ``shard``) are among the best ``cut.documents_to_keep``."""
    if cut.threshold is None or table.num_rows == 0:
        return np.zeros(table.num_rows, dtype=bool)
    score = _scores(table, cut.by, cut.lower_better)
    boundary = -cut.threshold if cut.lower_better else cut.threshold
    ids = table.column("id")
    keep = score > boundary
    tied = np.flatnonzero(score == boundary)
    if len(tied):
        tied_ids = pc.take(ids, pa.array(tied)).to_pylist()
        for row, doc_id in zip(tied.tolist(), tied_ids, strict=True):
            # Nulls sort after every id (as in find_cut's sort).
            key = (doc_id is None, doc_id or "", shard, row)
            last = (cut.boundary_id is None, cut.boundary_id or "", cut.boundary_shard, cut.boundary_row)
            keep[row] = key <= last
    return keep


def filter_shard(job: ShardJob) -> dict:
    """Pass 2 for one shard: write only the rows inside the cut (``job.params`` holds the cut)."""
    cut = TopFractionCut(**{k: job.params[k] for k in TopFractionCut.__dataclass_fields__})
    ledger = ShardLedger(shard=job.name, stage=STAGE, input=job.input, output=job.output)
    table = counted_table(job.input, ledger)
    counts = ledger.step(f"top_fraction:{cut.by}")
    mask = keep_mask(table, cut, job.name)
    kept = table.filter(pa.array(mask))
    write_documents_table(job.output, kept)
    counts.docs_in = table.num_rows
    counts.kept = kept.num_rows
    if table.num_rows - kept.num_rows:
        counts.dropped[DROP_REASON] = table.num_rows - kept.num_rows
    ledger.details = {**ledger.details, "by": cut.by, "fraction": cut.fraction, "threshold": cut.threshold,
                      "documents_total": cut.documents_total, "documents_to_keep": cut.documents_to_keep}
    ledger.finish()
    ledger.write(job.ledger)
    return ledger.to_dict()


def select_top_fraction(shard_paths: Sequence[str], output_dir: str, by: str, fraction: float, *,
                        lower_better: bool = False, ray_address: Optional[str] = None,
                        num_cpus: Optional[int] = None, progress: bool = True, force: bool = False,
                        out: Optional[TextIO] = None, output_format: str = "parquet") -> int:
    """Both passes: find the cut over ``shard_paths``, then write the kept rows of each shard.

    Returns ``run_stage``'s exit code. ``stats.json`` in ``output_dir``
    holds the cut (threshold, N, documents to keep) under ``params``.
    """
    cut = find_cut(shard_paths, by, fraction, lower_better)
    print(f"top {cut.fraction:g} by {by}: keeping {cut.documents_to_keep} of {cut.documents_total} "
          f"documents (threshold {cut.threshold})", file=out or sys.stdout)
    params = cut.as_params()
    if output_format != "parquet":
        params["output_format"] = output_format
    jobs = plan_jobs(list(shard_paths), output_dir, params)
    return run_stage(STAGE, jobs, filter_shard, output_dir, params, ray_address=ray_address,
                     num_cpus=num_cpus, progress=progress, force=force, out=out)
