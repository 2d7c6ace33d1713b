"""The four dedup methods as one shape: what to run globally, how to write a shard.

A ``DedupMethod`` bundles a method's parameters (recorded in ``run.json``
and ``stats.json``), its global phases (``run``: shard paths → one result
ref per shard, plus run facts) and the conversion of a shard's result into
the decision table that ``pipelines.deduplication.write`` applies. The CLI
(``dclm dedup``) and recipe global steps (``pipelines.global_steps``) both
build methods here, so a recipe step and the command with the same
parameters give the same output.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dedup.bff_config import BffConfig
from dedup.minhash_config import MinHashConfig
from pipelines.deduplication.bff_dedup import bff_annotations, bff_decision_table
from pipelines.deduplication.first_occurrence import first_occurrence_annotations
from pipelines.deduplication.minhash_dedup import CLUSTER_COLUMN, KEEP_COLUMN, minhash_dedup_annotations


@dataclass
class DedupMethod:
    name: str                       # minhash | exact | url | bff
    step: str                       # the recipe step name, used in the ledger
    params: dict                    # JSON-able; decides the output
    run: Callable                   # (paths, timings, announce) -> (refs, facts)
    convert: Optional[Callable] = None
    convert_kwargs: Optional[dict] = None
    annotate: bool = False
    text_column: str = "text"

    @property
    def stage(self) -> str:
        return f"dedup_{self.name}"


def minhash_decision_table(annotation: pa.Table, table: pa.Table, annotate: bool) -> pa.Table:
    keep = annotation.column(KEEP_COLUMN)
    cluster = annotation.column(CLUSTER_COLUMN)
    removed = pc.invert(keep)
    columns = {"keep": keep,
               "reason": pc.if_else(removed, pa.scalar("minhash_duplicate"),
                                            pa.scalar(None, pa.string())),
               "duplicate_of": pc.if_else(removed, cluster, pa.scalar(None, pa.string())),
               CLUSTER_COLUMN: cluster}
    if annotate:
        columns[KEEP_COLUMN] = keep
    return pa.table(columns)


def _minhash_run(paths, timings, announce, config: MinHashConfig):
    result = minhash_dedup_annotations(paths, config, timings)
    return result.annotations, {"clusters": result.clusters["clusters"],
                                "cluster_sizes": result.clusters,
                                "removed": result.removed, "rounds": result.rounds,
                                "keeper_rounds": result.keeper_rounds,
                                "unverified_kept": result.unverified_kept,
                                "num_partitions": result.num_partitions}


def minhash_method(config: MinHashConfig, annotate: bool = False) -> DedupMethod:
    params = {"method": "minhash", "ngram": config.ngram, "num_bands": config.num_bands,
              "rows_per_band": config.rows_per_band, "seed": config.seed,
              "fold_digits": config.fold_digits, "keep": config.keep.column or "lowest_id",
              "verify_threshold": config.verify_threshold,
              "keeper_threshold": config.keeper_threshold, "keeper_rounds": config.keeper_rounds,
              "text_column": config.text_column,
              "id_column": config.id_column, "annotate": annotate}
    return DedupMethod("minhash", "minhash_dedup", params,
                       functools.partial(_minhash_run, config=config),
                       convert=minhash_decision_table, convert_kwargs={"annotate": annotate},
                       annotate=annotate, text_column=config.text_column)


def first_occurrence_decision_table(annotation: pa.Table, table: pa.Table, signal: str,
                                    annotate: bool) -> pa.Table:
    if not annotate:
        return annotation
    return annotation.append_column(signal, annotation.column("duplicate_of"))


def _first_occurrence_run(paths, timings, announce, **kwargs):
    return first_occurrence_annotations(paths, timings=timings, **kwargs)


def exact_method(column: str = "text", raw: bool = False, id_column: str = "id",
                 annotate: bool = False, num_partitions: Optional[int] = None,
                 dclm: Optional[dict] = None) -> DedupMethod:
    """Exact dedup; ``dclm`` holds DCLM's ``normalize``/``selection_*`` parameters (dedup.dclm_keys)."""
    params = {"method": "exact", "column": column, "raw": raw, "id_column": id_column,
              "annotate": annotate}
    keys = {"kind": "text"}
    if dclm is not None:
        params["dclm"] = dict(dclm)
        keys = {"kind": "dclm", "normalize": dclm.get("normalize"),
                "selection_column": dclm.get("selection_key"),
                "selection_normalize": dclm.get("selection_normalize"),
                "selection_reverse": bool(dclm.get("selection_reverse", False))}
    run = functools.partial(_first_occurrence_run, column=column, raw=raw,
                            reason="exact_duplicate", id_column=id_column,
                            num_partitions=num_partitions, **keys)
    return DedupMethod("exact", "exact_dedup", params, run,
                       convert=first_occurrence_decision_table,
                       convert_kwargs={"signal": "exact_duplicate_of", "annotate": annotate},
                       annotate=annotate, text_column=column)


def _dclm_lines_run(paths, timings, announce, **kwargs):
    from pipelines.deduplication.dclm_lines import line_dedup_annotations

    return line_dedup_annotations(paths, timings=timings, **kwargs)


def dclm_lines_method(column: str, delimiter: str, dclm: dict) -> DedupMethod:
    """DCLM's exact_dedup on the lines of split_lines_modifier (pipelines.deduplication.dclm_lines)."""
    params = {"method": "exact_lines", "column": column, "delimiter": delimiter, "dclm": dict(dclm)}
    run = functools.partial(_dclm_lines_run, column=column, delimiter=delimiter,
                            normalize=dclm.get("normalize"), selection_column=dclm.get("selection_key"),
                            selection_normalize=dclm.get("selection_normalize"),
                            selection_reverse=bool(dclm.get("selection_reverse", False)))
    return DedupMethod("exact_lines", "exact_dedup", params, run, text_column=column)


def url_method(column: str = "url", id_column: str = "id", annotate: bool = False,
               num_partitions: Optional[int] = None) -> DedupMethod:
    params = {"method": "url", "column": column, "id_column": id_column, "annotate": annotate}
    run = functools.partial(_first_occurrence_run, column=column, kind="url", raw=False,
                            reason="url_duplicate", id_column=id_column,
                            num_partitions=num_partitions)
    return DedupMethod("url", "url_dedup", params, run,
                       convert=first_occurrence_decision_table,
                       convert_kwargs={"signal": "url_duplicate_of", "annotate": annotate},
                       annotate=annotate)


def _bff_run(paths, timings, announce, config: BffConfig):
    return bff_annotations(paths, config, timings, announce)


def bff_method(config: BffConfig, annotate: bool = False) -> DedupMethod:
    params = {"method": "bff", **asdict(config), "remove_type": "old-both", "annotate": annotate}
    return DedupMethod("bff", "bff_dedup", params, functools.partial(_bff_run, config=config),
                       convert=bff_decision_table,
                       convert_kwargs={"text_column": config.text_column, "ngram": config.ngram,
                                       "annotate": annotate},
                       annotate=annotate, text_column=config.text_column)


def s_curve_table(config: MinHashConfig) -> str:
    """P(candidate | J) = 1 − (1 − J^r)^b at J = 0.50 … 0.95, for the CLI banner."""
    grid = np.round(np.arange(0.50, 0.951, 0.05), 2)
    head = "  J        " + " ".join(f"{j:>5.2f}" for j in grid)
    row = "  P(cand)  " + " ".join(f"{config.candidate_probability(j):>5.3f}" for j in grid)
    return (f"MinHash LSH: {config.num_bands} bands x {config.rows_per_band} rows "
            f"({config.num_hashes} hashes), word {config.ngram}-grams; "
            f"P(candidate | J) = 1 - (1 - J^{config.rows_per_band})^{config.num_bands}\n"
            f"{head}\n{row}")
