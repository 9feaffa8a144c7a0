"""Statistics used across the project: means with t-based confidence intervals.

Confidence intervals are t-intervals across replicates, so they assume roughly normal
replicate means; with one replicate (or no spread) the interval collapses to the mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["mean_and_ci", "t_half_width"]


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
