"""The posterior and what it predicts: weighted quantiles, the summary table, bands.

Every accepted particle of the last generation is one parameter set, one simulated
curve (its own seed) and a weight. Predictions are the weighted distribution of those
curves, each laid on the data's time axis at its best launch: the band holds the
uncertainty of the parameters and the randomness of a market of that size, not
measurement error in the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .priors import FitKey
from .simulate import shares_at

__all__ = [
    "BAND",
    "bands",
    "identification",
    "summary_table",
    "weighted_quantiles",
]

#: The central credible interval reported everywhere: 5 % and 95 % quantiles.
BAND = (0.05, 0.95)
#: A posterior 90 % interval narrower than this share of the prior's pins a key down;
#: one wider than NOT_PINNED of it says little beyond the prior.
PINNED = 0.5
NOT_PINNED = 0.8
#: A posterior quantile (q05 or q95) this close to a prior bound, as a share of the prior's
#: range, means the posterior is pressed against that bound.
AT_BOUND = 0.025


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, levels: Sequence[float]
) -> np.ndarray:
    """Quantiles of weighted samples along axis 0 (values: samples x columns).

    The weighted empirical distribution with each sample at the middle of its weight's
    step (the Hazen rule), interpolated linearly; NaN samples are left out of a column.
    Returns levels x columns.
    """
    values = np.asarray(values, dtype=float)
    column = values.ndim == 1
    if column:
        values = values[:, None]
    weights = np.asarray(weights, dtype=float)
    out = np.full((len(levels), values.shape[1]), np.nan)
    for j in range(values.shape[1]):
        keep = np.isfinite(values[:, j]) & (weights > 0)
        if not keep.any():
            continue
        order = np.argsort(values[keep, j], kind="stable")
        sorted_values = values[keep, j][order]
        w = weights[keep][order]
        positions = (np.cumsum(w) - w / 2) / w.sum()
        out[:, j] = np.interp(levels, positions, sorted_values)
    return out[:, 0] if column else out


def summary_table(posterior: pd.DataFrame, keys: Sequence[FitKey]) -> pd.DataFrame:
    """key, mean, q05, q50, q95 of each fitted key (weighted by the particles' weights)."""
    weights = posterior["weight"].to_numpy()
    rows = []
    for key in keys:
        values = posterior[key.key].to_numpy()
        q05, q50, q95 = weighted_quantiles(values, weights, (BAND[0], 0.5, BAND[1]))
        rows.append(
            {
                "key": key.key,
                "mean": float(np.average(values, weights=weights)),
                "q05": float(q05),
                "q50": float(q50),
                "q95": float(q95),
            }
        )
    return pd.DataFrame(rows, columns=["key", "mean", "q05", "q50", "q95"])


def identification(summary: pd.DataFrame, keys: Sequence[FitKey]) -> pd.DataFrame:
    """Which keys the data pin down: posterior 90 % width against the prior's.

    The prior is uniform on [low, high], so its 90 % interval is 0.9 x (high - low).
    ``ratio`` = posterior width / prior width; below PINNED the data pin the key down,
    from NOT_PINNED up they say little beyond the prior, in between partly. ``bound``
    says "lower" or "upper" when q05 or q95 lies within AT_BOUND of the range from that
    prior bound: the data push the key there, and the range cuts the posterior off.
    """
    rows = []
    for key, (_, row) in zip(keys, summary.iterrows(), strict=True):
        prior_width = (BAND[1] - BAND[0]) * key.width
        ratio = (row["q95"] - row["q05"]) / prior_width
        verdict = (
            "pinned down"
            if ratio < PINNED
            else "not pinned down"
            if ratio >= NOT_PINNED
            else "partly"
        )
        bound = " and ".join(
            side
            for side, gap in (("lower", row["q05"] - key.low), ("upper", key.high - row["q95"]))
            if gap < AT_BOUND * key.width
        )
        rows.append(
            {
                "key": key.key,
                "prior_low": key.low,
                "prior_high": key.high,
                "prior_width": prior_width,
                "posterior_width": row["q95"] - row["q05"],
                "ratio": ratio,
                "verdict": verdict,
                "bound": bound,
            }
        )
    return pd.DataFrame(rows)


def bands(
    curves: Sequence[np.ndarray], launches: np.ndarray, weights: np.ndarray, times: np.ndarray
) -> pd.DataFrame:
    """Posterior predictive share at ``times``: weighted mean, median and 90 % band.

    Each curve is read at its own launch (:func:`.simulate.shares_at`); a curve that
    does not reach a time is left out there.
    """
    times = np.asarray(times, dtype=float)
    grid = np.vstack(
        [shares_at(curve, launch, times) for curve, launch in zip(curves, launches, strict=True)]
    )
    low, median, high = weighted_quantiles(grid, weights, (BAND[0], 0.5, BAND[1]))
    finite = np.isfinite(grid)
    w = np.where(finite, weights[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(finite, grid, 0.0) * w).sum(axis=0) / w.sum(axis=0)
    return pd.DataFrame({"time": times, "mean": mean, "q05": low, "q50": median, "q95": high})
