"""The observation-error model: what lies between a simulated curve and the data.

    observed share at t_i = simulated share at t_i (its launch placed) + e_i

with e Gaussian, standard deviation ``sigma`` (the fitted key ``observation.noise``)
and correlation ``rho ** |t_i - t_j|`` between two points (``observation.
autocorrelation``; 0: independent): an Ornstein-Uhlenbeck process read at the data's
times, so gaps and uneven spacing need nothing special. The term holds measurement
error and the scenario's misfit alike: a real series is not a draw of this market, and
without the term the predictive band holds only the parameters' uncertainty and the
market's randomness (it covered 42 % of held-out points where it claimed 90 %).

Calibration uses the density of this noise as the acceptance kernel of ABC
(Wilkinson 2013: ABC then gives exact results under the assumption of model error);
see :mod:`.tempering`. The launch (the time of the curve's step 0) is integrated out
under its uniform prior (the first observation 0 to ``lead`` periods after it): the
likelihood of one simulated curve is the integral over launch times of the density of
the data given the curve placed there, by quadrature on whole steps and on a fine grid
(FINE_STEP) around the best one. A particle's launch is then drawn from that
integrand.

Whether the noise is autocorrelated is decided from the data when not given: the
residuals of a Bass fit to the fitted points are tested for lag-1 autocorrelation
(:func:`residual_autocorrelation`); real series nearly always show it, because their
misfit to any smooth curve runs in long waves, not independent steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .simulate import FINE_STEP, interpolate

__all__ = [
    "Autocorrelation",
    "LaunchQuadrature",
    "conditional_noise",
    "fresh_noise",
    "launch_quadrature",
    "residual_autocorrelation",
]

#: Half-width (steps) of the fine quadrature around the best whole-step offset.
FINE_HALF_WIDTH = 1.5
#: One-sided 5 % normal quantile: lag-1 autocorrelation above 1.645 / sqrt(n) is
#: evidence against independent noise.
Z_05 = 1.645


@dataclass(frozen=True)
class LaunchQuadrature:
    """Nodes (launch offsets of the reference time, in steps) and the log of each
    node's likelihood times its cell width; their log-sum-exp is the log-likelihood of
    the curve with the launch integrated out."""

    reference: float  # time of the first observation
    offsets: np.ndarray
    log_terms: np.ndarray
    widths: np.ndarray

    @property
    def log_likelihood(self) -> float:
        top = float(self.log_terms.max())
        return top + float(np.log(np.exp(self.log_terms - top).sum()))

    def draw_launch(self, rng: np.random.Generator) -> float:
        """A launch time drawn from the integrand: a node by its weight, then a uniform
        position within its cell."""
        weights = np.exp(self.log_terms - self.log_terms.max())
        node = int(rng.choice(weights.size, p=weights / weights.sum()))
        offset = self.offsets[node] + (rng.random() - 0.5) * self.widths[node]
        return float(self.reference - offset)


def _log_density(residuals: np.ndarray, dt: np.ndarray, sigma: float, rho: float) -> np.ndarray:
    """Log density of Ornstein-Uhlenbeck noise (sd ``sigma``, correlation ``rho`` per
    unit time) for each row of ``residuals`` (rows x points, points spaced ``dt``)."""
    phi = rho**dt if rho > 0 else np.zeros_like(dt)
    var = sigma**2 * (1.0 - phi**2)
    innovations = residuals[:, 1:] - phi * residuals[:, :-1]
    squares = residuals[:, 0] ** 2 / sigma**2 + (innovations**2 / var).sum(axis=1)
    log_det = np.log(2 * np.pi * sigma**2) + np.log(2 * np.pi * var).sum()
    return -0.5 * (squares + log_det)


def launch_quadrature(
    curve: np.ndarray,
    times: np.ndarray,
    shares: np.ndarray,
    sigma: float,
    rho: float,
    lead: float,
) -> LaunchQuadrature:
    """The likelihood of (``times``, ``shares``) given ``curve`` at every launch node.

    The launch's prior is uniform: the first observation lies 0 to ``lead`` steps after
    it (the offset, its step on the curve). Nodes: every whole offset, then FINE_STEP
    steps within FINE_HALF_WIDTH of the best one; each node's term is its likelihood
    times its width (the prior's constant density left out).
    """
    times = np.asarray(times, dtype=float)
    shares = np.asarray(shares, dtype=float)
    elapsed = times - times[0]
    if curve.size - 1 < lead + elapsed[-1] - 1e-9:
        raise ValueError("the simulated curve does not cover the observed times")
    dt = np.diff(times)

    def log_density(offsets: np.ndarray) -> np.ndarray:
        predicted = interpolate(curve, offsets[:, None] + elapsed[None, :])
        return _log_density(shares[None, :] - predicted, dt, sigma, rho)

    coarse = np.arange(0.0, np.floor(lead) + 1.0)
    coarse_terms = log_density(coarse)
    best = coarse[int(np.argmax(coarse_terms))]
    low, high = max(best - FINE_HALF_WIDTH, 0.0), min(best + FINE_HALF_WIDTH, lead)
    fine = np.arange(low + FINE_STEP / 2, high, FINE_STEP)
    outside = (coarse < low) | (coarse > high)
    offsets = np.concatenate([coarse[outside], fine])
    widths = np.concatenate([np.ones(int(outside.sum())), np.full(fine.size, FINE_STEP)])
    terms = np.concatenate([coarse_terms[outside], log_density(fine)]) + np.log(widths)
    return LaunchQuadrature(float(times[0]), offsets, terms, widths)


def fresh_noise(
    times: np.ndarray, sigma: float, rho: float, rng: np.random.Generator, size: int
) -> np.ndarray:
    """``size`` draws (rows) of the noise at ``times``, started from its stationary law."""
    return conditional_noise(times, None, 0.0, sigma, rho, rng, size)


def conditional_noise(
    times: np.ndarray,
    after: float | None,
    known: float | np.ndarray,
    sigma: float,
    rho: float,
    rng: np.random.Generator,
    size: int,
) -> np.ndarray:
    """``size`` draws of the noise at ``times`` given its value ``known`` at time
    ``after`` (None: nothing known, the stationary law). Times increasing."""
    times = np.asarray(times, dtype=float)
    out = np.empty((size, times.size))
    previous = np.broadcast_to(np.asarray(known, dtype=float), (size,)).copy()
    last = after
    for i, time in enumerate(times):
        phi = 0.0 if last is None or rho <= 0 else rho ** (time - last)
        z = rng.standard_normal(size)
        out[:, i] = phi * previous + sigma * np.sqrt(1.0 - phi**2) * z
        previous, last = out[:, i], time
    return out


@dataclass(frozen=True)
class Autocorrelation:
    """Lag-1 autocorrelation of residuals against what independent noise would give."""

    lag1: float
    threshold: float
    points: int

    @property
    def significant(self) -> bool:
        return self.lag1 > self.threshold

    def sentence(self) -> str:
        verdict = (
            "so the noise is fitted as autocorrelated (AR(1))"
            if self.significant
            else "so the noise is fitted as independent"
        )
        return (
            f"the residuals of a Bass fit to the fitted points have lag-1 autocorrelation "
            f"{self.lag1:.2f} ({self.points} points; independent noise exceeds "
            f"{self.threshold:.2f} in 5 % of series), {verdict}"
        )


def residual_autocorrelation(residuals: np.ndarray) -> Autocorrelation:
    """Lag-1 autocorrelation of ``residuals`` (in time order) and the one-sided 5 %
    threshold 1.645 / sqrt(n) for independent noise."""
    r = np.asarray(residuals, dtype=float)
    r = r - r.mean()
    denominator = float(np.sum(r**2))
    lag1 = float(np.sum(r[1:] * r[:-1]) / denominator) if denominator > 0 else 0.0
    return Autocorrelation(lag1, Z_05 / np.sqrt(r.size), int(r.size))
