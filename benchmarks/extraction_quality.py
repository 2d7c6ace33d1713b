"""Main-text extraction quality and speed on trafilatura's snippet benchmark, then page by page on every dev set.

    python benchmarks/extraction_quality.py [--limit N] [--extractors ours,resiliparse,trafilatura]
                                            [--eval ../shared/corpus/extraction-eval.jsonl]
                                            [--warc-dir ../shared/corpus/warc] [--json out.json]
                                            [--sets snippets,readability,postlight,shapes]
                                            [--readability-pages READABILITY/test/test-pages]

The first table pools the snippet counts over all pages (trafilatura's own
way of scoring) and times each extractor. The tables after it, one per
development set, score page by page (``benchmarks/extraction_devsets.py``):
mean F1, pages more than 0.3 below bare resiliparse, pages that kept under a
fifth of bare resiliparse's words, and empty outputs.

Ground truth: ``extraction-eval.jsonl`` lists, per page, snippets a good
extraction contains ("with") and boilerplate snippets it must not contain
("without"). A "with" snippet found is a true positive, one missing a false
negative, a "without" snippet found a false positive; matching is substring
matching after collapsing white space, as in trafilatura's own evaluation.
Pages come from the dev WARCs (``CC-MAIN-DEV-0000[0-9]``), matched on
WARC-Target-URI (the eval file has a few URLs with trailing spaces, and
warcio turns a space inside a URI into %20, so both sides are normalised).
HTML is decoded as the pipeline does it (``dclm.extract.html_text.decode_html``).

Extractors:
  ours         ``dclm.extract.main_content.extract_main_content`` (the pipeline default)
  resiliparse  bare resiliparse ``extract_plain_text(html, main_content=True)``, exactly
               as DCLM calls it (``--extractor resiliparse-bare``)
  trafilatura  ``trafilatura.extract(favor_precision=True)``

Speed is extraction only (HTML already decoded, in memory), one process: CPU
time of this process and wall time. The extractors take turns over chunks of
25 pages, in an order that rotates from chunk to chunk, so they see the same
background load and none keeps the advantage of parsing a page second (the
page and the parser's memory are warm by then). ``--repeat`` passes for the
fast extractors, one for trafilatura.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dclm.extract.html_text import decode_html  # noqa: E402
from dclm.io.warc_records import Record, iter_archive  # noqa: E402

SHARED = REPO.parent / "shared" / "corpus"
DEFAULT_EVAL = SHARED / "extraction-eval.jsonl"
DEFAULT_WARC_DIR = SHARED / "warc"
DEFAULT_WARC_GLOB = "CC-MAIN-DEV-0000[0-9].warc.gz"
ALL_EXTRACTORS = ("ours", "resiliparse", "trafilatura")


@dataclass
class Page:
    url: str
    html: str
    with_: list[str]
    without: list[str]


def normalize_url(url: str) -> str:
    return url.strip().replace(" ", "%20")


def collapse(text: str) -> str:
    return " ".join(text.split())


def load_eval(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    truth = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            with_ = [collapse(s) for s in row.get("with") or [] if s]
            without = [collapse(s) for s in row.get("without") or [] if s]
            truth[normalize_url(row["url"])] = (with_, without)
    return truth


def load_pages(warcs: list[Path], truth: dict, limit: int | None = None) -> list[Page]:
    """Decoded HTML of the evaluated pages, in WARC order."""
    pages: list[Page] = []
    seen: set[str] = set()
    for warc in warcs:
        for event in iter_archive(str(warc)):
            if not isinstance(event, Record) or event.rec_type != "response":
                continue
            url = normalize_url(event.header("WARC-Target-URI") or "")
            if url not in truth or url in seen:
                continue
            seen.add(url)
            with_, without = truth[url]
            pages.append(Page(url, decode_html(event.payload, event.content_type), with_, without))
            if limit and len(pages) >= limit:
                return pages
    return pages


def score(text: str, page: Page) -> tuple[int, int, int]:
    """(true positives, false negatives, false positives) of one extraction."""
    flat = collapse(text or "")
    tp = sum(snippet in flat for snippet in page.with_)
    fp = sum(snippet in flat for snippet in page.without)
    return tp, len(page.with_) - tp, fp


def get_extractors(names: list[str]) -> dict[str, Callable[[str], str]]:
    extractors: dict[str, Callable[[str], str]] = {}
    for name in names:
        if name == "ours":
            from dclm.extract.main_content import extract_main_content
            extractors[name] = extract_main_content
        elif name == "resiliparse":
            from resiliparse.extract.html2text import extract_plain_text
            from resiliparse.parse.html import HTMLTree

            def bare(html: str, _extract=extract_plain_text, _parse=HTMLTree.parse) -> str:
                return _extract(_parse(html), main_content=True)
            extractors[name] = bare
        elif name == "trafilatura":
            import trafilatura

            def traf(html: str, _extract=trafilatura.extract) -> str:
                return _extract(html, favor_precision=True) or ""
            extractors[name] = traf
        else:
            raise SystemExit(f"unknown extractor {name!r}; choose from {', '.join(ALL_EXTRACTORS)}")
    return extractors


def evaluate(pages: list[Page], extractors: dict[str, Callable[[str], str]], repeat: int = 3,
             chunk: int = 25, slow: tuple[str, ...] = ("trafilatura",)) -> dict[str, dict]:
    """Score every extractor on every page and time it.

    Timing runs over chunks of ``chunk`` pages: each extractor does the whole
    chunk in turn, and the turn order rotates from chunk to chunk. Extractors
    measured close together in time see the same background load, and the
    rotation cancels the advantage of going second (the page and the parser's
    memory are then already warm). Fast extractors make ``repeat`` passes;
    those in ``slow`` make one.
    """
    names = list(extractors)
    stats = {name: {"tp": 0, "fn": 0, "fp": 0, "errors": 0, "cpu_s": 0.0, "wall_s": 0.0, "timed_docs": 0}
             for name in names}
    # Warm-up: lazy imports and first-call set-up stay out of the timings.
    if pages:
        for extract in extractors.values():
            extract(pages[0].html)
    cpu, wall = time.process_time, time.perf_counter
    chunks = [pages[i:i + chunk] for i in range(0, len(pages), max(1, chunk))]
    turn = 0
    for rep in range(max(1, repeat)):
        for part in chunks:
            order = names[turn % len(names):] + names[:turn % len(names)]
            turn += 1
            for name in order:
                if rep and name in slow:
                    continue
                extract, st = extractors[name], stats[name]
                texts = []
                c0, w0 = cpu(), wall()
                for page in part:
                    try:
                        texts.append(extract(page.html))
                    except Exception:  # an extractor crash counts as an empty extraction
                        texts.append("")
                        st["errors"] += rep == 0
                st["cpu_s"] += cpu() - c0
                st["wall_s"] += wall() - w0
                st["timed_docs"] += len(part)
                if rep == 0:
                    for page, text in zip(part, texts, strict=True):
                        tp, fn, fp = score(text, page)
                        st["tp"] += tp
                        st["fn"] += fn
                        st["fp"] += fp
    for st in stats.values():
        tp, fn, fp = st["tp"], st["fn"], st["fp"]
        st["precision"] = tp / (tp + fp) if tp + fp else 0.0
        st["recall"] = tp / (tp + fn) if tp + fn else 0.0
        p, r = st["precision"], st["recall"]
        st["f1"] = 2 * p * r / (p + r) if p + r else 0.0
        st["docs"] = len(pages)
        st["docs_per_s_cpu"] = st["timed_docs"] / st["cpu_s"] if st["cpu_s"] else 0.0
        st["docs_per_s_wall"] = st["timed_docs"] / st["wall_s"] if st["wall_s"] else 0.0
    return stats


def print_table(stats: dict[str, dict]) -> None:
    print(f"{'extractor':<13}{'precision':>10}{'recall':>8}{'F1':>8}{'TP':>7}{'FN':>6}{'FP':>6}"
          f"{'docs/s cpu':>12}{'docs/s wall':>12}")
    for name, st in stats.items():
        print(f"{name:<13}{st['precision']:>10.3f}{st['recall']:>8.3f}{st['f1']:>8.3f}{st['tp']:>7}{st['fn']:>6}"
              f"{st['fp']:>6}{st['docs_per_s_cpu']:>12.1f}{st['docs_per_s_wall']:>12.1f}")
    if "ours" in stats and "resiliparse" in stats and stats["ours"]["docs_per_s_cpu"]:
        ratio = stats["resiliparse"]["docs_per_s_cpu"] / stats["ours"]["docs_per_s_cpu"]
        print(f"\nours costs {ratio:.2f}x bare resiliparse's CPU time per page (goal: <= 1.3x)")
    if "ours" in stats and "trafilatura" in stats and stats["trafilatura"]["docs_per_s_cpu"]:
        speedup = stats["ours"]["docs_per_s_cpu"] / stats["trafilatura"]["docs_per_s_cpu"]
        print(f"ours is {speedup:.1f}x faster than trafilatura")
    errors = {name: st["errors"] for name, st in stats.items() if st["errors"]}
    if errors:
        print(f"extraction errors (scored as empty text): {errors}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="extraction-eval.jsonl")
    ap.add_argument("--warc-dir", type=Path, default=DEFAULT_WARC_DIR)
    ap.add_argument("--warc-glob", default=DEFAULT_WARC_GLOB)
    ap.add_argument("--limit", type=int, default=None, help="score only the first N evaluated pages")
    ap.add_argument("--extractors", default=",".join(ALL_EXTRACTORS),
                    help=f"comma-separated subset of {', '.join(ALL_EXTRACTORS)}")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed passes for the fast extractors (trafilatura: always 1)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--sets", default="snippets,readability,postlight,shapes",
                    help="development sets scored page by page (empty: none)")
    ap.add_argument("--readability-pages", type=Path, default=None, metavar="DIR",
                    help="test/test-pages of a mozilla/readability checkout: gold texts for DEV-00010")
    args = ap.parse_args(argv)

    truth = load_eval(args.eval)
    warcs = sorted(args.warc_dir.glob(args.warc_glob))
    if not warcs:
        raise SystemExit(f"no WARC matches {args.warc_dir / args.warc_glob}")
    t0 = time.perf_counter()
    pages = load_pages(warcs, truth, args.limit)
    print(f"{len(pages)} of {len(truth)} evaluated pages found in {len(warcs)} WARCs "
          f"(read and decoded in {time.perf_counter() - t0:.1f}s)\n")
    extractors = get_extractors([n.strip() for n in args.extractors.split(",") if n.strip()])
    stats = evaluate(pages, extractors, repeat=args.repeat)
    print_table(stats)
    figures = {"snippet_benchmark": stats}
    set_names = tuple(n.strip() for n in args.sets.split(",") if n.strip())
    if set_names:
        from extraction_devsets import load_sets, print_set_tables, score_sets

        sets = load_sets(args.warc_dir, pages, args.readability_pages, set_names)
        figures["sets"] = score_sets(sets, extractors)
        print_set_tables(figures["sets"])
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
