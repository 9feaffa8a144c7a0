"""Statistics used across the project: means with t-based confidence intervals.

Confidence intervals of means are t-intervals across replicates, so they assume roughly
normal replicate means; with one replicate (or no spread) the interval collapses to the
mean. Proportions (a strategy's share of runs won) get Wilson score intervals, which
stay inside [0, 1] and keep their coverage near 0 and 1 and at small counts (Brown,
Cai & DasGupta 2001).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["mean_and_ci", "t_half_width", "wilson_interval"]


def t_half_width(sd: ArrayLike, n: ArrayLike, level: float = 0.95) -> np.ndarray:
    """Half-width of the t confidence interval of a mean: t(level, n-1) * sd / sqrt(n).

    0 where n <= 1 or the sd is undefined.
    """
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    return np.where((n > 1) & np.isfinite(half), half, 0.0)


def mean_and_ci(
    frame: pd.DataFrame, column: str, by: str | list[str] = "step", level: float = 0.95
) -> pd.DataFrame:
    """Mean of ``column`` per ``by`` across replicates, with a t-based confidence interval.

    Columns: ``mean``, ``std``, ``count`` (replicates with a value), ``low``, ``high``.
    """
    out = frame.groupby(by)[column].agg(["mean", "std", "count"])
    half = t_half_width(out["std"].fillna(0.0), out["count"], level)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``successes / n`` at ``level``.

    (0, 1) where n is 0: nothing is known.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    safe = np.maximum(n, 1)
    p = np.clip(k / safe, 0.0, 1.0)
    denominator = 1 + z**2 / safe
    centre = (p + z**2 / (2 * safe)) / denominator
    half = z * np.sqrt(p * (1 - p) / safe + z**2 / (4 * safe**2)) / denominator
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high
