"""Calibration figures (matplotlib, PNG bytes): the fit against the data, the posterior's pairs.

Figures are returned as PNG bytes so that the caller writes them atomically.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..style import OKABE_ITO, RC_PARAMS
from .priors import FitKey

__all__ = ["plot_fit", "plot_pairs"]

MODEL_COLOUR, BASS_COLOUR, DATA_COLOUR = OKABE_ITO[0], OKABE_ITO[1], "#222222"


def _png(fig: plt.Figure, footer: str) -> bytes:
    fig.text(0.99, 0.005, footer, ha="right", va="bottom", fontsize=10, color="#444444")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def plot_fit(
    observed: pd.DataFrame, band: pd.DataFrame, bass: pd.DataFrame, *, title: str, footer: str
) -> bytes:
    """Observed points (open where held out), the posterior predictive median and 90 %
    band, and the Bass curve fitted to the same points.

    ``observed``: time, observed, fitted; ``band``: time, q05, q50, q95; ``bass``:
    time, share.
    """
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(9, 5.5))
        ax.fill_between(
            band["time"],
            band["q05"],
            band["q95"],
            color=MODEL_COLOUR,
            alpha=0.25,
            linewidth=0,
            label="model: 90 % predictive band",
        )
        ax.plot(band["time"], band["q50"], color=MODEL_COLOUR, label="model: predictive median")
        ax.plot(bass["time"], bass["share"], color=BASS_COLOUR, linestyle="--", label="Bass fit")
        fitted = observed[observed["fitted"]]
        held = observed[~observed["fitted"]]
        ax.plot(
            fitted["time"], fitted["observed"], "o", color=DATA_COLOUR, ms=5, label="data (fitted)"
        )
        if not held.empty:
            ax.plot(
                held["time"],
                held["observed"],
                "o",
                mfc="white",
                mec=DATA_COLOUR,
                ms=6,
                label="data (held out)",
            )
            ax.axvline(held["time"].iloc[0] - 0.5, color="#888888", linewidth=1, linestyle=":")
        ax.set_xlabel("time")
        ax.set_ylabel("share adopted")
        ax.set_ylim(0, 1.02)
        ax.set_title(title)
        ax.legend(loc="best", frameon=False)
        return _png(fig, footer)


def plot_pairs(
    posterior: pd.DataFrame,
    keys: Sequence[FitKey],
    *,
    title: str,
    footer: str,
    truth: Mapping[str, float] | None = None,
) -> bytes:
    """Every pair of fitted keys: weighted particles on the prior's ranges, and each
    key's weighted histogram on the diagonal (``truth`` marked if given)."""
    k = len(keys)
    weights = posterior["weight"].to_numpy()
    size = 20 + 200 * weights / max(weights.max(), 1e-300)
    with plt.rc_context(RC_PARAMS | {"font.size": 11, "axes.labelsize": 11}):
        fig, axes = plt.subplots(k, k, figsize=(3.2 * k + 1, 3.2 * k + 0.6), squeeze=False)
        for row, y_key in enumerate(keys):
            for col, x_key in enumerate(keys):
                ax = axes[row][col]
                if col > row:
                    ax.set_axis_off()
                    continue
                x = posterior[x_key.key].to_numpy()
                if row == col:
                    ax.hist(
                        x,
                        bins=np.linspace(x_key.low, x_key.high, 31),
                        weights=weights,
                        color=MODEL_COLOUR,
                        alpha=0.8,
                    )
                    ax.set_yticks([])
                    if truth and x_key.key in truth:
                        ax.axvline(truth[x_key.key], color=BASS_COLOUR, linewidth=2)
                else:
                    y = posterior[y_key.key].to_numpy()
                    ax.scatter(x, y, s=size, color=MODEL_COLOUR, alpha=0.35, linewidths=0)
                    ax.set_ylim(y_key.low, y_key.high)
                    if truth and x_key.key in truth and y_key.key in truth:
                        ax.plot(truth[x_key.key], truth[y_key.key], "*", color=BASS_COLOUR, ms=14)
                ax.set_xlim(x_key.low, x_key.high)
                if row == k - 1:
                    ax.set_xlabel(x_key.key)
                else:
                    ax.set_xticklabels([])
                if col == 0 and row > 0:
                    ax.set_ylabel(y_key.key)
                elif col > 0:
                    ax.set_yticklabels([])
        fig.suptitle(title)
        return _png(fig, footer)
