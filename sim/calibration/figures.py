"""Calibration figures (matplotlib): the fit against the data, the posterior's pairs.

:func:`fit_figure` and :func:`pairs_figure` return Figures (``Calibration.plot``);
:func:`png` turns one into PNG bytes so that the caller writes them atomically.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from ..style import OKABE_ITO, RC_PARAMS
from .priors import FitKey

__all__ = ["fit_figure", "pairs_figure", "png", "rank_figure"]

MODEL_COLOUR, BASS_COLOUR, DATA_COLOUR = OKABE_ITO[0], OKABE_ITO[1], "#222222"
PRIOR_COLOUR = "#888888"
#: Share of a quantity's posterior range added on each side of a pairs panel.
PAD = 0.08


def png(fig: plt.Figure, footer: str = "") -> bytes:
    """The figure as PNG bytes (``footer`` written at its bottom right); closes it."""
    if footer:
        fig.text(0.99, 0.005, footer, ha="right", va="bottom", fontsize=10, color="#444444")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def fit_figure(
    observed: pd.DataFrame,
    band: pd.DataFrame,
    bass: np.ndarray,
    *,
    title: str,
    coverage: Mapping[str, float],
    time_unit: str,
    footer: str,
) -> plt.Figure:
    """Observed points (open where held out), the posterior predictive median with its
    50 % and 90 % bands of the observed share and the Bass fit (``bass``, at the
    band's times); the title gets ``coverage`` (shares of fitted and held-out points in
    the 90 % band); below, the residuals (data minus predictive median) inside the
    band's residual range.

    ``observed``: time, observed, fitted, q05, q50, q95; ``band``: time, q05, q25,
    q50, q75, q95.
    """
    fitted = observed[observed["fitted"]]
    held = observed[~observed["fitted"]]
    with plt.rc_context(RC_PARAMS):
        fig, (ax, low) = plt.subplots(
            2, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
        )
        for low_q, high_q, alpha, label in (
            ("q05", "q95", 0.18, "model: 90 % predictive band"),
            ("q25", "q75", 0.3, "model: 50 % band"),
        ):
            ax.fill_between(
                band["time"],
                band[low_q],
                band[high_q],
                color=MODEL_COLOUR,
                alpha=alpha,
                linewidth=0,
                label=label,
            )
        ax.plot(band["time"], band["q50"], color=MODEL_COLOUR, label="model: predictive median")
        ax.plot(band["time"], bass, color=BASS_COLOUR, linestyle="--", label="Bass fit")
        ax.plot(
            fitted["time"],
            fitted["observed"],
            "o",
            color=DATA_COLOUR,
            ms=5,
            label="data (fitted)",
        )
        low.fill_between(
            observed["time"],
            observed["q05"] - observed["q50"],
            observed["q95"] - observed["q50"],
            color=MODEL_COLOUR,
            alpha=0.18,
            linewidth=0,
        )
        low.axhline(0.0, color=MODEL_COLOUR, linewidth=1.2)
        low.plot(fitted["time"], fitted["observed"] - fitted["q50"], "o", color=DATA_COLOUR, ms=4)
        shown = f"{coverage['coverage90_in']:.0%} of fitted points in the 90 % band"
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
            low.plot(
                held["time"],
                held["observed"] - held["q50"],
                "o",
                mfc="white",
                mec=DATA_COLOUR,
                ms=4,
            )
            for axis in (ax, low):
                axis.axvline(
                    held["time"].iloc[0] - 0.5, color=PRIOR_COLOUR, linewidth=1, linestyle=":"
                )
            shown += f", {coverage['coverage90_out']:.0%} of held-out"
        ax.set_ylabel("share adopted (0 to 1)")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{title}; {shown}", fontsize=13)
        ax.legend(loc="best", frameon=False, fontsize=10)
        low.set_ylabel("data - median")
        low.set_xlabel(f"{time_unit} (one step of the model = one unit)")
        fig.text(0.01, 0.005, footer, ha="left", va="bottom", fontsize=9, color="#444444")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def pairs_figure(
    posterior: pd.DataFrame,
    keys: tuple[FitKey, ...],
    correlation: pd.DataFrame,
    *,
    title: str,
    truth: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Every pair of fitted keys and the launch: weighted particles drawn on the
    posterior's range, the prior's bounds as dashed lines where they fall inside it,
    each quantity's weighted histogram on the diagonal and, above it, the weighted
    correlation of each pair (bold from 0.8 in size: a ridge)."""
    names = [k.key for k in keys] + ["launch"]
    priors = {k.key: (k.low, k.high) for k in keys}
    logs = {k.key for k in keys if k.log}  # drawn on log axes, as their prior is
    weights = posterior["weight"].to_numpy()
    size = 20 + 200 * weights / max(weights.max(), 1e-300)
    limits = {name: _limits(posterior[name].to_numpy(), name in logs) for name in names}
    n = len(names)
    with plt.rc_context(RC_PARAMS | {"font.size": 10, "axes.labelsize": 10}):
        fig, axes = plt.subplots(n, n, figsize=(2.6 * n + 1, 2.6 * n + 0.6), squeeze=False)
        for row, y_name in enumerate(names):
            for col, x_name in enumerate(names):
                ax = axes[row][col]
                if col > row:
                    r = float(correlation.loc[y_name, x_name])
                    ax.set_axis_off()
                    ax.text(
                        0.5,
                        0.5,
                        f"r = {r:+.2f}",
                        ha="center",
                        va="center",
                        transform=ax.transAxes,
                        fontsize=13,
                        fontweight="bold" if abs(r) >= 0.8 else "normal",
                    )
                    continue
                x = posterior[x_name].to_numpy()
                if row == col:
                    ax.hist(
                        x,
                        bins=(np.geomspace if x_name in logs else np.linspace)(*limits[x_name], 31),
                        weights=weights,
                        color=MODEL_COLOUR,
                        alpha=0.8,
                    )
                    ax.set_yticks([])
                    if truth and x_name in truth:
                        ax.axvline(truth[x_name], color=BASS_COLOUR, linewidth=2)
                else:
                    y = posterior[y_name].to_numpy()
                    ax.scatter(x, y, s=size, color=MODEL_COLOUR, alpha=0.35, linewidths=0)
                    if y_name in logs:
                        _log_axis(ax.yaxis, ax.set_yscale)
                    ax.set_ylim(*limits[y_name])
                    _prior_lines(ax.axhline, priors.get(y_name), limits[y_name])
                    if truth and x_name in truth and y_name in truth:
                        ax.plot(truth[x_name], truth[y_name], "*", color=BASS_COLOUR, ms=14)
                if x_name in logs:
                    _log_axis(ax.xaxis, ax.set_xscale)
                ax.set_xlim(*limits[x_name])
                _prior_lines(ax.axvline, priors.get(x_name), limits[x_name])
                if row == n - 1:
                    ax.set_xlabel(_label(x_name, priors, logs))
                else:
                    ax.set_xticklabels([])
                if col == 0 and row > 0:
                    ax.set_ylabel(_label(y_name, priors, logs))
                elif col > 0:
                    ax.set_yticklabels([])
        fig.suptitle(title + " (dashed: a prior bound)")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _log_axis(axis: Any, set_scale: Any) -> None:
    """A log axis labelled in plain numbers (0.001, not mathtext's 10^-3, whose fonts
    matplotlib may lack)."""
    set_scale("log")
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _limits(values: np.ndarray, log: bool = False) -> tuple[float, float]:
    if log:
        low, high = _limits(np.log(values))
        return float(np.exp(low)), float(np.exp(high))
    low, high = float(np.min(values)), float(np.max(values))
    pad = PAD * (high - low) if high > low else max(abs(low) * 0.05, 1e-6)
    return low - pad, high + pad


def _prior_lines(
    draw: object, prior: tuple[float, float] | None, view: tuple[float, float]
) -> None:
    if prior is None:
        return
    for bound in prior:
        if view[0] <= bound <= view[1]:
            draw(bound, color=PRIOR_COLOUR, linestyle="--", linewidth=1.2)  # type: ignore[operator]


def _label(name: str, priors: Mapping[str, tuple[float, float]], logs: set[str]) -> str:
    if name not in priors:
        return f"{name} (time)"
    low, high = priors[name]
    scale = ", log-uniform" if name in logs else ""
    return f"{name}\nprior {low:g} to {high:g}{scale}"


def rank_figure(ranks: pd.DataFrame, *, bins: int = 10, title: str) -> plt.Figure:
    """One histogram per key of the truth's posterior rank (its weighted posterior
    CDF), which is uniform when the posterior is right; the grey band holds 95 % of
    the bin counts a uniform rank gives (binomial)."""
    from scipy.stats import binom

    keys = list(dict.fromkeys(ranks["key"]))
    n = len(keys)
    cols = min(n, 3)
    rows = -(-n // cols)
    with plt.rc_context(RC_PARAMS | {"font.size": 10}):
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
        for ax, key in zip(axes.flat, keys, strict=False):
            values = ranks.loc[ranks["key"] == key, "rank"].to_numpy()
            total = values.size
            low, high = binom.ppf([0.025, 0.975], total, 1 / bins)
            ax.axhspan(low, high, color=PRIOR_COLOUR, alpha=0.25, linewidth=0)
            ax.axhline(total / bins, color=PRIOR_COLOUR, linewidth=1)
            ax.hist(values, bins=np.linspace(0, 1, bins + 1), color=MODEL_COLOUR, alpha=0.85)
            ax.set_title(key, fontsize=10)
            ax.set_xlim(0, 1)
            ax.set_xlabel("rank of the truth in its posterior")
        for ax in list(axes.flat)[n:]:
            ax.set_axis_off()
        fig.suptitle(title)
        fig.tight_layout()
    return fig
