"""Held-out metrics of a binary quality classifier: precision, recall, F1 and ROC-AUC.

ROC-AUC is computed from ranks (the Mann-Whitney U statistic divided by the
number of positive-negative pairs; Hanley & McNeil 1982): the probability
that a random positive outscores a random negative, ties counting one half.
Tied scores share their average rank, so the value does not depend on the
order of the input. Only numpy is needed.
"""
from __future__ import annotations

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; equal values get the mean of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Start index of each run of equal values, and the run each element is in.
    new_run = np.concatenate(([True], sorted_values[1:] != sorted_values[:-1]))
    run_starts = np.flatnonzero(new_run)
    run_ends = np.concatenate((run_starts[1:], [len(values)]))
    run_rank = (run_starts + 1 + run_ends) / 2.0          # mean of ranks start+1 .. end
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(run_rank, run_ends - run_starts)
    return ranks


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve for ``labels`` (1 = positive) and ``scores`` (higher = positive).

    NaN when either class is absent, since the area is then undefined.
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    rank_sum = average_ranks(scores)[labels].sum()
    u_statistic = rank_sum - n_pos * (n_pos + 1) / 2.0
    return float(u_statistic / (n_pos * n_neg))


def binary_metrics(labels, scores, threshold: float = 0.5) -> dict:
    """Precision, recall and F1 of "score >= threshold means positive", plus ROC-AUC and counts."""
    labels = np.asarray(labels).astype(bool)
    predicted = np.asarray(scores, dtype=np.float64) >= threshold
    tp = int((predicted & labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    tn = int((~predicted & ~labels).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc(labels, scores),
        "positives": int(labels.sum()),
        "negatives": int((~labels).sum()),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }
