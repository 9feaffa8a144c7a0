"""Scores of a probabilistic forecast against observed points: RMSE, CRPS, coverage.

A forecast is a weighted sample of draws (rows) at the observed times (columns): the
model's posterior predictive, or a baseline curve's residual bootstrap. All three
scores are in shares; lower RMSE and CRPS are better, and a band's coverage should be
its nominal level.

The continuous ranked probability score (Gneiting & Raftery 2007) of a predictive
distribution F at an observation y is E|X - y| - E|X - X'| / 2 (X, X' independent
draws of F): the mean absolute error of a point forecast when F is a point, smaller
when F is both sharp and right. With weighted draws both expectations are exact
sums over the sample.
"""

from __future__ import annotations

import numpy as np

__all__ = ["coverage", "crps", "rmse"]


def rmse(predicted: np.ndarray, observed: np.ndarray) -> float:
    """Root-mean-square error (NaN for no points)."""
    predicted, observed = np.asarray(predicted, dtype=float), np.asarray(observed, dtype=float)
    if observed.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean((predicted - observed) ** 2)))


def crps(draws: np.ndarray, weights: np.ndarray | None, observed: np.ndarray) -> np.ndarray:
    """CRPS of the weighted sample ``draws`` (rows x points) at each observed point."""
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    if weights is None:
        weights = np.ones(draws.shape[0])
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    scores = np.empty(observed.size)
    for j, y in enumerate(observed):
        order = np.argsort(draws[:, j], kind="stable")
        x, w = draws[order, j], weights[order]
        cumulative = np.cumsum(w)
        spread = np.sum(w * x * (2.0 * cumulative - w - 1.0))  # sum_ij w_i w_j |x_i - x_j| / 2
        scores[j] = np.sum(w * np.abs(x - y)) - spread
    return scores


def coverage(low: np.ndarray, high: np.ndarray, observed: np.ndarray) -> float:
    """Share of observed points inside [low, high] (NaN for no points)."""
    observed = np.asarray(observed, dtype=float)
    if observed.size == 0:
        return float("nan")
    inside = (observed >= np.asarray(low)) & (observed <= np.asarray(high))
    return float(np.mean(inside))
