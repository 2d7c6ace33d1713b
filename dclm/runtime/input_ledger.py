"""A stage's input read into its ledger: how it was read, and the records it could not read.

Every stage that reads documents counts what it read the same way: a
``read`` step (records in, documents kept, unreadable JSONL lines as its
errors, by kind) and ``details.input`` (format, where ids and urls came
from, the first skipped line numbers; ``dclm.io.document_fields``). Stages that
read a whole table add the step only for inputs read record by record
(JSONL, or Parquet without ids), so their ledgers over our own Parquet keep
the shape they always had.
"""
from __future__ import annotations

from typing import Iterator

import pyarrow as pa

from dclm.io.document_fields import InputNotes
from dclm.io.document_files import iter_documents, read_documents_table
from dclm.runtime.ledger import ShardLedger

READ_STEP = "read"


def counted_documents(path: str, ledger: ShardLedger) -> Iterator[dict]:
    """The input's documents, streamed; the ``read`` step is complete once they are all taken."""
    counts = ledger.step(READ_STEP)
    notes = InputNotes()
    for document in iter_documents(path, notes):
        counts.kept += 1
        yield document
    counts.docs_in = notes.lines
    counts.errors.update(notes.bad_lines)
    ledger.details["input"] = notes.to_dict()


def counted_table(path: str, ledger: ShardLedger) -> pa.Table:
    """The whole input as a table; record-by-record reads are counted in a ``read`` step."""
    notes = InputNotes()
    table = read_documents_table(path, notes=notes)
    if notes.format:            # read record by record (JSONL, or Parquet whose ids were derived)
        counts = ledger.step(READ_STEP)
        counts.docs_in, counts.kept = notes.lines, table.num_rows
        counts.errors.update(notes.bad_lines)
        ledger.details["input"] = notes.to_dict()
    return table
