"""Development sets for main-text extraction, scored page by page against bare resiliparse.

Used by ``benchmarks/extraction_quality.py``. A mean F1 hides the failure
that matters most for a corpus builder: an extractor that throws a page's
main text away. So, per set and extractor, besides the mean F1 over pages:

  below bare   pages whose F1 is more than 0.3 below bare resiliparse's
               (``extract_plain_text(main_content=True)``, DCLM's extractor);
  < 1/5 bare   pages where the extractor kept under a fifth of bare
               resiliparse's words (pages where bare has at least 20 words):
               on sets without a gold text, bare's output is the measure of
               how much main text a page has;
  empty        pages with no text at all (``dclm extract`` drops them as
               ``empty_text``).

The sets:

  snippets     the 949 pages of ``extraction-eval.jsonl`` (DEV-00000..00009);
               per-page F1 over its "with"/"without" snippets.
  readability  Mozilla Readability's test pages (DEV-00010). With
               ``--readability-pages DIR`` (``test/test-pages`` of a
               mozilla/readability checkout), the gold text is each page's
               ``expected.html`` (Readability's own output), matched to the
               WARC record by the bytes of ``source.html``, and F1 is token F1.
  postlight    the Postlight parser fixtures (DEV-00011); no gold text.
  shapes       the hand-written pages of ``tests/extraction_shapes.py``, one
               per way the old pruning lost a page's text; token F1.

Token F1 is bag-of-tokens overlap: lower-cased words, and each Chinese or
Japanese character as a token of its own (those scripts do not space words).
"""
from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dclm.extract.html_text import decode_html  # noqa: E402
from dclm.io.warc_records import Record, iter_archive  # noqa: E402

SET_WARCS = {"readability": "CC-MAIN-DEV-00010.warc.gz", "postlight": "CC-MAIN-DEV-00011.warc.gz"}
BELOW_BARE = 0.3
MIN_BARE_WORDS = 20
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|\w+")


@dataclass
class DevPage:
    url: str
    html: str
    gold: Optional[str] = None                              # main text, for token F1
    snippets: Optional[tuple[list[str], list[str]]] = None  # ("with", "without"), for snippet F1


def token_f1(text: str, gold: str) -> float:
    got, want = Counter(_TOKEN.findall(text.lower())), Counter(_TOKEN.findall(gold.lower()))
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def snippet_f1(text: str, with_: list[str], without: list[str]) -> float:
    flat = " ".join(text.split())
    tp = sum(snippet in flat for snippet in with_)
    fp = sum(snippet in flat for snippet in without)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / len(with_) if with_ else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def page_f1(text: str, page: DevPage) -> Optional[float]:
    if page.snippets is not None:
        return snippet_f1(text, *page.snippets)
    if page.gold is not None:
        return token_f1(text, page.gold)
    return None


def _html_pages(warc: Path) -> list[tuple[str, bytes, str]]:
    """(URL, raw payload, decoded HTML) of every HTML response, in file order."""
    pages = []
    for event in iter_archive(str(warc)):
        if not isinstance(event, Record) or event.rec_type != "response":
            continue
        content_type = (event.content_type or "").lower()
        if content_type and "html" not in content_type:
            continue
        pages.append((event.header("WARC-Target-URI") or "", event.payload,
                      decode_html(event.payload, event.content_type)))
    return pages


def readability_gold(pages_dir: Path) -> dict[str, str]:
    """Text of each test page's ``expected.html``, keyed by the SHA-1 of its ``source.html``."""
    from resiliparse.extract.html2text import extract_plain_text

    gold = {}
    for page in sorted(pages_dir.iterdir()):
        source, expected = page / "source.html", page / "expected.html"
        if source.is_file() and expected.is_file():
            key = hashlib.sha1(source.read_bytes()).hexdigest()
            gold[key] = extract_plain_text(expected.read_text(encoding="utf-8", errors="replace"))
    return gold


def load_sets(warc_dir: Path, snippet_pages: list, readability_pages: Optional[Path] = None,
              names: tuple[str, ...] = ("snippets", "readability", "postlight", "shapes")) -> dict[str, list[DevPage]]:
    """The development sets, by name. ``snippet_pages``: the snippet benchmark's pages."""
    sets: dict[str, list[DevPage]] = {}
    if "snippets" in names:
        sets["snippets"] = [DevPage(p.url, p.html, snippets=(p.with_, p.without)) for p in snippet_pages]
    for name in ("readability", "postlight"):
        warc = warc_dir / SET_WARCS[name]
        if name not in names or not warc.is_file():
            continue
        gold = readability_gold(readability_pages) if name == "readability" and readability_pages else {}
        sets[name] = [DevPage(url, html, gold=gold.get(hashlib.sha1(payload).hexdigest()))
                      for url, payload, html in _html_pages(warc)]
    if "shapes" in names:
        sys.path.insert(0, str(REPO / "tests"))
        from extraction_shapes import SHAPES

        sets["shapes"] = [DevPage(name, html, gold=gold) for name, (html, gold) in SHAPES.items()]
    return sets


def score_sets(sets: dict[str, list[DevPage]], extractors: dict[str, Callable[[str], str]],
               bare: str = "resiliparse") -> dict[str, dict[str, dict]]:
    """Per set and extractor: pages, mean F1, pages far below bare, pages under a fifth of bare, empty pages."""
    results: dict[str, dict[str, dict]] = {}
    for set_name, pages in sets.items():
        texts = {name: [_safe(extract, page.html) for page in pages] for name, extract in extractors.items()}
        f1s = {name: [page_f1(text, page) for text, page in zip(texts[name], pages, strict=True)]
               for name in extractors}
        bare_words = [len(text.split()) for text in texts[bare]] if bare in texts else None
        results[set_name] = {}
        for name in extractors:
            scored = [f for f in f1s[name] if f is not None]
            row = {"pages": len(pages), "scored": len(scored),
                   "mean_f1": sum(scored) / len(scored) if scored else None,
                   "empty": sum(not text.strip() for text in texts[name])}
            if bare_words is not None:
                row["below_bare"] = sum(f is not None and b is not None and f < b - BELOW_BARE
                                        for f, b in zip(f1s[name], f1s[bare], strict=True)) if scored else None
                row["under_fifth"] = sum(b >= MIN_BARE_WORDS and len(text.split()) * 5 < b
                                         for text, b in zip(texts[name], bare_words, strict=True))
            results[set_name][name] = row
    return results


def _safe(extract: Callable[[str], str], html: str) -> str:
    try:
        return extract(html) or ""
    except Exception:  # a crash counts as an empty extraction
        return ""


def print_set_tables(results: dict[str, dict[str, dict]]) -> None:
    def fmt(value, spec):
        return "-" if value is None else format(value, spec)

    for set_name, rows in results.items():
        first = next(iter(rows.values()))
        scored = f", {first['scored']} with a gold text" if first["scored"] != first["pages"] else ""
        print(f"\n{set_name} ({first['pages']} pages{scored})")
        print(f"  {'extractor':<13}{'mean F1':>9}{'> 0.3 below bare':>18}{'< 1/5 of bare':>15}{'empty':>7}")
        for name, row in rows.items():
            print(f"  {name:<13}{fmt(row['mean_f1'], '.3f'):>9}{fmt(row.get('below_bare'), 'd'):>18}"
                  f"{fmt(row.get('under_fifth'), 'd'):>15}{row['empty']:>7}")
