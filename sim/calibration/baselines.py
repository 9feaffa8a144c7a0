"""The standard growth curves the model is judged against, and their forecast bands.

Three families, each fitted by least squares with its time location free (the
series need not start at launch):

- **Bass** (1969), ``m F(t - launch; p, q)`` (:mod:`.bass`, launch fitted);
- **logistic**, ``m / (1 + exp(-k (t - t_mid)))``;
- **Gompertz**, ``m exp(-exp(-k (t - t_mid)))`` (asymmetric: slower approach to m).

m is a ceiling share in (0, 1], k a rate in (0, 5] per period and t_mid the time of
the inflection, within max(100, 2 x span) periods of the data.

A curve fit gives a point forecast only. Its forecast distribution is a **residual
bootstrap** (Efron & Tibshirani 1993, ch. 9): the fitted curve plus resampled
residuals is fitted again, BOOTSTRAP times, and each refit predicts the forecast
times plus a resampled residual; the draws carry both the parameters' uncertainty and
the noise around the curve, as the model's posterior predictive does. Residuals are
resampled independently, the textbook method: serial correlation in them is not
carried into the forecast.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bass import fit_bass_offset
from .scoring import coverage, crps, rmse

__all__ = ["BOOTSTRAP", "FAMILIES", "CurveFit", "bootstrap_draws", "fit_curve", "forecast_scores"]

FAMILIES = ("bass", "logistic", "gompertz")
BOOTSTRAP = 200
K_BOUNDS = (1e-4, 5.0)
M_BOUNDS = (1e-6, 1.0)
MIN_LOOKBACK = 100.0
K_STARTS = (0.08, 0.25, 0.8)
M_STARTS = (1.02, 1.3)  # times the largest observed share, capped at 1


@dataclass(frozen=True)
class CurveFit:
    """A fitted growth curve: its family, parameters and in-sample RMSE."""

    family: str
    params: dict[str, Any]
    rmse: float
    predictor: Callable[[np.ndarray], np.ndarray] = field(repr=False)

    def predict(self, times: np.ndarray | float) -> np.ndarray:
        return np.clip(self.predictor(np.asarray(times, dtype=float)), 0.0, 1.0)


def _logistic(t: np.ndarray, m: float, k: float, mid: float) -> np.ndarray:
    return m / (1.0 + np.exp(-k * (t - mid)))


def _gompertz(t: np.ndarray, m: float, k: float, mid: float) -> np.ndarray:
    return m * np.exp(-np.exp(-k * (t - mid)))


SHAPES = {"logistic": _logistic, "gompertz": _gompertz}


def fit_curve(
    family: str, times: np.ndarray, shares: np.ndarray, *, start: CurveFit | None = None
) -> CurveFit:
    """Least-squares fit of ``family`` (one of FAMILIES) to the points: from several
    starting points, or from ``start`` alone (a fit of similar points: a bootstrap
    refit starts from the original fit)."""
    times = np.asarray(times, dtype=float)
    shares = np.asarray(shares, dtype=float)
    if family == "bass":
        bass = fit_bass_offset(times, shares, start=start.params["fit"] if start else None)
        return CurveFit(
            "bass",
            {"p": bass.p, "q": bass.q, "m": bass.m, "launch": bass.launch, "fit": bass},
            bass.rmse,
            bass.predict,
        )
    if family not in SHAPES:
        raise ValueError(f"unknown family {family!r}; one of {FAMILIES}")
    return _fit_shape(family, times, shares, start)


def _fit_shape(
    family: str, times: np.ndarray, shares: np.ndarray, start: CurveFit | None
) -> CurveFit:
    from scipy.optimize import least_squares

    shape = SHAPES[family]
    span = float(times[-1] - times[0])
    lookback = max(MIN_LOOKBACK, 2.0 * span)
    lower = np.array([M_BOUNDS[0], K_BOUNDS[0], times[0] - lookback])
    upper = np.array([M_BOUNDS[1], K_BOUNDS[1], times[-1] + lookback])

    def residuals(theta: np.ndarray) -> np.ndarray:
        return shape(times, *theta) - shares

    if start is not None:
        guesses = [np.array([start.params["m"], start.params["k"], start.params["t_mid"]])]
    else:
        guesses = _guesses(family, times, shares)
    best = None
    for guess in guesses:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = least_squares(
                residuals, np.clip(guess, lower, upper), bounds=(lower, upper), max_nfev=200
            )
        if np.all(np.isfinite(result.fun)) and (best is None or result.cost < best.cost):
            best = result
    assert best is not None
    m, k, mid = (float(v) for v in best.x)
    rmse = float(np.sqrt(np.mean(best.fun**2)))
    return CurveFit(
        family, {"m": m, "k": k, "t_mid": mid}, rmse, lambda t: shape(np.asarray(t), m, k, mid)
    )


def _guesses(family: str, times: np.ndarray, shares: np.ndarray) -> list[np.ndarray]:
    """Starting points over m and k, each curve put through the first point."""
    top = max(float(shares.max()), 1e-3)
    guesses = []
    for m_factor in M_STARTS:
        m = min(top * m_factor, M_BOUNDS[1])
        level = min(max(float(shares[0]) / m, 0.02), 0.95)
        for k in K_STARTS:
            if family == "logistic":
                mid = times[0] + np.log(1.0 / level - 1.0) / k
            else:
                mid = times[0] + np.log(-np.log(level)) / k
            guesses.append(np.array([m, k, mid]))
    return guesses


def bootstrap_draws(
    family: str,
    times: np.ndarray,
    shares: np.ndarray,
    at: np.ndarray,
    *,
    seed: int,
    draws: int | None = None,
) -> np.ndarray:
    """``draws`` forecasts (rows) of the observed share at ``at`` by residual bootstrap
    of ``family`` fitted to (times, shares) (``draws`` None: BOOTSTRAP): a curve plus
    a residual, not clipped, like the model's predictive."""
    draws = BOOTSTRAP if draws is None else draws
    times = np.asarray(times, dtype=float)
    shares = np.clip(np.asarray(shares, dtype=float), 0.0, 1.0)
    at = np.asarray(at, dtype=float)
    fit = fit_curve(family, times, shares)
    fitted = fit.predict(times)
    residuals = shares - fitted
    residuals = residuals - residuals.mean()
    rng = np.random.default_rng(seed)
    out = np.empty((draws, at.size))
    for b in range(draws):
        again = np.clip(fitted + rng.choice(residuals, residuals.size), 0.0, 1.0)
        refit = fit_curve(family, times, again, start=fit)
        out[b] = refit.predict(at) + rng.choice(residuals, at.size)
    return out


def forecast_scores(
    draws: np.ndarray,
    weights: np.ndarray | None,
    point: np.ndarray,
    observed: np.ndarray,
    fitted: np.ndarray,
) -> dict[str, float]:
    """Scores of a forecast at the observed points (``fitted`` marks the points it was
    fitted on): RMSE of the ``point`` forecast in and out of sample, CRPS of the draws
    out of sample, and the coverage of their 50 % and 90 % bands in and out."""
    from .predict import weighted_quantiles

    w = np.ones(draws.shape[0]) if weights is None else weights
    q05, q25, q75, q95 = weighted_quantiles(draws, w, (0.05, 0.25, 0.75, 0.95))
    held = ~fitted
    scores = {
        "rmse_in": rmse(point[fitted], observed[fitted]),
        "rmse_out": rmse(point[held], observed[held]),
        "crps_out": float(np.mean(crps(draws[:, held], w, observed[held])))
        if held.any()
        else float("nan"),
    }
    for part, mask in (("in", fitted), ("out", held)):
        scores[f"coverage50_{part}"] = coverage(q25[mask], q75[mask], observed[mask])
        scores[f"coverage90_{part}"] = coverage(q05[mask], q95[mask], observed[mask])
    return scores
