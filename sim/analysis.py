"""Diffusion metrics computed from a run's adoption events (pure functions on DataFrames)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .market import MarketRecord

__all__ = [
    "NO_WINNER",
    "NO_WINNER_MARGIN",
    "ROGERS_CATEGORIES",
    "bass_curve",
    "bass_recursion",
    "diffusion_metrics",
    "firm_rows",
    "firm_summary",
    "first_release_curve",
    "first_release_fits",
    "first_releases",
    "fit_bass",
    "release_metrics",
    "rogers_categories",
    "run_winner",
]

#: A run whose leading firm leads the next by less than this share has no winner
#: (MODEL.md, innovation economics point 5).
NO_WINNER_MARGIN = 0.01
#: What a winner column says then.
NO_WINNER = "none"


def run_winner(shares: dict[str, float], margin: float = NO_WINNER_MARGIN) -> str:
    """The firm with the highest share, or :data:`NO_WINNER` when it leads the next by
    less than ``margin`` (a market where nobody moved included): a tie is never broken
    by the order in which firms are listed."""
    ranked = sorted(shares.values(), reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0] - ranked[1] < margin):
        return NO_WINNER
    return max(shares, key=shares.__getitem__)


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


RELEASE_COLUMNS = [
    "release",
    "firm",
    "generation",
    "kind",
    "release_step",
    "quality_step",
    "claimed_quality",
    "true_quality",
    *METRICS,
    *ROGERS_CATEGORIES,
]


def release_metrics(model: MarketRecord, releases: np.ndarray | None = None) -> pd.DataFrame:
    """Diffusion metrics and Rogers shares of ``releases`` (ids; default: every release
    of generation >= 1), from the model's adoption events, in release order."""
    if releases is None:
        releases = np.flatnonzero((model.release_firm >= 0) & (model.release_generation >= 1))
    return pd.DataFrame(_release_rows(model, releases), columns=RELEASE_COLUMNS)


def _release_rows(model: MarketRecord, releases: np.ndarray) -> list[tuple]:
    log = model.adoption_events()
    log = log[np.argsort(log[:, 1], kind="stable")]  # by release, in time order within
    first = np.searchsorted(log[:, 1], releases, side="left")
    last = np.searchsorted(log[:, 1], releases, side="right")
    names = [f.name for f in model.firms]
    rows = []
    for i, release in enumerate(np.asarray(releases).tolist()):
        step = int(model.release_step[release])
        if first[i] == last[i]:
            since, counts = np.array([0]), np.array([0])
        else:
            since = log[first[i] : last[i], 0] - step
            counts = log[first[i] : last[i], 2]
        rows.append(
            (
                release,
                names[model.release_firm[release]],
                int(model.release_generation[release]),
                model.release_kind[release],
                step,
                float(model.release_quality_step[release]),
                float(model.release_claimed[release]),
                float(model.release_true[release]),
                *diffusion_metrics(since, counts, model.n_customers).values(),
                *rogers_categories(since, counts).values(),
            )
        )
    return rows


def first_releases(model: MarketRecord) -> np.ndarray:
    """Id of each firm's first release (generation 1), or -1 for a firm without one."""
    own = (model.release_firm >= 0) & (model.release_generation == 1)
    ids = np.full(model.n_firms, -1, dtype=np.int64)
    for release in np.flatnonzero(own)[::-1]:
        ids[model.release_firm[release]] = release
    return ids


def firm_rows(model: MarketRecord) -> list[dict[str, Any]]:
    """One dict per firm: its capacity, final and cumulative share, profit, releases and
    their costs (its ledger, MODEL.md economics), trust and co-creators, and its first
    release's diffusion (``first_*``, floats, NaN for a firm that has not released)."""
    shares = model.firm_shares()
    ids = first_releases(model)
    keys = ("release_step", *METRICS)
    by_firm = {
        row[1]: {k: v for k, v in zip(RELEASE_COLUMNS, row, strict=True) if k in keys}
        for row in _release_rows(model, ids[ids >= 0])
    }
    cocreators = np.bincount(model.cocreation_firm + 1, minlength=model.n_firms + 1)[1:]
    rows = []
    for firm in model.firms:
        first = by_firm.get(firm.name, {})
        ledger = firm.ledger
        rows.append(
            {
                "firm": firm.name,
                "strategy": firm.strategy.name,
                "capacity": float(firm.capacity),
                "final_share": float(shares[firm.index]),
                "cum_share": float(ledger.cum_share),
                "profit": float(ledger.profit),
                "release_costs": float(ledger.release_costs),
                "releases": int(ledger.releases),
                "final_trust": float(model.trust[:, firm.index].mean()),
                "cocreators": int(cocreators[firm.index]),
                **{f"first_{k}": float(first.get(k, np.nan)) for k in keys},
            }
        )
    return rows


def firm_summary(model: MarketRecord) -> pd.DataFrame:
    """One row per firm: final share, trust and co-creators, and first-release diffusion."""
    return pd.DataFrame(firm_rows(model))


def first_release_curve(
    model: MarketRecord, firm_index: int, events: np.ndarray | None = None
) -> np.ndarray | None:
    """Cumulative adoption (share of all customers) of a firm's first release, by step.

    Index t counts steps since the release (adoptions in the release's own step count
    at t = 1; t = 0 is 0); the window ends at the firm's next release or the run's end.
    None when the firm has not released. ``events``: the model's adoption events, when
    the caller has them already.
    """
    own = np.flatnonzero((model.release_firm == firm_index) & (model.release_generation >= 1))
    if own.size == 0:
        return None
    release = int(own[0])
    start = int(model.release_step[release])
    later = model.release_step[own[1:]]
    end = int(later.min()) if later.size else int(model.steps) + 1
    offset = 0 if start == 0 else 1
    counts = np.zeros(end - start + offset)
    log = model.adoption_events() if events is None else events
    mine = log[(log[:, 1] == release) & (log[:, 0] >= start) & (log[:, 0] < end)]
    np.add.at(counts, mine[:, 0] - start + offset, mine[:, 2])
    return np.cumsum(counts) / model.n_customers


def first_release_fits(model: MarketRecord) -> list[dict[str, float]]:
    """Bass p, q and m fitted to each firm's first-release curve (NaN without one)."""
    events = model.adoption_events()
    fits = []
    for firm in model.firms:
        curve = first_release_curve(model, firm.index, events)
        fits.append(fit_bass(curve if curve is not None else np.zeros(0)))
    return fits


#: Points a curve needs for a Bass fit: two per parameter (p, q, m) beyond t = 0.
MIN_FIT_POINTS = 7


def fit_bass(cumulative: np.ndarray, steps: np.ndarray | None = None) -> dict[str, float]:
    """Fit Bass p, q and market potential m to a cumulative adoption curve (scipy).

    ``cumulative`` is the share of customers who have adopted, by step since release.
    Returns NaNs when the curve is flat, has fewer than :data:`MIN_FIT_POINTS` points
    (three parameters are not identified by fewer: an incremental release's 5-step
    window leaves one degree of freedom), or the fit does not converge.
    """
    from scipy.optimize import curve_fit

    y = np.asarray(cumulative, dtype=float)
    t = np.arange(y.size, dtype=float) if steps is None else np.asarray(steps, dtype=float)
    nan = {"bass_p": float("nan"), "bass_q": float("nan"), "bass_m": float("nan")}
    if y.size < MIN_FIT_POINTS or not np.isfinite(y).all() or y.max() <= 0:
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
