"""``dclm classifier score`` for one shard: the same rows, plus the classifier's P(hq) column.

DCLM (Li et al. 2024) scores every page with its fastText classifier and
thresholds the score later; we store the score as a column (DESIGN §3,
"annotate once, select many"), so sweeping thresholds or top fractions never
rescores. The shard is read in Arrow record batches and each batch's texts
are scored with one ``filters.quality_classifier.score_texts`` call; rows
and all other columns pass through untouched (no Python dict per row).
JSONL input, or JSONL output (``--output-format``), goes row by row instead.
"""
from __future__ import annotations

import time

import pyarrow as pa
import pyarrow.parquet as pq

from dclm.errors import ShardError
from dclm.io import shard_progress
from dclm.io.atomic_files import open_atomic
from dclm.io.parquet_shards import COMPRESSION, ROWS_PER_BATCH
from dclm.runtime.executor import ShardJob
from dclm.runtime.ledger import ShardLedger
from filters.quality_classifier import DEFAULT_KEY, load_quality_model

SCORE_STEP = "classify"          # the ledger step is named classify:<key>


def output_schema(schema: pa.Schema, key: str, overwrite: bool = False) -> pa.Schema:
    """``schema`` with a float64 ``key`` column at the end (replacing one with ``overwrite``)."""
    if key in schema.names:
        if not overwrite:
            raise ValueError(f"the shard already has a {key!r} column; pass --overwrite to rescore "
                             "or choose another --key")
        schema = schema.remove(schema.get_field_index(key))
    return schema.append(pa.field(key, pa.float64()))


def score_shard(job: ShardJob) -> dict:
    """Score one Parquet shard (``job.params``: model, key, overwrite, batch_size, normalize)."""
    params = job.params
    key = params.get("key", DEFAULT_KEY)
    overwrite = bool(params.get("overwrite", False))
    model = load_quality_model(params["model"])
    ledger = ShardLedger(shard=job.name, stage="classify", input=job.input, output=job.output)
    counts = ledger.step(f"{SCORE_STEP}:{key}")
    score_sum, score_min, score_max = 0.0, float("inf"), float("-inf")
    import fsspec

    from dclm.io.document_files import PARQUET, sniff_format
    from dclm.io.document_writers import is_jsonl_path

    if sniff_format(job.input) != PARQUET or is_jsonl_path(job.output):
        return _score_rows(job, model, key, overwrite, ledger)
    with fsspec.open(job.input, "rb") as fh:
        try:
            reader = pq.ParquetFile(fh)
        except Exception as exc:      # not Parquet at all: the whole shard fails, by name
            raise ShardError(f"{job.input}: not a Parquet file ({exc})") from exc
        if "text" not in reader.schema_arrow.names:
            raise ShardError(f"{job.input}: no 'text' column to score")
        schema = output_schema(reader.schema_arrow, key, overwrite)
        shard_progress.set_total(reader.metadata.num_rows)
        with open_atomic(job.output) as out:
            writer = pq.ParquetWriter(out, schema, compression=COMPRESSION)
            for batch in reader.iter_batches(batch_size=int(params.get("batch_size", ROWS_PER_BATCH))):
                started = time.perf_counter()
                scores = model.probabilities(batch.column("text").to_pylist(),
                                             normalize=params.get("normalize"))
                counts.seconds += time.perf_counter() - started
                columns = [batch.column(name) for name in schema.names[:-1]]
                table = pa.Table.from_arrays(columns + [pa.array(scores, type=pa.float64())], schema=schema)
                writer.write_table(table, row_group_size=ROWS_PER_BATCH)
                counts.docs_in += len(scores)
                shard_progress.advance(len(scores), done=counts.docs_in)
                counts.kept += len(scores)
                if len(scores):
                    score_sum += float(scores.sum())
                    score_min = min(score_min, float(scores.min()))
                    score_max = max(score_max, float(scores.max()))
            writer.close()
    return _finish(job, model, ledger, counts, (score_sum, score_min, score_max))


def _score_rows(job: ShardJob, model, key: str, overwrite: bool, ledger: ShardLedger) -> dict:
    """The row-by-row path: any input format, any output format."""
    from dclm.io.document_fields import InputNotes
    from dclm.io.document_files import iter_documents
    from dclm.io.document_writers import open_document_writer

    params = job.params
    counts = ledger.step(f"{SCORE_STEP}:{key}")
    notes = InputNotes()
    total, low, high = 0.0, float("inf"), float("-inf")
    batch_size = int(params.get("batch_size", ROWS_PER_BATCH))

    def score(batch: list[dict], writer) -> None:
        nonlocal total, low, high
        started = time.perf_counter()
        scores = model.probabilities([row["text"] for row in batch], normalize=params.get("normalize"))
        counts.seconds += time.perf_counter() - started
        for row, value in zip(batch, scores.tolist(), strict=True):
            if key in row and not overwrite:
                raise ShardError(f"{job.input}: the documents already have a {key!r} field; pass "
                                 "--overwrite to rescore or choose another --key")
            row[key] = value
            writer.write(row)
        counts.kept += len(batch)
        if batch:
            total, low, high = (total + float(scores.sum()), min(low, float(scores.min())),
                                max(high, float(scores.max())))

    with open_document_writer(job.output) as writer:
        batch: list[dict] = []
        for document in iter_documents(job.input, notes):
            batch.append(document)
            if len(batch) >= batch_size:
                score(batch, writer)
                batch = []
        score(batch, writer)
    counts.docs_in = notes.lines
    counts.errors.update(notes.bad_lines)
    ledger.details["input"] = notes.to_dict()
    return _finish(job, model, ledger, counts, (total, low, high))


def _finish(job: ShardJob, model, ledger: ShardLedger, counts, summary: tuple[float, float, float]) -> dict:
    params = job.params
    score_sum, score_min, score_max = summary
    scored = counts.kept
    ledger.details = {
        **ledger.details,
        "model": params["model"],
        "key": params.get("key", DEFAULT_KEY),
        "scorer": "numpy (exact fastText re-implementation)" if model.linear else "fastText predict",
        # Which preparation the scores were computed with, and who chose it.
        "text_prep": (model.text_prep if params.get("normalize") is None
                      else "normalize" if params["normalize"] else "dclm"),
        "text_prep_from": (model.text_prep_from if params.get("normalize") is None
                           else params.get("text_prep_from", "caller")),
        "score_mean": score_sum / scored if scored else None,
        "score_min": score_min if scored else None,
        "score_max": score_max if scored else None,
    }
    ledger.finish()
    ledger.write(job.ledger)
    return ledger.to_dict()
