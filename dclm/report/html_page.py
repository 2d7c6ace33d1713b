"""HTML building blocks of the report page, and the page itself.

Everything shown comes from files a crawl produced, so every value goes
through ``esc`` (``html.escape`` with quotes) on its way into text or an
attribute; only strings built here from escaped parts are passed on as
HTML. The page has no JavaScript and loads nothing: styles are inline and
charts are data URIs, so it works offline and there is nothing to execute.
"""
from __future__ import annotations

import html
import json
from typing import Any, Iterable, Optional, Sequence

from dclm import __version__

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1a202c;
       background: #f7fafc; }
header { background: #1a365d; color: #fff; padding: 14px 28px; }
header h1 { margin: 0 0 4px; font-size: 21px; }
header p { margin: 2px 0; font-size: 13px; opacity: 0.9; word-break: break-all; }
nav { padding: 8px 28px; background: #e2e8f0; font-size: 14px; }
nav a { margin-right: 14px; color: #2a4365; }
main { padding: 6px 28px 40px; max-width: 1180px; }
section { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 10px 18px; margin: 16px 0;
          overflow-x: auto; }
h2 { font-size: 18px; margin: 6px 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 10px; }
th, td { border: 1px solid #e2e8f0; padding: 3px 7px; vertical-align: top; }
th { background: #edf2f7; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.changed td { background: #fffaf0; }
td.best { font-weight: 700; }
td.reasons { min-width: 270px; font-size: 12px; }
span.reason { display: block; margin: 1px 0; }
span.reason code { white-space: nowrap; background: #edf2f7; border-radius: 3px; padding: 0 3px; word-break: normal; }
td.lower-bound { font-style: italic; }
td.step { white-space: nowrap; }
figure { margin: 8px 0 14px; }
figure img { width: 100%; height: auto; border: 1px solid #edf2f7; }
figcaption, p.note { font-size: 12.5px; color: #4a5568; }
p.warn { background: #fff5f5; border-left: 4px solid #c53030; padding: 6px 10px; font-size: 13px; }
pre.sample { white-space: pre-wrap; word-break: break-word; background: #f7fafc; border: 1px solid #e2e8f0;
             padding: 6px 8px; font-size: 12px; max-height: 16em; overflow: auto; margin: 4px 0 10px; }
code { font-size: 12px; word-break: break-all; }
details { margin: 6px 0; }
summary { cursor: pointer; font-weight: 600; font-size: 14px; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def number(value: Optional[float], digits: int = 4) -> str:
    """Integers with thousands separators, floats with ``digits`` decimals, '–' for missing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def attrs(**values: Any) -> str:
    """Attributes from keywords (``data_step`` → ``data-step``), escaped; None values are left out."""
    return "".join(f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"'
                   for key, value in values.items() if value is not None)


def cell(text: Any, **attributes: Any) -> str:
    return f"<td{attrs(**attributes)}>{esc(text)}</td>"


def num_cell(value: Optional[float], prefix: str = "", digits: int = 4, kind: str = "", **attributes: Any) -> str:
    """A right-aligned number; ``data-value`` keeps it unformatted for scripts and tests."""
    data = None if value is None else (value if isinstance(value, int) else repr(float(value)))
    return (f'<td class="{esc(("n " + kind).strip())}"{attrs(data_value=data, **attributes)}>'
            f"{esc(prefix)}{esc(number(value, digits))}</td>")


def table(headers: Sequence[str], rows: Iterable[str], **attributes: Any) -> str:
    """``rows`` are ``<tr>`` strings built from ``cell``/``num_cell``."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table{attrs(**attributes)}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def row(cells: Iterable[str], **attributes: Any) -> str:
    return f"<tr{attrs(**attributes)}>{''.join(cells)}</tr>"


def figure(data_uri: str, alt: str, caption: str = "") -> str:
    """A chart; its tick-label boxes (``plots.Chart``) go in ``data-label-boxes`` for checks in a browser."""
    # Only our own PNG data URIs go in src; anything else would be a remote load.
    if not data_uri.startswith("data:image/png;base64,"):
        raise ValueError("figure() takes a PNG data URI from dclm.report.plots")
    note = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    boxes = getattr(data_uri, "label_boxes", None)
    extra = attrs(data_label_boxes=json.dumps(boxes, separators=(",", ":"))) if boxes is not None else ""
    return f'<figure{extra}><img src="{esc(data_uri)}" alt="{esc(alt)}">{note}</figure>'


def plural(count: int, word: str) -> str:
    """``1 shard``, ``2 shards``, with thousands separators."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def warning(text: str) -> str:
    return f'<p class="warn">{esc(text)}</p>'


def pre(text: str, **attributes: Any) -> str:
    return f'<pre class="sample"{attrs(**attributes)}>{esc(text)}</pre>'


def details(summary: str, body: str, opened: bool = False, **attributes: Any) -> str:
    return (f"<details{' open' if opened else ''}{attrs(**attributes)}><summary>{esc(summary)}</summary>"
            f"{body}</details>")


class Section:
    """One titled part of the page; ``body`` is HTML built with the helpers above."""

    def __init__(self, anchor: str, title: str, body: str):
        self.anchor, self.title, self.body = anchor, title, body

    def render(self) -> str:
        return f'<section id="{esc(self.anchor)}"><h2>{esc(self.title)}</h2>{self.body}</section>'


def page(title: str, subtitle_lines: Sequence[str], sections: Sequence[Section]) -> str:
    links = "".join(f'<a href="#{esc(s.anchor)}">{esc(s.title)}</a>' for s in sections)
    lines = "".join(f"<p>{esc(line)}</p>" for line in subtitle_lines)
    body = "".join(s.render() for s in sections)
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="dclm {esc(__version__)}">'
            # An empty icon: otherwise a browser asks the server (or disk) for /favicon.ico.
            f'<link rel="icon" href="data:,">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>"
            f"<body><header><h1>{esc(title)}</h1>{lines}</header><nav>{links}</nav>"
            f"<main>{body}</main></body></html>\n")
