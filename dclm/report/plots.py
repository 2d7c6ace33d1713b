"""The report's charts, drawn with matplotlib's Agg renderer and embedded as PNG data URIs.

PNG rather than inline SVG: matplotlib's SVG ids (clip paths, glyphs) are
not unique across figures, and duplicate ids in one page are invalid HTML.
A data URI keeps the page one self-contained file that works offline. The
figures are built with ``Figure`` directly (no pyplot), so rendering does not
touch matplotlib's global backend or state, and PNGs carry no software stamp,
so the same data gives the same bytes.
"""
from __future__ import annotations

import base64
import io
from collections import Counter
from typing import Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Wide enough to fill the report's column at 1280 px (the page scales the image to it).
WIDTH, HEIGHT, DPI = 11.0, 3.2, 100
KEPT, DROPPED, OTHER = "#2b6cb0", "#c05621", "#718096"


class Chart(str):
    """A chart's PNG data URI, carrying where its tick labels were drawn.

    ``label_boxes``: one list per axis of ``[x0, y0, x1, y1]`` pixel boxes of
    its visible tick labels. The page publishes them (``data-label-boxes``)
    so that a test in a browser can check that no two labels overlap.
    """

    label_boxes: list


def _figure(height: float = HEIGHT, width: float = WIDTH) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def compact_number(value: float, _position=None) -> str:
    """Axis ticks: 950, 12k, 1.5M, so that long numbers never run into each other."""
    size = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            text = f"{value / limit:.2f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def tidy_count_axis(axis) -> None:
    """Whole-number ticks spaced for the axis length (matplotlib's "auto"), written compactly."""
    axis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=2))
    axis.set_major_formatter(FuncFormatter(compact_number))


def _label_boxes(fig: Figure) -> list:
    renderer = fig.canvas.get_renderer()
    groups = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = []
            for label in axis.get_ticklabels():
                if label.get_visible() and label.get_text():
                    box = label.get_window_extent(renderer)
                    boxes.append([round(v, 1) for v in (box.x0, box.y0, box.x1, box.y1)])
            if boxes:
                groups.append(boxes)
    return groups


def to_data_uri(fig: Figure) -> Chart:
    fig.canvas.draw()
    boxes = _label_boxes(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    chart = Chart("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"))
    chart.label_boxes = boxes
    return chart


def _short(label: str, limit: int = 42) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _waterfall(ax, labels: Sequence[str], before: Sequence[int], after: Sequence[int], what: str) -> None:
    """One bar per step: what it kept (from 0) and, after it, what it removed."""
    y = np.arange(len(labels))
    removed = [max(b - a, 0) for b, a in zip(before, after, strict=True)]
    ax.barh(y, after, color=KEPT, label=f"{what} kept")
    ax.barh(y, removed, left=after, color=DROPPED, label=f"{what} removed")
    top = max(before, default=0) or 1
    for position, (kept, gone) in enumerate(zip(after, removed, strict=True)):
        if gone:
            ax.text(kept + gone + top * 0.01, position, f"−{gone:,}", va="center", fontsize=7.5, color=DROPPED)
    ax.set_xlim(0, top * 1.16)
    ax.set_xlabel(what)
    tidy_count_axis(ax.xaxis)
    ax.grid(axis="x", alpha=0.3)
    # Above the bars, where it can hide no bar and no count.
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=8, frameon=False)


def funnel_chart(labels: Sequence[str], documents: Sequence[tuple[int, int]],
                 words: Sequence[tuple[Optional[int], Optional[int]]]) -> Chart:
    """A waterfall of documents and of words: each step's input split into kept and removed.

    ``documents`` and ``words`` are ``(in, out)`` per step; a missing word count draws as 0.
    """
    height = max(2.4, 0.34 * len(labels) + 1.2)
    fig = _figure(height)
    docs_ax, words_ax = fig.subplots(1, 2, sharey=True)
    _waterfall(docs_ax, labels, [i for i, _ in documents], [o for _, o in documents], "documents")
    word_out = [o or 0 for _, o in words]
    _waterfall(words_ax, labels, [max(i or 0, o) for (i, _), o in zip(words, word_out, strict=True)], word_out, "words")
    docs_ax.set_yticks(np.arange(len(labels)), [_short(label) for label in labels], fontsize=8)
    docs_ax.invert_yaxis()
    fig.tight_layout()
    return to_data_uri(fig)


def dropped_chart(labels: Sequence[str], counts: Sequence[int]) -> str:
    fig = _figure(max(1.8, 0.3 * len(labels) + 0.9))
    ax = fig.subplots()
    y = np.arange(len(labels))
    ax.barh(y, counts, color=DROPPED)
    ax.set_yticks(y, [_short(label, 48) for label in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("documents dropped")
    tidy_count_axis(ax.xaxis)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return to_data_uri(fig)


def language_chart(kept: Counter, dropped: Counter, top: int = 12) -> str:
    """Kept and dropped documents per language, the most frequent languages first."""
    total = kept + dropped
    names = [name for name, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    fig = _figure(max(1.8, 0.32 * len(names) + 0.9))
    ax = fig.subplots()
    y = np.arange(len(names))
    ax.barh(y - 0.2, [kept[n] for n in names], height=0.4, color=KEPT, label="kept")
    ax.barh(y + 0.2, [dropped[n] for n in names], height=0.4, color=DROPPED, label="dropped")
    ax.set_yticks(y, names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("documents")
    tidy_count_axis(ax.xaxis)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return to_data_uri(fig)


def score_chart(column: str, scored: np.ndarray, kept: Optional[np.ndarray],
                threshold: Optional[float]) -> str:
    """Histogram of a model score over every scored document, the kept ones overlaid."""
    fig = _figure()
    ax = fig.subplots()
    bins = np.linspace(0.0, 1.0, 41) if scored.min() >= 0 and scored.max() <= 1 else 40
    ax.hist(scored, bins=bins, color=OTHER, alpha=0.8, label=f"scored ({len(scored)})")
    if kept is not None:
        ax.hist(kept, bins=bins, color=KEPT, alpha=0.9, label=f"kept ({len(kept)})")
    if threshold is not None:
        ax.axvline(threshold, color=DROPPED, linestyle="--", label=f"threshold {threshold:.4g}")
    ax.set_xlabel(column)
    ax.set_ylabel("documents")
    tidy_count_axis(ax.yaxis)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return to_data_uri(fig)


def length_chart(kept: np.ndarray, dropped: np.ndarray) -> str:
    """Words per document on a log scale: web pages span 1 to 10^5 words."""
    fig = _figure()
    ax = fig.subplots()
    both = np.concatenate([kept, dropped])
    top = max(10.0, float(both.max()) if len(both) else 10.0)
    bins = np.logspace(0, np.log10(top * 1.05), 36)
    # A document of 0 words is drawn in the first bin rather than lost off a log axis.
    ax.hist(np.clip(dropped, 1, None), bins=bins, color=DROPPED, alpha=0.75, label=f"dropped ({len(dropped)})")
    ax.hist(np.clip(kept, 1, None), bins=bins, color=KEPT, alpha=0.75, label=f"kept ({len(kept)})")
    ax.set_xscale("log")
    ax.set_xlabel("words per document")
    ax.set_ylabel("documents")
    tidy_count_axis(ax.yaxis)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return to_data_uri(fig)


def cluster_chart(histogram: dict[str, int]) -> str:
    fig = _figure(2.8)
    ax = fig.subplots()
    names = list(histogram)
    ax.bar(np.arange(len(names)), [histogram[n] for n in names], color=KEPT)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_xlabel("cluster size (documents)")
    ax.set_ylabel("clusters")
    if max(histogram.values(), default=1) > 50:
        ax.set_yscale("log")
    else:
        tidy_count_axis(ax.yaxis)
    fig.tight_layout()
    return to_data_uri(fig)


def loss_chart(curves: Sequence[tuple[str, Sequence[int], Sequence[float]]]) -> str:
    fig = _figure()
    ax = fig.subplots()
    for label, steps, loss in curves:
        ax.plot(steps, loss, linewidth=1.2, label=label)
    ax.set_xlabel("step")
    tidy_count_axis(ax.xaxis)
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return to_data_uri(fig)


def interval_chart(metric: str, names: Sequence[str], means: Sequence[float],
                   intervals: Sequence[Optional[Sequence[float]]], higher_is_better: bool) -> str:
    """Each recipe's mean with its 95% interval (a bare point where there is none)."""
    fig = _figure(max(1.8, 0.4 * len(names) + 1.0))
    ax = fig.subplots()
    y = np.arange(len(names))
    low = [m - ci[0] if ci else 0.0 for m, ci in zip(means, intervals, strict=True)]
    high = [ci[1] - m if ci else 0.0 for m, ci in zip(means, intervals, strict=True)]
    ax.errorbar(means, y, xerr=[low, high], fmt="o", color=KEPT, capsize=4)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric} ({'higher' if higher_is_better else 'lower'} is better), 95% CI")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return to_data_uri(fig)
