"""The posterior and what it predicts: weighted quantiles, the summary, bands, identification.

Every accepted particle of the last generation is one parameter set, one simulated
curve (its own seed), a launch and a weight. The posterior predictive of the share
*observed* at a time is that curve at that launch plus the observation noise
(:mod:`.observation`), DRAWS draws of it per particle:

- up to the last fitted time, fresh noise: the band of data the fitted model would
  produce (against which the fitted points are checked);
- after it, noise continued from the particle's own residual at the last fitted
  point (with autocorrelated noise a forecast starts where the data left the curve,
  and forgets that at the fitted rate).

Without the noise model (``--noise off``) the band holds only the parameters'
uncertainty and the market's randomness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..provenance import derive_seed
from .observation import conditional_noise
from .priors import AUTOCORRELATION, NOISE, FitKey, hard_limits
from .simulate import shares_at

__all__ = [
    "BAND",
    "LEVELS",
    "Predictive",
    "bands",
    "correlations",
    "identification",
    "launch_bound",
    "summary_table",
    "weighted_quantiles",
]

#: The central credible interval reported everywhere: 5 % and 95 % quantiles.
BAND = (0.05, 0.95)
#: Quantiles of every band table: 90 % and 50 % intervals and the median.
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Noise draws per particle in the predictive.
DRAWS = 20
#: The stream of a particle's noise draws (from its model seed).
NOISE_STREAM = 2**32 + 11
#: A posterior 90 % interval narrower than this share of the prior's pins a key down;
#: one wider than NOT_PINNED of it says little beyond the prior.
PINNED = 0.5
NOT_PINNED = 0.8
#: A posterior quantile (q05 or q95) this close to a prior bound, as a share of the prior's
#: range, means the posterior is pressed against that bound.
AT_BOUND = 0.025
#: |weighted correlation| from which two quantities lie on a ridge: the data fix a
#: combination of them, not each.
RIDGE = 0.8


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


def correlations(posterior: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Weighted Pearson correlations between ``columns`` of the posterior (a square
    table; NaN where a column does not vary)."""
    weights = posterior["weight"].to_numpy(dtype=float)
    weights = weights / weights.sum()
    values = posterior[list(columns)].to_numpy(dtype=float)
    centred = values - weights @ values
    covariance = (centred * weights[:, None]).T @ centred
    sd = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        table = covariance / np.outer(sd, sd)
    return pd.DataFrame(table, index=list(columns), columns=list(columns))


def identification(
    summary: pd.DataFrame, keys: Sequence[FitKey], correlation: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Which keys the data pin down, and why not when they do not.

    ``ratio`` = posterior 90 % width / the prior's (0.9 x (high - low) for a uniform
    prior), both measured where the prior is uniform (in the log for a log-uniform one:
    ``ratio_in`` says which; ``prior_width`` and ``posterior_width`` are in values).
    ``bound`` says "lower" or "upper" when q05 or q95 lies within AT_BOUND of
    the range from that prior bound (the data push the key there and the range cuts
    the posterior off), ``hard_limit`` when that bound is also the key's own limit
    (it cannot be widened). ``ridge`` names the quantities (other keys, the launch)
    whose weighted correlation with the key reaches RIDGE in size: the data fix a
    combination, not the key. The verdict: *against a bound*, *on a ridge*, else
    *pinned down* below PINNED, *not pinned down* from NOT_PINNED, *partly* between;
    a key pressed against a bound or on a ridge is never called pinned down.
    """
    rows = []
    for key, (_, row) in zip(keys, summary.iterrows(), strict=True):
        prior_width = (BAND[1] - BAND[0]) * key.width
        # widths and gaps where the prior is uniform: a log-uniform key's in its log
        (low, high), q05, q95 = key.span, key.encode(row["q05"]), key.encode(row["q95"])
        ratio = (q95 - q05) / ((BAND[1] - BAND[0]) * (high - low))
        sides = [
            side
            for side, gap in (("lower", q05 - low), ("upper", high - q95))
            if gap < AT_BOUND * (high - low)
        ]
        least, most = hard_limits(key.key)
        hard = [
            side
            for side in sides
            if (side == "lower" and least is not None and np.isclose(key.low, least))
            or (side == "upper" and most is not None and np.isclose(key.high, most))
        ]
        ridge = _ridge(key.key, correlation)
        verdict = (
            "against a bound"
            if sides
            else "on a ridge"
            if ridge
            else "pinned down"
            if ratio < PINNED
            else "not pinned down"
            if ratio >= NOT_PINNED
            else "partly"
        )
        rows.append(
            {
                "key": key.key,
                "prior_low": key.low,
                "prior_high": key.high,
                "prior_width": prior_width,
                "posterior_width": row["q95"] - row["q05"],
                "ratio": ratio,
                "ratio_in": "log" if key.log else "value",  # where ratio is measured
                "verdict": verdict,
                "bound": " and ".join(sides),
                "hard_limit": " and ".join(hard),
                "ridge": ridge,
            }
        )
    return pd.DataFrame(rows)


def launch_bound(q05: float, q95: float, first: float, lead: float) -> str:
    """ "earliest" or "latest" when the launch's q05 or q95 lies within AT_BOUND of the
    prior's window from its end (the first observation ``first``, ``lead`` before it)."""
    sides = [
        side
        for side, gap in (("earliest", q05 - (first - lead)), ("latest", first - q95))
        if gap < AT_BOUND * lead
    ]
    return " and ".join(sides)


def _ridge(key: str, correlation: pd.DataFrame | None) -> str:
    """'other (r), ...' for the quantities correlated with ``key`` at RIDGE or more."""
    if correlation is None or key not in correlation.index:
        return ""
    row = correlation.loc[key].drop(key)
    strong = row[row.abs() >= RIDGE].sort_values(key=np.abs, ascending=False)
    return ", ".join(f"{name} ({value:+.2f})" for name, value in strong.items())


@dataclass(frozen=True)
class Predictive:
    """The posterior predictive: each particle's curve at its launch, plus noise.

    ``sigma`` and ``rho`` are per particle (None: no noise model, one draw each);
    ``last_time`` and ``last_share`` the last fitted point, from which a forecast's
    noise continues; ``seeds`` the particles' model seeds, which seed their draws.
    """

    curves: Sequence[np.ndarray]
    launches: np.ndarray
    weights: np.ndarray
    seeds: np.ndarray
    last_time: float
    last_share: float
    sigma: np.ndarray | None = None
    rho: np.ndarray | None = None

    @classmethod
    def of(
        cls,
        curves: Sequence[np.ndarray],
        posterior: pd.DataFrame,
        last_time: float,
        last_share: float,
    ) -> Predictive:
        """From a posterior table (weight, launch, seed and the noise keys if fitted)."""
        noisy = NOISE in posterior.columns
        rho = posterior[AUTOCORRELATION] if AUTOCORRELATION in posterior.columns else None
        return cls(
            curves=curves,
            launches=posterior["launch"].to_numpy(dtype=float),
            weights=posterior["weight"].to_numpy(dtype=float),
            seeds=posterior["seed"].to_numpy(dtype=np.int64),
            last_time=float(last_time),
            last_share=float(last_share),
            sigma=posterior[NOISE].to_numpy(dtype=float) if noisy else None,
            rho=(rho.to_numpy(dtype=float) if rho is not None else np.zeros(len(posterior)))
            if noisy
            else None,
        )

    def draws(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Draws (rows) of the observed share at ``times`` (increasing) and their
        weights. Not clipped to [0, 1]: the noise model is Gaussian, and the bands are
        scored against data it describes (figures clip what they show)."""
        times = np.asarray(times, dtype=float)
        rows, weights = [], []
        for i, (curve, launch) in enumerate(zip(self.curves, self.launches, strict=True)):
            mean = shares_at(curve, launch, times)
            if self.sigma is None:
                rows.append(mean[None, :])
                weights.append(np.array([self.weights[i]]))
                continue
            rng = np.random.default_rng(derive_seed(int(self.seeds[i]), NOISE_STREAM))
            sigma, rho = float(self.sigma[i]), float(self.rho[i])
            before = times <= self.last_time + 1e-9
            noise = np.empty((DRAWS, times.size))
            noise[:, before] = conditional_noise(times[before], None, 0.0, sigma, rho, rng, DRAWS)
            residual = self.last_share - float(shares_at(curve, launch, [self.last_time])[0])
            noise[:, ~before] = conditional_noise(
                times[~before], self.last_time, residual, sigma, rho, rng, DRAWS
            )
            rows.append(mean[None, :] + noise)
            weights.append(np.full(DRAWS, self.weights[i] / DRAWS))
        return np.vstack(rows), np.concatenate(weights)

    def bands(self, times: np.ndarray) -> pd.DataFrame:
        """time, mean, q05, q25, q50, q75, q95 of the observed share at ``times``."""
        values, weights = self.draws(times)
        return bands(values, weights, times)


def bands(values: np.ndarray, weights: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """Weighted mean and LEVELS quantiles of draws (rows) at ``times`` (columns); a draw
    that does not reach a time (NaN) is left out there."""
    quantiles = weighted_quantiles(values, weights, LEVELS)
    finite = np.isfinite(values)
    w = np.where(finite, weights[:, None], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(finite, values, 0.0) * w).sum(axis=0) / w.sum(axis=0)
    frame = pd.DataFrame({"time": np.asarray(times, dtype=float), "mean": mean})
    for level, row in zip(LEVELS, quantiles, strict=True):
        frame[f"q{round(level * 100):02d}"] = row
    return frame
