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

WIDTH, HEIGHT, DPI = 7.6, 3.2, 100
KEPT, DROPPED, OTHER = "#2b6cb0", "#c05621", "#718096"


def _figure(height: float = HEIGHT, width: float = WIDTH) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _short(label: str, limit: int = 42) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def funnel_chart(labels: Sequence[str], documents: Sequence[int], words: Sequence[Optional[int]]) -> str:
    """Documents and words left after each step that removed something."""
    height = max(2.2, 0.32 * len(labels) + 1.0)
    fig = _figure(height)
    docs_ax, words_ax = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(labels))
    docs_ax.barh(y, documents, color=KEPT)
    docs_ax.set_yticks(y, [_short(label) for label in labels], fontsize=8)
    docs_ax.invert_yaxis()
    docs_ax.set_xlabel("documents out")
    words_ax.barh(y, [w or 0 for w in words], color=OTHER)
    words_ax.set_xlabel("words out (≈ tokens)")
    for ax in (docs_ax, words_ax):
        ax.grid(axis="x", alpha=0.3)
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
    ax.set_yscale("log" if max(histogram.values(), default=1) > 50 else "linear")
    fig.tight_layout()
    return to_data_uri(fig)


def loss_chart(curves: Sequence[tuple[str, Sequence[int], Sequence[float]]]) -> str:
    fig = _figure()
    ax = fig.subplots()
    for label, steps, loss in curves:
        ax.plot(steps, loss, linewidth=1.2, label=label)
    ax.set_xlabel("step")
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
    low = [m - ci[0] if ci else 0.0 for m, ci in zip(means, intervals)]
    high = [ci[1] - m if ci else 0.0 for m, ci in zip(means, intervals)]
    ax.errorbar(means, y, xerr=[low, high], fmt="o", color=KEPT, capsize=4)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(f"{metric} ({'higher' if higher_is_better else 'lower'} is better), 95% CI")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return to_data_uri(fig)
