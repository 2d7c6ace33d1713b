"""Data and parsing shared by the report tests (test_report.py, test_report_browser.py).

The pipeline outputs are made once per test session, whichever module asks
first: both modules call these helpers, and the cache lives in this module.
"""
from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from pathlib import Path

from conftest import SAMPLE_DIR, invoke_cli

_MADE: dict[str, Path] = {}

# What a hostile page tries: run a script, or break out of an attribute into a tag.
SCRIPT_PAYLOAD = "<script>window.__pwned=1;document.title='pwned'</script>"
ATTRIBUTE_PAYLOAD = "\"><img src=x onerror=\"window.__pwned=2\">"
URL_PAYLOAD = "https://hostile.example/search?q=\"><script>window.__pwned=3</script>"

_PROSE = [
    "The community garden on the corner of our street has been open for almost ten years now. Every spring "
    "the neighbours meet to decide which beds will hold tomatoes, which will hold beans, and who will water "
    "them during the long summer holidays when most families are away.",
    "This year we tried something different. Instead of buying seedlings from the market, the children "
    "started them on their windowsills in old yoghurt pots, and they kept a small notebook with the date "
    "each seed came up and how tall it was after a week.",
    "By the middle of June the notebook had become the most popular thing in the shed. People would stop "
    "by just to read it, and several of the older gardeners added their own notes about frost, slugs and "
    "the best time of day to pick courgettes before they grow too large.",
    "We are now planning a small harvest lunch at the end of September. Anyone who has helped with the "
    "garden, even for a single afternoon, is welcome to come along and bring a dish that uses something "
    "grown in one of the beds.",
]


def _page(title: str, paragraphs: list[str]) -> bytes:
    # The payloads go in as entities, so the extracted *text* holds a literal "<script>":
    # a real <script> element would be removed by the extractor and prove nothing.
    import html

    body = "".join(f"<p>{html.escape(p, quote=True)}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><article>{body}</article></body></html>").encode("utf-8")


def _write_warc(path: Path, pages: list[tuple[str, bytes]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for number, (url, payload) in enumerate(pages):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(payload)))], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=headers,
                                               warc_headers_dict={"WARC-Date": f"2024-05-0{number + 1}T10:00:00Z"})
            writer.write_record(record)


def hostile_pages() -> list[tuple[str, bytes]]:
    """Two long English pages that survive the heuristics and two short ones that do not, all hostile."""
    long_a = [_PROSE[0], f"Someone wrote this on the shed door: {SCRIPT_PAYLOAD} and nobody knew why.", *_PROSE[1:]]
    long_b = [_PROSE[2], f"The sign-up sheet had a strange entry: {ATTRIBUTE_PAYLOAD} in the name column.",
              _PROSE[3], _PROSE[0], _PROSE[1]]
    return [("https://garden.example/notebook", _page(f"Garden notes {SCRIPT_PAYLOAD}", long_a)),
            ("https://garden.example/harvest", _page("Harvest lunch", long_b)),
            ("https://garden.example/short", _page("Short", [f"Too short {SCRIPT_PAYLOAD}"])),
            (URL_PAYLOAD, _page("Search", [f"Results {ATTRIBUTE_PAYLOAD}"]))]


def _run(name: str, tmp_path_factory, *args) -> Path:
    if name not in _MADE:
        out = tmp_path_factory.mktemp(name) / "out"
        result = invoke_cli(*args, "--output", out)
        assert result.code == 0, result
        _MADE[name] = out
    return _MADE[name]


def sample_output(tmp_path_factory) -> Path:
    """DCLM-Baseline over the bundled sample: heuristics, BFF dedup and the top 10%, in four segments."""
    return _run("sample", tmp_path_factory, "run", "dclm_baseline", "--input", SAMPLE_DIR)


def hostile_output(tmp_path_factory) -> Path:
    """DCLM-Baseline's heuristics over a WARC of pages whose text carries script and attribute payloads."""
    if "hostile_warc" not in _MADE:
        folder = tmp_path_factory.mktemp("hostile_warc")
        _write_warc(folder / "hostile.warc.gz", hostile_pages())
        _MADE["hostile_warc"] = folder
    return _run("hostile", tmp_path_factory, "run", "dclm_baseline_heuristics", "--input", _MADE["hostile_warc"])


def segment_dirs(out: Path) -> list[Path]:
    """The stage directories of a run, in the order they ran (``_work/NN_*``, then OUTPUT)."""
    work = (sorted(p for p in (out / ".dclm" / "work").glob("[0-9]*_*") if p.is_dir())
            if (out / ".dclm" / "work").is_dir() else [])
    return work + [out]


def ledger_totals(stage_dir: Path) -> list[dict]:
    """Per-step sums over the shard ledgers, computed here without the toolkit's ledger code."""
    totals: dict[str, dict] = {}
    for path in sorted((stage_dir / ".dclm" / "ledger").glob("*.json")):
        for step in json.loads(path.read_text())["steps"]:
            entry = totals.setdefault(step["step"], {"step": step["step"], "in": 0, "kept": 0, "dropped": 0,
                                                     "errors": 0, "modified": 0, "out": 0, "records": 0})
            for key in ("in", "kept", "modified", "out"):
                entry[key] += step[key]
            entry["dropped"] += sum(step["dropped"].values())
            entry["errors"] += sum(step["errors"].values())
            # WARC records that are not pages (request, metadata, warcinfo): the report leaves them
            # out of the funnel, which starts at pages.
            entry["records"] += sum(n for reason, n in step["dropped"].items() if reason.startswith("record_type:"))
    return list(totals.values())


def shown_counts(counts: dict) -> dict:
    """A step's numbers as the funnel shows them: pages, not WARC records, going in and dropped."""
    return {**counts, "in": counts["in"] - counts["records"], "dropped": counts["dropped"] - counts["records"]}


class PageParser(HTMLParser):
    """Every start tag with its attributes, the visible text, and the funnel rows' numbers."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.funnel: list[dict] = []
        self.samples: list[tuple[str, str]] = []     # (data-sample-step, text) of each <pre>
        self._row = None
        self._pre = None

    def handle_starttag(self, tag, attributes):
        found = dict(attributes)
        self.tags.append((tag, found))
        classes = (found.get("class") or "").split()
        if tag == "tr" and "funnel-row" in classes and (found.get("id") or "").startswith("funnel-"):
            self._row = {"id": found["id"], "segment": found["data-segment"], "step": found["data-step"]}
            self.funnel.append(self._row)
        elif tag == "pre":
            self._pre = (found.get("data-sample-step", ""), [])
        elif tag == "td" and self._row is not None and "data-value" in found:
            kind = [c for c in classes if c != "n"]
            if kind:
                self._row[kind[0]] = float(found["data-value"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None
        elif tag == "pre" and self._pre is not None:
            self.samples.append((self._pre[0], "".join(self._pre[1])))
            self._pre = None

    def handle_data(self, data):
        self.text.append(data)
        if self._pre is not None:
            self._pre[1].append(data)


def parse_page(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser
