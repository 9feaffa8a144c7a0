"""Figures of run results (matplotlib, PNG), readable printed and on a projector."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from .files import save_figure
from .stats import mean_and_ci
from .style import LEGACY_COLOUR, RC_PARAMS, firm_colours

__all__ = ["plot_adoption"]


def plot_adoption(
    timeseries: pd.DataFrame,
    firms: list[dict],
    path: str | Path,
    title: str = "Customer share by firm",
    step: str = "step",
) -> Path:
    """Share per firm over time: the mean across replicates with its 95 % CI band; a
    firm (``{"name", "strategy"}``) is drawn in its strategy's colour."""
    path = Path(path)
    colours = firm_colours(firms)
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(9, 5.5))
        columns = [(f"share_{f['name']}", f["name"], colours[f["name"]]) for f in firms]
        if timeseries["share_legacy"].max() > 0:
            columns.append(("share_legacy", "legacy product", LEGACY_COLOUR))
        for column, label, colour in columns:
            band = mean_and_ci(timeseries, column)
            ax.plot(band.index, band["mean"], color=colour, label=label)
            ax.fill_between(
                band.index, band["low"], band["high"], color=colour, alpha=0.25, linewidth=0
            )
        ax.set_xlabel(step)
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
        save_figure(fig, path)
        plt.close(fig)
    return path
