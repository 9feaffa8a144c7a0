"""Figures of run results (matplotlib, PNG), readable printed and on a projector."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from .style import LEGACY_COLOUR, RC_PARAMS, firm_colour

__all__ = ["mean_and_ci", "plot_adoption"]


def mean_and_ci(
    frame: pd.DataFrame, column: str, by: str = "step", level: float = 0.95
) -> pd.DataFrame:
    """Mean of ``column`` per ``by`` across replicates, with a t-based confidence interval."""
    grouped = frame.groupby(by)[column]
    out = grouped.agg(["mean", "std", "count"])
    half = (
        stats.t.ppf(0.5 + level / 2, np.maximum(out["count"] - 1, 1))
        * out["std"]
        / np.sqrt(out["count"])
    )
    half = half.fillna(0.0)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out


def plot_adoption(
    timeseries: pd.DataFrame,
    firm_names: list[str],
    path: str | Path,
    title: str = "Customer share by firm",
) -> Path:
    """Share per firm over time: the mean across replicates with its 95 % CI band."""
    path = Path(path)
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(9, 5.5))
        columns = [(f"share_{name}", name, firm_colour(i)) for i, name in enumerate(firm_names)]
        if timeseries["share_legacy"].max() > 0:
            columns.append(("share_legacy", "legacy product", LEGACY_COLOUR))
        for column, label, colour in columns:
            band = mean_and_ci(timeseries, column)
            ax.plot(band.index, band["mean"], color=colour, label=label)
            ax.fill_between(
                band.index, band["low"], band["high"], color=colour, alpha=0.25, linewidth=0
            )
        ax.set_xlabel("step")
        ax.set_ylabel("share of customers")
        ax.set_ylim(0, 1)
        ax.set_title(title)
        ax.legend(loc="best", frameon=False)
        n = timeseries["replicate"].nunique() if "replicate" in timeseries else 1
        fig.text(
            0.99,
            0.01,
            f"mean and 95% CI over {n} replicates",
            ha="right",
            fontsize=10,
            color="#444444",
        )
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return path
