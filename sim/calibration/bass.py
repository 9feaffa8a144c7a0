"""Bass (1969) fits of an observed series that starts mid-way: the benchmark for the model.

Real series rarely start at launch (colour TV enters the data at 10 % of households), so
the fit has a fourth parameter besides p, q and m: the launch time ``t0`` in the
series' own time unit, counted from its first observation. The curve is

    share(t) = m F(t - start - t0; p, q),   F = sim.analysis.bass_curve, F(x < 0) = 0,

with ``start`` the first observed time; ``t0 < 0`` means the innovation was launched
``-t0`` periods before the data begin. ``m`` is a ceiling share in (0, 1].

The solver works on (p, q, m, t_half) instead, ``t_half`` being the time from the first
observation at which the curve reaches m / 2, and t0 = t_half - ln(2 + q/p) / (p + q).
Both describe the same curves, but for a series seen only from mid-way the data pin
down *when* it crosses half its ceiling far better than *when* it started: with
(p, t0) the least-squares surface has a long flat valley (small p with an early launch
fits as well as a larger p with a later one) that the solver crawls along for hundreds
of evaluations; with t_half it converges in a few dozen. When the fitted p sits at its
lower bound the series looks logistic: q, m and t_half are determined, p and t0 are
not (``at_bounds`` says so).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from ..analysis import bass_curve
from ..errors import InputError
from .data import MIN_POINTS

__all__ = ["BassFit", "HoldoutScore", "bass_share", "fit_bass_offset", "holdout_rmse"]

P_BOUNDS = (1e-6, 1.0)
Q_BOUNDS = (0.0, 5.0)
M_BOUNDS = (1e-6, 1.0)
MIN_LOOKBACK = 100.0  # t_half may lie max(100, 2 x span) periods beyond either end
P_STARTS = (0.002, 0.02, 0.1)
Q_STARTS = (0.1, 0.35, 1.0)
M_STARTS = (1.02, 1.3)  # times the largest observed share, capped at 1
REFINED = 3  # starting points refined by least squares, the best by initial error
PARAMETERS = ("p", "q", "m", "t_half")  # what the solver varies
TOLERANCE = 1e-10  # ftol, xtol and gtol of least_squares
MAX_EVALUATIONS = 150  # per refined start; real series need about 10-40


@dataclass(frozen=True)
class BassFit:
    """A fitted Bass curve with a launch offset; ``predict`` gives shares at any times."""

    p: float
    q: float
    m: float
    t0: float
    t_half: float
    start: float
    rmse: float
    n_points: int
    converged: bool
    at_bounds: tuple[str, ...] = ()
    message: str = ""

    @property
    def launch(self) -> float:
        """The fitted launch time in the data's time unit (``start + t0``)."""
        return self.start + self.t0

    def predict(self, times: np.ndarray | float) -> np.ndarray:
        """Predicted share adopted at ``times`` (0 before the launch)."""
        elapsed = np.asarray(times, dtype=float) - self.start
        return bass_share(elapsed, self.p, self.q, self.m, self.t0)

    def to_dict(self) -> dict[str, float | int | bool | str]:
        """Parameters and diagnostics, for tables and manifests."""
        return asdict(self) | {"launch": self.launch}


class HoldoutScore(NamedTuple):
    """Errors of a Bass fit on all but the last k points, in and out of the sample."""

    rmse_in: float
    rmse_out: float
    fit: BassFit


def bass_share(elapsed: np.ndarray | float, p: float, q: float, m: float, t0: float) -> np.ndarray:
    """``m F(elapsed - t0; p, q)``, zero before ``t0``; ``elapsed`` counts from the first point."""
    since_launch = np.maximum(np.asarray(elapsed, dtype=float) - t0, 0.0)
    return bass_curve(since_launch, p, q, m)


def fit_bass_offset(
    times: np.ndarray, shares: np.ndarray, *, start: BassFit | None = None
) -> BassFit:
    """Least-squares Bass fit of p, q, m and the launch offset t0 to one observed series.

    ``times`` strictly increasing (any unit: years, periods; gaps allowed), ``shares`` in
    [0, 1], at least MIN_POINTS of them. Bounded: p in [1e-6, 1], q in [0, 5], m in
    (0, 1], the half-way time within max(100, 2 x span) periods of the data. 18
    starting points are screened and the best three refined with
    ``scipy.optimize.least_squares`` (analytic Jacobian, at most 150 evaluations each);
    the fit with the lowest error is returned, ``converged`` False if its solver did
    not report success (typically: the budget ran out on a flat error surface).
    ``start``: a fit of similar points (a bootstrap's original) to start from alone.
    """
    from scipy.optimize import least_squares

    t, y = _checked(times, shares)
    elapsed = t - t[0]
    span = float(elapsed[-1])
    lookback = max(MIN_LOOKBACK, 2.0 * span)
    lower = np.array([P_BOUNDS[0], Q_BOUNDS[0], M_BOUNDS[0], -lookback])
    upper = np.array([P_BOUNDS[1], Q_BOUNDS[1], M_BOUNDS[1], span + lookback])

    def residuals(theta: np.ndarray) -> np.ndarray:
        p, q, m, t_half = theta
        return bass_share(elapsed, p, q, m, t_half - _time_to_reach(0.5, p, q)) - y

    if start is not None:
        guesses = [np.array([start.p, start.q, start.m, start.t_half + start.start - t[0]])]
    else:
        guesses = _starting_points(y)
    starts = [np.clip(theta, lower, upper) for theta in guesses]
    initial = np.array([np.sum(residuals(theta) ** 2) for theta in starts])
    best = None
    for index in np.argsort(initial)[:REFINED]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = least_squares(
                residuals,
                starts[index],
                jac=lambda theta: _jacobian(theta, elapsed),
                bounds=(lower, upper),
                x_scale="jac",
                ftol=TOLERANCE,
                xtol=TOLERANCE,
                gtol=TOLERANCE,
                max_nfev=MAX_EVALUATIONS,
            )
        if np.all(np.isfinite(result.fun)) and (best is None or result.cost < best.cost):
            best = result
    if best is None:  # pragma: no cover - residuals are finite everywhere inside the bounds
        theta, converged, message = starts[int(np.argmin(initial))], False, "no finite fit"
    else:
        theta, converged, message = best.x, bool(best.success), str(best.message)
    p, q, m, t_half = (float(v) for v in theta)
    at_bounds = tuple(
        name
        for name, value, low, high in zip(PARAMETERS, theta, lower, upper, strict=True)
        if np.isclose(value, low, rtol=1e-6, atol=1e-9) or np.isclose(value, high, rtol=1e-6)
    )
    return BassFit(
        p=p,
        q=q,
        m=m,
        t0=t_half - _time_to_reach(0.5, p, q),
        t_half=t_half,
        start=float(t[0]),
        rmse=float(np.sqrt(np.mean(residuals(theta) ** 2))),
        n_points=int(t.size),
        converged=converged,
        at_bounds=at_bounds,
        message=message,
    )


def holdout_rmse(times: np.ndarray, shares: np.ndarray, k: int) -> HoldoutScore:
    """Fit on all but the last ``k`` points; RMSE on the fitted points and on the last k."""
    t, y = _checked(times, shares)
    most = t.size - MIN_POINTS
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= most:
        raise InputError(
            "--holdout",
            k,
            f"an integer >= 1 and <= {most} (the series has {t.size} points "
            f"and a fit needs {MIN_POINTS})",
        )
    fit = fit_bass_offset(t[:-k], y[:-k])
    rmse_out = float(np.sqrt(np.mean((fit.predict(t[-k:]) - y[-k:]) ** 2)))
    return HoldoutScore(fit.rmse, rmse_out, fit)


def _checked(times: np.ndarray, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    y = np.asarray(shares, dtype=float)
    if t.ndim != 1 or t.shape != y.shape:
        raise InputError("times", t.shape, f"one-dimensional, the shape of shares {y.shape}")
    if t.size < MIN_POINTS:
        raise InputError("times", t.size, f"at least {MIN_POINTS} points")
    if not (np.isfinite(t).all() and np.isfinite(y).all()):
        raise InputError("shares", reason="expected finite times and shares (no NaN)")
    if np.any(np.diff(t) <= 0):
        raise InputError("times", reason="expected times strictly increasing")
    if y.min() < 0 or y.max() > 1:
        raise InputError("shares", (float(y.min()), float(y.max())), "shares in [0, 1]")
    return t, y


def _jacobian(theta: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
    """d share / d (p, q, m, t_half) at each elapsed time (rows), for least_squares.

    With r = q/p, e = exp(-(p+q) x), x = elapsed - t_half + h and h = ln(2 + r)/(p + q)
    the time from launch to m/2: F = (1 - e) / (1 + r e); nothing moves before launch.
    """
    p, q, m, t_half = theta
    ratio, total = q / p, p + q
    half = np.log(2.0 + ratio) / total
    x = elapsed - t_half + half
    launched = x > 0
    x = np.where(launched, x, 0.0)
    e = np.exp(-total * x)
    denominator = 1.0 + ratio * e
    dF_de = -(1.0 + ratio) / denominator**2
    dF_dratio = -(1.0 - e) * e / denominator**2
    dF_dx = np.where(launched, -total * e * dF_de, 0.0)
    dhalf_dp = -q / p**2 / (2.0 + ratio) / total - half / total
    dhalf_dq = 1.0 / p / (2.0 + ratio) / total - half / total
    jacobian = np.empty((elapsed.size, 4))
    jacobian[:, 0] = m * (-x * e * dF_de - q / p**2 * dF_dratio + dF_dx * dhalf_dp)
    jacobian[:, 1] = m * (-x * e * dF_de + dF_dratio / p + dF_dx * dhalf_dq)
    jacobian[:, 2] = (1.0 - e) / denominator
    jacobian[:, 3] = -m * dF_dx
    return jacobian


def _starting_points(y: np.ndarray) -> list[np.ndarray]:
    """A grid over p, q and m; each t_half puts the curve through the first observation."""
    top = max(float(y.max()), 1e-3)
    starts = []
    for m_factor in M_STARTS:
        m = min(top * m_factor, M_BOUNDS[1])
        reached = min(float(y[0]) / m, 0.95)
        for p in P_STARTS:
            for q in Q_STARTS:
                t_half = _time_to_reach(0.5, p, q) - _time_to_reach(reached, p, q)
                starts.append(np.array([p, q, m, t_half]))
    return starts


def _time_to_reach(level: float, p: float, q: float) -> float:
    """Time x at which F(x; p, q) with m = 1 reaches ``level`` in [0, 1) (the inverse of F)."""
    decay = (1.0 - level) / (1.0 + level * q / p)
    return float(-np.log(decay) / (p + q))
