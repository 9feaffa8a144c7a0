"""Diffusion metrics computed from a run's adoption events (pure functions on DataFrames)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .model import InnovationModel

__all__ = [
    "ROGERS_CATEGORIES",
    "bass_curve",
    "bass_recursion",
    "diffusion_metrics",
    "firm_summary",
    "fit_bass",
    "release_metrics",
    "rogers_categories",
]

ROGERS_CATEGORIES = ("innovators", "early_adopters", "early_majority", "late_majority", "laggards")
METRICS = ("adopters", "t10", "t50", "t90", "peak_rate", "peak_step")


def bass_curve(t: np.ndarray | float, p: float, q: float, m: float = 1.0) -> np.ndarray:
    """Continuous Bass (1969) cumulative adoption.

    ``F(t) = m (1 - exp(-(p+q) t)) / (1 + (q/p) exp(-(p+q) t))``.
    """
    t = np.asarray(t, dtype=float)
    decay = np.exp(-(p + q) * t)
    return m * (1.0 - decay) / (1.0 + (q / p) * decay)


def bass_recursion(steps: int, p: float, q: float) -> np.ndarray:
    """Discrete Bass hazard: F(t+1) = F + (1 - (1 - p)(1 - q F))(1 - F), F(0) = 0; t = 0..steps."""
    f = np.zeros(steps + 1)
    for t in range(steps):
        f[t + 1] = f[t] + (1.0 - (1.0 - p) * (1.0 - q * f[t])) * (1.0 - f[t])
    return f


def diffusion_metrics(steps: np.ndarray, counts: np.ndarray, n: int) -> dict[str, float]:
    """Steps to 10/50/90 % of eventual adopters, peak adoption rate and its step.

    ``steps`` are steps since the release, ``counts`` adoptions at each; rates are
    shares of all ``n`` customers per step. NaN where nobody adopted.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    if total <= 0:
        return {"adopters": 0.0} | {k: float("nan") for k in METRICS[1:]}
    cumulative = np.cumsum(counts)
    out = {"adopters": total / n}
    for level in (10, 50, 90):
        out[f"t{level}"] = float(steps[np.searchsorted(cumulative, level / 100 * total - 1e-9)])
    peak = int(np.argmax(counts))
    out["peak_rate"] = counts[peak] / n
    out["peak_step"] = float(steps[peak])
    return out


def rogers_categories(steps: np.ndarray, counts: np.ndarray) -> dict[str, float]:
    """Share of adopters in each Rogers (1962) category, by adoption time.

    Categories cut the adoption-time distribution at mean - 2 sd, mean - sd, mean and
    mean + sd: innovators, early adopters, early majority, late majority, laggards.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    if total <= 0:
        return {c: float("nan") for c in ROGERS_CATEGORIES}
    steps = np.asarray(steps, dtype=float)
    mean = np.average(steps, weights=counts)
    sd = np.sqrt(np.average((steps - mean) ** 2, weights=counts))
    cuts = [mean - 2 * sd, mean - sd, mean, mean + sd]
    category = np.searchsorted(cuts, steps, side="left")
    shares = np.bincount(category, weights=counts, minlength=5) / total
    return dict(zip(ROGERS_CATEGORIES, shares.tolist(), strict=True))


def release_metrics(releases: pd.DataFrame, adoptions: pd.DataFrame, n: int) -> pd.DataFrame:
    """Diffusion metrics and Rogers shares for every release (generation >= 1)."""
    rows = []
    grouped = dict(tuple(adoptions.groupby("release"))) if len(adoptions) else {}
    for rel in releases.itertuples(index=False):
        if rel.firm == "legacy" or rel.generation < 1:
            continue
        events = grouped.get(rel.release)
        if events is None:
            since, counts = np.array([0]), np.array([0])
        else:
            since = events["step"].to_numpy() - rel.step
            counts = events["adoptions"].to_numpy()
        rows.append(
            {
                "release": rel.release,
                "firm": rel.firm,
                "generation": rel.generation,
                "kind": rel.kind,
                "release_step": rel.step,
                **diffusion_metrics(since, counts, n),
                **rogers_categories(since, counts),
            }
        )
    columns = [
        "release",
        "firm",
        "generation",
        "kind",
        "release_step",
        *METRICS,
        *ROGERS_CATEGORIES,
    ]
    return pd.DataFrame(rows, columns=columns)


def firm_summary(model: InnovationModel) -> pd.DataFrame:
    """One row per firm: final share, trust and co-creators, and first-release diffusion."""
    shares = model.firm_shares()
    per_release = model.release_summary()
    rows = []
    for firm in model.firms:
        first = per_release[(per_release["firm"] == firm.name) & (per_release["generation"] == 1)]
        metrics = (
            first.iloc[0][["release_step", *METRICS]].to_dict()
            if len(first)
            else {"release_step": float("nan")} | dict.fromkeys(METRICS, float("nan"))
        )
        rows.append(
            {
                "firm": firm.name,
                "strategy": firm.strategy.name,
                "final_share": float(shares[firm.index]),
                "final_trust": float(model.trust[:, firm.index].mean()),
                "cocreators": int((model.cocreation_firm == firm.index).sum()),
                "releases": int(
                    (model.release_firm == firm.index).sum() - (model.params["start"] == "spread")
                ),
                **{f"first_{k}": v for k, v in metrics.items()},
            }
        )
    return pd.DataFrame(rows)


def fit_bass(cumulative: np.ndarray, steps: np.ndarray | None = None) -> dict[str, float]:
    """Fit Bass p, q and market potential m to a cumulative adoption curve (scipy).

    ``cumulative`` is the share of customers who have adopted, by step since release.
    Returns NaNs when the curve is flat or the fit does not converge.
    """
    from scipy.optimize import curve_fit

    y = np.asarray(cumulative, dtype=float)
    t = np.arange(y.size, dtype=float) if steps is None else np.asarray(steps, dtype=float)
    nan = {"bass_p": float("nan"), "bass_q": float("nan"), "bass_m": float("nan")}
    if y.size < 4 or not np.isfinite(y).all() or y.max() <= 0:
        return nan
    m0 = max(float(y.max()), 1e-6)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (p, q, m), _ = curve_fit(
                bass_curve,
                t,
                y,
                p0=(0.03, 0.38, m0),
                bounds=([1e-6, 0.0, 1e-6], [1.0, 5.0, 1.0]),
                maxfev=5000,
            )
    except (RuntimeError, ValueError):
        return nan
    return {"bass_p": float(p), "bass_q": float(q), "bass_m": float(m)}
