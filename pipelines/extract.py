"""Extraction of one WARC shard: records → decoded HTML → main text → documents.

This is the per-shard work of ``dclm extract`` and the first half of
``dclm run``. It knows nothing about Ray: the executor calls ``extract_shard``
with a ``ShardJob`` wherever it runs it.

Memory per record is bounded: a payload over ``MAX_HTML_BYTES`` (8 MiB; the
job parameter ``max_html_bytes`` changes it) is counted as dropped with reason
``too_large`` and never parsed, since parsing costs about ten times the page
in memory (measured with resiliparse: a 16 MiB page peaks 150 MiB above the
worker's baseline). Common Crawl truncates payloads at 1 MiB, so its pages are
never affected. The reader stops reading a payload at 16 MiB
(``dclm.io.warc_records.MAX_PAYLOAD_BYTES``), so a 50 MB record costs at most that.
"""
from __future__ import annotations

import time
from typing import Iterator

from dclm.extract.html_text import get_checked_extractor
from dclm.extract.page_worker import PageError, PageWorker
from dclm.extract.time_limit import DocumentTimeout
from dclm.io import shard_progress
from dclm.io.document_writers import open_document_writer
from dclm.io.parquet_shards import CORE_SCHEMA
from dclm.io.remote_retry import collect_retries
from dclm.io.warc_records import Malformed, Record, iter_archive
from dclm.runtime.executor import ShardJob
from dclm.runtime.ledger import ShardLedger, StepCounts

EXTRACT_STEP = "extract"
# Headers that become columns of their own rather than metadata entries.
_COLUMN_HEADERS = {"warc-record-id", "warc-target-uri", "warc-date"}
DEFAULT_TIME_LIMIT_S = 10.0
MAX_HTML_BYTES = 8 * 2**20
TOO_LARGE = "too_large"


# Peak RSS of each page worker this process has run (they parse the HTML, so they hold most of it).
PAGE_WORKER_PEAKS: list[int] = []


def worker_peak_rss_mib() -> int:
    """This process's peak resident memory so far, plus the largest of its page workers' (they run
    beside it): a Ray worker's, over every shard it ran.

    Read from VmHWM, not getrusage: Linux carries ru_maxrss across execve, so a
    process started by a large parent would report the parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024 + max(PAGE_WORKER_PEAKS, default=0)
    except OSError:
        pass
    import resource  # not Linux: the portable, possibly inherited figure

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 + max(PAGE_WORKER_PEAKS, default=0)


def size_cap(params: dict) -> int:
    """The largest payload a job extracts, in bytes."""
    return int(params.get("max_html_bytes") or MAX_HTML_BYTES)


def _is_html(record: Record) -> bool:
    content_type = (record.content_type or "").lower()
    if content_type:
        return "html" in content_type
    head = record.payload[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


def _skip_reason(record: Record) -> str | None:
    """Why a record yields no document, or None when it should be extracted."""
    if record.rec_type == "conversion":
        return None
    if record.rec_type != "response":
        return f"record_type:{record.rec_type}"
    # Non-200 pages are kept with their status in metadata: selecting on it is a
    # recipe's decision, not the extractor's.
    if not _is_html(record):
        mime = (record.content_type or "unknown").split(";")[0].strip().lower() or "unknown"
        return f"not_html:{mime}"
    return None


def _document(record: Record, text: str, source: str) -> dict:
    metadata = {key: value for key, value in record.headers if key.lower() not in _COLUMN_HEADERS}
    if record.http_status is not None:
        metadata["http_status"] = str(record.http_status)
    if record.content_type:
        metadata["http_content_type"] = record.content_type
    metadata["warc_record_offset"] = str(record.offset)
    return {
        "id": record.header("WARC-Record-ID") or f"{source}@{record.offset}",
        "url": record.header("WARC-Target-URI") or "",
        "text": text,
        "source": source,
        "date": record.header("WARC-Date") or "",
        "metadata": metadata,
    }


PAGE_RECORD_TYPES = ("response", "conversion")


def iter_extracted(url: str, source: str, ledger: ShardLedger, extractor: str = "resiliparse",
                   time_limit_s: float = DEFAULT_TIME_LIMIT_S, max_bytes: int = MAX_HTML_BYTES) -> Iterator[dict]:
    """Documents of one archive, in file order, counting every record in the ledger."""
    counts: StepCounts = ledger.step(EXTRACT_STEP)
    get_checked_extractor(extractor)          # an unknown name fails here, before any record is read
    details = ledger.details
    for key in ("record_types",):
        details.setdefault(key, {})
    for key in ("malformed_records", "clipped_records", "too_large_records"):
        details.setdefault(key, [])
    details.setdefault("responses", 0)
    # Pages whose pruned text the default extractor's safety net replaced
    # (dclm.extract.main_content): a share that grows says the pruning needs work.
    details.setdefault("extract_fallbacks", 0)
    details["extractor"] = extractor
    details["max_html_bytes"] = max_bytes
    with PageWorker(extractor, time_limit_s) as pages:
        yield from _extracted_events(url, source, counts, details, pages, time_limit_s, max_bytes)
        PAGE_WORKER_PEAKS.append(pages.peak_rss_mib)


def _extracted_events(url: str, source: str, counts: StepCounts, details: dict, pages: PageWorker,
                      time_limit_s: float, max_bytes: int) -> Iterator[dict]:
    record_types, malformed = details["record_types"], details["malformed_records"]
    clipped, too_large = details["clipped_records"], details["too_large_records"]
    shard_progress.track_input(url)
    for event in iter_archive(url):
        counts.docs_in += 1
        # Live progress counts pages (responses, WET conversions), not request or metadata records.
        shard_progress.advance(int(getattr(event, "rec_type", None) in PAGE_RECORD_TYPES), done=event.offset)
        if isinstance(event, Malformed):
            counts.errors["malformed_record"] += 1
            malformed.append({"offset": event.offset, "reason": event.reason})
            continue
        record_types[event.rec_type] = record_types.get(event.rec_type, 0) + 1
        details["responses"] += event.rec_type == "response"
        reason = _skip_reason(event)
        if reason:
            counts.dropped[reason] += 1
            continue
        if event.truncated or len(event.payload) > max_bytes:
            counts.dropped[TOO_LARGE] += 1
            too_large.append({"offset": event.offset, "content_length": event.header("Content-Length"),
                              "read_bytes": len(event.payload), "truncated": event.truncated})
            continue
        if event.clipped_bytes:
            clipped.append({"offset": event.offset, "missing_bytes": event.clipped_bytes})
        started = time.perf_counter()
        try:
            if event.rec_type == "conversion":
                text = event.payload.decode("utf-8", errors="replace")
            else:
                text, fell_back = pages.extract(event.payload, event.content_type)
                details["extract_fallbacks"] += fell_back
        except DocumentTimeout:
            counts.errors["extraction_timeout"] += 1
            malformed.append({"offset": event.offset, "reason": f"extraction took over {time_limit_s}s"})
            continue
        except PageError as exc:  # a page the parser or extractor cannot handle
            counts.errors["extraction_error"] += 1
            malformed.append({"offset": event.offset, "reason": str(exc)[:300]})
            continue
        finally:
            counts.seconds += time.perf_counter() - started
        text = text.strip()
        if not text:
            counts.dropped["empty_text"] += 1
            continue
        counts.kept += 1
        yield _document(event, text, source)


def extract_shard(job: ShardJob) -> dict:
    """``dclm extract`` for one shard: WARC in, one Parquet file and its ledger out."""
    ledger = ShardLedger(shard=job.name, stage="extract", input=job.input, output=job.output)
    params = job.params
    with collect_retries() as retries:
        docs = iter_extracted(job.input, job.source, ledger, extractor=params.get("extractor", "resiliparse"),
                              time_limit_s=params.get("time_limit_s", DEFAULT_TIME_LIMIT_S),
                              max_bytes=size_cap(params))
        with open_document_writer(job.output, schema=CORE_SCHEMA) as writer:
            for document in docs:
                writer.write(document)
    ledger.details["remote_retries"] = dict(sorted(retries.items()))
    ledger.details["worker_peak_rss_mib"] = worker_peak_rss_mib()
    ledger.finish()
    # The ledger goes last: an output without its ledger is an unfinished shard on resume.
    ledger.write(job.ledger)
    return ledger.to_dict()
