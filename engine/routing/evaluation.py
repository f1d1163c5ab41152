"""Routing quality offline: the quality-vs-main-model-share curve of a router's scores and its APGR.

APGR ("average performance gap recovered") is computed the way RouteLLM's evals do it
(routellm/evals/benchmarks.py and evaluate.py): thresholds at quantiles of the scores, the main
(strong) model for every question scoring at or above the threshold, accuracy against the share of
main-model calls integrated with the trapezoidal rule, scaled so the weak model alone is 0 and the
strong model alone is 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import InputError

# RouteLLM's `--num-results` default: thresholds at the edges of 10 equally sized score bins.
ROUTELLM_THRESHOLDS = 10


@dataclass(frozen=True, slots=True)
class RoutingCurve:
    """Points of accuracy against the share of calls to the main model, sorted by that share."""

    strong_share: np.ndarray   # fraction of questions sent to the main (strong) model, in [0, 1]
    accuracy: np.ndarray       # fraction answered correctly at that share
    thresholds: np.ndarray     # score threshold of each point (NaN for the all-weak end)
    strong_accuracy: float     # the strong model alone
    weak_accuracy: float       # the weak model alone


def _check(scores: Sequence[float], strong_correct: Sequence[bool],
           weak_correct: Sequence[bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    strong = np.asarray(strong_correct, dtype=bool)
    weak = np.asarray(weak_correct, dtype=bool)
    if s.ndim != 1 or s.size == 0:
        raise InputError("field scores: need a non-empty 1-D sequence of scores")
    if strong.shape != s.shape or weak.shape != s.shape:
        raise InputError(f"fields scores/strong_correct/weak_correct: lengths differ "
                         f"({s.size}, {strong.size}, {weak.size})")
    if not np.all(np.isfinite(s)):
        raise InputError("field scores: every score must be a finite number")
    return s, strong, weak


def compute_routing_curve(scores: Sequence[float], strong_correct: Sequence[bool],
                          weak_correct: Sequence[bool],
                          num_thresholds: int | None = ROUTELLM_THRESHOLDS) -> RoutingCurve:
    """Sweep thresholds over `scores` (higher score -> main model) and return the curve.

    num_thresholds: bins of equal size whose edges are the thresholds (RouteLLM uses 10, i.e. 11
    points: the lowest edge sends everything to the main model, the highest, compared with a strict
    `>`, sends nothing). None sweeps every distinct score instead, the curve at full resolution.
    Ties are never split: questions with equal scores always go the same way.
    Raises InputError when the inputs are empty, of different lengths or not finite.
    """
    s, strong, weak = _check(scores, strong_correct, weak_correct)
    if num_thresholds is None:
        edges = np.unique(s)
        # Every distinct score with `>=`, then the all-weak end: nothing scores above the maximum.
        selections = [s >= t for t in edges] + [s > edges[-1]]
        thresholds = np.append(edges, np.nan)
    else:
        if num_thresholds < 1:
            raise InputError("field num_thresholds: must be at least 1")
        # Linear-interpolated quantiles: the bin edges pandas.qcut(retbins=True) returns.
        edges = np.quantile(s, np.linspace(0.0, 1.0, num_thresholds + 1))
        selections = [s >= t for t in edges[:-1]] + [s > edges[-1]]
        thresholds = edges
    share = np.array([sel.mean() for sel in selections])
    accuracy = np.array([np.where(sel, strong, weak).mean() for sel in selections])
    order = np.argsort(share, kind="stable")
    return RoutingCurve(strong_share=share[order], accuracy=accuracy[order], thresholds=thresholds[order],
                        strong_accuracy=float(strong.mean()), weak_accuracy=float(weak.mean()))


def compute_curve_apgr(curve: RoutingCurve) -> float:
    """APGR of a curve: (AUC - weak AUC) / (strong AUC - weak AUC) over the curve's share range.

    Raises InputError when the strong and weak models are equally accurate (no gap to recover).
    """
    gap = curve.strong_accuracy - curve.weak_accuracy
    if gap == 0:
        raise InputError("fields strong_correct/weak_correct: both models are equally accurate, "
                         "so there is no performance gap to recover")
    x, y = curve.strong_share, curve.accuracy
    auc = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))
    width = float(x[-1] - x[0])
    return (auc - curve.weak_accuracy * width) / (gap * width)


def compute_apgr(scores: Sequence[float], strong_correct: Sequence[bool], weak_correct: Sequence[bool],
                 num_thresholds: int | None = ROUTELLM_THRESHOLDS) -> float:
    """APGR of a router's scores on questions whose strong/weak correctness is known.

    1.0: as good as always calling the strong model over the whole range; 0.0: no better than the
    weak model; about 0.5: a random score. A router can exceed 1 (it may beat the strong model by
    keeping the questions only the weak model answers) or fall below 0 (worse than random order).
    """
    return compute_curve_apgr(compute_routing_curve(scores, strong_correct, weak_correct, num_thresholds))
