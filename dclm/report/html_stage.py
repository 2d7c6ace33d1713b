"""The sections of a stage directory's report: funnel, dropped pages, languages, scores, lengths, dedup."""
from __future__ import annotations

from collections import Counter
from typing import Optional

import numpy as np

from dclm.report import plots
from dclm.report.collect import TEXTLESS_DROP_STEPS, StageData, StepRow
from dclm.report.html_page import (
    Section,
    cell,
    details,
    esc,
    figure,
    note,
    num_cell,
    number,
    plural,
    pre,
    row,
    table,
    warning,
)
from dclm.report.step_names import RECORD_REASON_PREFIX, readable_reason, reason_parts, step_title

WORDS_NOTE = ("Tokens are not counted by a tokenizer here: the word columns are whitespace-separated words "
              "(Python's str.split()) of the text column, and bytes are its UTF-8 length, both measured on "
              "the Parquet files. Each segment's output is measured; a step's input adds back the text of the "
              "documents it wrote to dropped/. Words in shown in italics are lower bounds: the words line "
              "modifiers removed, or dropped documents not written to dropped/, are not in them. The extract "
              "step drops only records without text, so it removes no words. One word is roughly 1.3 tokens "
              "of a BPE tokenizer for English text.")
PAGES_NOTE = ("The funnel starts at pages: the WARC response (and WET conversion) records. The request, "
              "metadata and warcinfo records that a WARC holds beside them are counted under 'WARC records "
              "read' and left out of the steps' numbers. Hover over a step for its segment folder and the "
              "name its ledger uses.")


def _changed(r: StepRow) -> bool:
    c = r.counts
    return bool(c.dropped or c.errors or c.modified or c.split)


def _record_drops(r: StepRow) -> int:
    """Records the step skipped for not being pages (request, metadata, warcinfo)."""
    return sum(n for reason, n in r.counts.dropped.items() if reason.startswith(RECORD_REASON_PREFIX))


def _page_reasons(counter: Counter) -> Counter:
    return Counter({k: v for k, v in counter.items() if not k.startswith(RECORD_REASON_PREFIX)})


def _reasons_html(counter: Counter, limit: int = 3) -> str:
    """The most frequent reasons, each as its step name and ``name=value`` parameters."""
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    lines = []
    for reason, count in ranked[:limit]:
        name, params = reason_parts(reason)
        chips = " ".join(f"<code>{esc(p)}</code>" for p in params)
        lines.append(f'<span class="reason" title="{esc(reason)}"><b>{esc(name)}</b> {chips} '
                     f'({count:,})</span>')
    if len(ranked) > limit:
        lines.append(f'<span class="reason">+{len(ranked) - limit} more</span>')
    return "".join(lines)


def _folder(data: StageData, segment_label: str) -> str:
    """Where a segment's files are, relative to the report's folder."""
    segment = next((s for s in data.segments if s.label == segment_label), None)
    if segment is None or segment is data.segments[-1]:
        return "this folder"
    root = str(data.root).rstrip("/")
    path = segment.path.rstrip("/")
    # The segment's path is the filesystem's form of the root (no scheme); match on the tail.
    marker = path.find("/.dclm/")
    return path[marker + 1:] if marker >= 0 else (path[len(root) + 1:] if path.startswith(root) else path)


def _after_segment(segment) -> str:
    """Where a segment's output stands in the recipe, in step names: "after step top_fraction"."""
    return f"after step {step_title(segment.steps[-1].step)}" if segment.steps else "of this folder"


def step_tooltip(data: StageData, r: StepRow) -> str:
    return f"segment folder: {_folder(data, r.segment)}; ledger step: {r.counts.step}"


def funnel_table(data: StageData, prefix: str = "funnel") -> str:
    """Every step of every segment; ids and data- attributes let tests and tools read the numbers."""
    rows = []
    for index, r in enumerate(data.rows):
        c = r.counts
        records = _record_drops(r)
        lower = "lower-bound" if r.in_is_lower_bound else None
        rows.append(row([
            num_cell(index + 1, kind="position"),
            cell(step_title(c.step), class_="step", title=step_tooltip(data, r)),
            num_cell(c.docs_in - records, kind="docs-in", data_records_in=c.docs_in if records else None),
            num_cell(c.kept, kind="docs-kept"),
            num_cell(sum(c.dropped.values()) - records, kind="docs-dropped"),
            num_cell(sum(c.errors.values()), kind="docs-errors"),
            num_cell(c.modified, kind="docs-modified"), num_cell(c.docs_out, kind="docs-out"),
            num_cell(r.words_in, kind="words-in" + (" lower-bound" if lower else ""),
                     title="at least this many: see the note below" if lower else None),
            num_cell(r.words_out, kind="words-out"),
            num_cell(r.bytes_out, kind="bytes-out"),
            f'<td class="reasons">{_reasons_html(_page_reasons(c.dropped + c.errors))}</td>',
        ], id=f"{prefix}-row-{index}", class_="funnel-row changed" if _changed(r) else "funnel-row",
            data_segment=r.segment, data_step=c.step))
    headers = ["#", "step", "in", "kept", "dropped", "errors", "modified", "out",
               "words in", "words out", "bytes out", "top reasons"]
    return table(headers, rows, id=f"{prefix}-table", class_="funnel")


def _summary(data: StageData, prefix: str) -> str:
    rows = data.rows
    first, last = rows[0], rows[-1]
    records = _record_drops(first)
    items = []
    if records:
        items.append(("WARC records read (pages and the records beside them)", first.counts.docs_in,
                      "records-in"))
    items += [("pages in" if records else "documents in (first step)", first.counts.docs_in - records, "docs-in"),
              ("documents out (kept)", last.counts.docs_out, "docs-out"),
              ("words out", last.words_out, "words-out"),
              ("bytes out", last.bytes_out, "bytes-out"),
              ("steps", len(rows), "steps"),
              ("segments", len(data.segments), "segments")]
    body = [row([cell(label), num_cell(value, kind=kind, id=f"{prefix}-summary-{kind}")])
            for label, value, kind in items]
    return table(["", "total"], body, class_="summary")


def funnel_section(data: StageData) -> Section:
    parts = [warning(w) for w in data.warnings]
    if not data.rows:
        return Section("funnel", "Funnel", "".join(parts) + note("No steps were recorded."))
    parts.append(_summary(data, "funnel"))
    shown = [(i, r) for i, r in enumerate(data.rows) if _changed(r) or i in (0, len(data.rows) - 1)]
    parts.append(figure(plots.funnel_chart(
        [f"{i + 1}. {step_title(r.counts.step)}" for i, r in shown],
        [(r.counts.docs_in - _record_drops(r), r.counts.docs_out) for _, r in shown],
        [(r.words_in, r.words_out) for _, r in shown]),
        "waterfall of documents and words through the steps",
        "Each step that changed something: what it kept (blue) and what it removed (orange), in "
        "documents and in words; the first bar starts at the pages read. Numbers match the table's # column."))
    parts.append(funnel_table(data))
    parts.append(note(PAGES_NOTE))
    parts.append(note(WORDS_NOTE))
    return Section("funnel", "Funnel", "".join(parts))


def dropped_section(data: StageData) -> Optional[Section]:
    entries = [(segment, counts) for segment in data.segments for counts in segment.steps
               if counts.dropped or counts.errors]
    if not entries:
        return None
    chart = [(step_title(c.step), sum(c.dropped.values())) for s, c in entries
             if c.step not in TEXTLESS_DROP_STEPS and c.dropped]
    parts = []
    if chart:
        parts.append(figure(plots.dropped_chart([label for label, _ in chart], [n for _, n in chart]),
                            "documents dropped per filter step",
                            "Documents dropped per step (the extract step, which drops WARC records "
                            "without text, is left out of the chart)."))
    for number_in_list, (segment, counts) in enumerate(entries):
        gone = segment.dropped.get(counts.step)
        body = [table(["reason", "documents"],
                      [row([cell(readable_reason(name), title=name), num_cell(n)]) for name, n in
                       sorted((counts.dropped + counts.errors).items(), key=lambda kv: (-kv[1], kv[0]))])]
        if gone and gone.samples:
            body.append(note(f"{len(gone.samples)} of {gone.rows:,} dropped documents in dropped/, "
                             "text cut to 600 characters:"))
            for sample in gone.samples:
                body.append(f'<h3>{esc(sample["url"] or "(no url)")}</h3>'
                            f'<p class="note">{esc(readable_reason(sample["reason"]))} · '
                            f'{sample["words"]:,} words</p>'
                            f'<p class="note">signals: <code>{esc(sample["signals"])}</code></p>'
                            + pre(sample["text"], data_sample_step=counts.step))
        elif counts.step in TEXTLESS_DROP_STEPS:
            body.append(note("These records had no text to keep (not a response, not HTML, or empty)."))
        else:
            body.append(note("No rows of this step in dropped/ (a global selection, or --dropped-sample)."))
        total = sum(counts.dropped.values()) + sum(counts.errors.values())
        records = sum(n for reason, n in counts.dropped.items() if reason.startswith(RECORD_REASON_PREFIX))
        headline = f"{step_title(counts.step)}: {plural(total - records, 'document')} dropped"
        if records:
            headline += f", {plural(records, 'record')} that are not pages skipped"
        parts.append(details(headline, "".join(body),
                             opened=number_in_list < 3, class_="dropped-step", data_step=counts.step,
                             data_dropped=total, title=f"segment folder: {_folder(data, segment.label)}; "
                                                      f"ledger step: {counts.step}"))
    return Section("dropped", "Dropped documents", "".join(parts))


def language_section(data: StageData) -> Optional[Section]:
    kept = data.final.languages
    dropped: Counter = Counter()
    for segment in data.segments:
        for gone in segment.dropped.values():
            dropped.update(gone.languages)
    if not kept and not dropped:
        return None
    names = sorted((kept + dropped), key=lambda n: (-(kept[n] + dropped[n]), n))
    rows = [row([cell(n), num_cell(kept[n], kind="lang-kept"), num_cell(dropped[n], kind="lang-dropped")],
                data_language=n) for n in names]
    parts = [figure(plots.language_chart(kept, dropped), "documents per language"),
             table(["language", "kept", "dropped"], rows, id="language-table"),
             note("Top-1 language from the language-ID column of the final kept shards "
                  "(language_id_whole_page_fasttext: lid.176) and from the signals of dropped documents; "
                  "documents dropped before language ID have no language and are not counted.")]
    return Section("languages", "Languages", "".join(parts))


def _stats_row(label: str, values: np.ndarray, digits: int = 4):
    if not len(values):
        return row([cell(label), num_cell(0)] + [cell("–")] * 4)
    return row([cell(label), num_cell(int(len(values)))]
               + [num_cell(float(f(values)), digits=digits) for f in (np.mean, np.median, np.min, np.max)])


def quality_section(data: StageData) -> Optional[Section]:
    columns = sorted({name for segment in data.segments for name in segment.kept.scores})
    if not columns:
        return None
    thresholds = data.thresholds()
    parts = []
    for column in columns:
        # The widest population of a score is the output of the step that computed it.
        scored_segment = max((s for s in data.segments if column in s.kept.scores),
                             key=lambda s: len(s.kept.scores[column]))
        scored = scored_segment.kept.scores[column]
        kept = data.final.scores.get(column)
        same = scored_segment is data.segments[-1]
        if not len(scored):
            continue
        parts.append(f"<h3>{esc(column)}</h3>")
        parts.append(figure(plots.score_chart(column, scored, None if same else kept, thresholds.get(column)),
                            f"histogram of {column}",
                            f"Scored: the {len(scored):,} documents {_after_segment(scored_segment)}; "
                            f"kept: the final output."))
        rows = [_stats_row(f"scored ({_after_segment(scored_segment)})", scored)]
        if not same and kept is not None:
            rows.append(_stats_row("kept (final)", kept))
        parts.append(table(["documents", "count", "mean", "median", "min", "max"], rows))
        if column in thresholds:
            parts.append(note(f"Top-fraction threshold recorded in stats.json: {thresholds[column]:.6g}."))
    return Section("quality", "Quality scores", "".join(parts)) if parts else None


def length_section(data: StageData) -> Optional[Section]:
    kept = data.final.words
    dropped_parts = [part for segment in data.segments for gone in segment.dropped.values() for part in gone.lengths]
    dropped = np.concatenate(dropped_parts) if dropped_parts else np.zeros(0, np.int64)
    if not len(kept) and not len(dropped):
        return None
    parts = [figure(plots.length_chart(kept, dropped), "histogram of document length in words",
                    "Words per document: the final kept documents, and every document in a dropped/ folder."),
             table(["documents", "count", "mean", "median", "min", "max"],
                   [_stats_row("kept", kept, 1), _stats_row("dropped", dropped, 1)])]
    return Section("lengths", "Document length", "".join(parts))


def dedup_section(data: StageData) -> Optional[Section]:
    bff = [s for s in data.segments if s.stats.get("stage") == "dedup_bff"]
    if not data.clusters and not bff:
        return None
    parts = []
    for info in data.clusters:
        parts.append(f'<h3 title="segment folder: {esc(_folder(data, info.segment))}">'
                     f'{esc(step_title(info.step))}</h3>')
        parts.append(figure(plots.cluster_chart(info.histogram), f"cluster sizes of {info.step}",
                            f"Duplicate clusters by size; source: {info.source}."))
        rows = [row([cell(size), num_cell(n, kind="cluster-count")], data_size=size)
                for size, n in info.histogram.items()]
        parts.append(table(["cluster size", "clusters"], rows, class_="clusters", data_step=info.step))
        parts.append(note(f"{info.clusters:,} clusters; the largest has {info.largest:,} documents."))
    for segment in bff:
        counts = segment.steps[0] if segment.steps else None
        if counts is not None:
            parts.append(f'<h3 title="segment folder: {esc(_folder(data, segment.label))}">'
                         f'{esc(step_title(counts.step))}</h3>')
            parts.append(note(f"BFF removes repeated paragraphs, not whole-document clusters, so it has no "
                              f"cluster sizes: {plural(sum(counts.dropped.values()), 'document')} dropped, "
                              f"{number(counts.modified)} shortened."))
    return Section("dedup", "Deduplication", "".join(parts))


def stage_sections(data: StageData) -> list[Section]:
    found = [funnel_section(data), dropped_section(data), language_section(data), quality_section(data),
             length_section(data), dedup_section(data)]
    return [s for s in found if s is not None]
