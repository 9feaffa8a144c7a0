"""ABC with the observation-error density as its acceptance kernel, tempered to 1.

Wilkinson (2013) showed that ABC gives exact results under the assumption of model
error when a simulated curve is accepted with probability ``pi(data | curve) / c``,
``pi`` being the density of that error (:mod:`.observation`). pyabc implements this as
its StochasticAcceptor; the acceptance is tempered, ``(pi / c) ** (1 / T)``, and the
temperature T lowered generation by generation to 1, where the weighted population
is a sample of the exact posterior of the fitted keys (the noise's included) given
the data, for this model plus that noise. A simulated curve whose density exceeds c
is accepted and weighted up by the excess (rejection control), so any c is correct;
c only trades acceptances against the spread of the weights.

Everything here is computed from the previous population alone (its particles'
log-densities and weights), never from state kept in memory, so a calibration resumed
from its stored history continues exactly as an uninterrupted one:

- **c** (:class:`PdfNorm`): the weighted NORM_QUANTILE quantile of the previous
  population's log-densities.
- **T** (:class:`Tempering`): for the first generation (proposals from the prior, whose
  sample is exact) the temperature at which the expected acceptance rate is
  FIRST_RATE; then the adaptive rule of SMC samplers: the lowest T >= 1 at which
  reweighting the previous population from its temperature to T keeps a conditional
  effective sample size (Zhou, Johansen & Aston 2016) of ESS_KEPT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pyabc.distance import SCALE_LOG, StochasticKernel
from pyabc.epsilon import TemperatureBase
from scipy.optimize import brentq

from .observation import launch_quadrature
from .priors import AUTOCORRELATION, NOISE, FitKey, decoded, is_observation

__all__ = ["CurveKernel", "PdfNorm", "Tempering", "expected_rate", "norm_of"]

#: Expected acceptance rate of the first generation (it fixes its cost: about
#: population / FIRST_RATE simulations, which the smallest budget must allow).
FIRST_RATE = 0.5
#: Conditional effective sample size (a share) kept from one temperature to the next.
ESS_KEPT = 0.5
#: The acceptance normaliser c: this weighted quantile of the previous log-densities.
NORM_QUANTILE = 0.75
#: Highest temperature tried.
MAX_TEMPERATURE = 1e8


class CurveKernel(StochasticKernel):
    """Log-density of the observed points given a simulated curve, the launch
    integrated out (:func:`.observation.launch_quadrature`); the noise's sd and
    correlation are the particle's own fitted values (correlation 0 if not fitted)."""

    def __init__(
        self, times: np.ndarray, shares: np.ndarray, lead: float, keys: Sequence[FitKey]
    ) -> None:
        super().__init__(ret_scale=SCALE_LOG, keys=["curve"], pdf_max=None)
        self.times = np.asarray(times, dtype=float)
        self.shares = np.asarray(shares, dtype=float)
        self.lead = float(lead)
        #: The observation model's fitted keys, whose sampled values the kernel decodes.
        self.noise_keys = tuple(k for k in keys if is_observation(k.key))

    def __call__(
        self,
        x: Mapping[str, Any],
        x_0: Mapping[str, Any],
        t: int | None = None,
        par: Mapping[str, float] | None = None,
    ) -> float:
        assert par is not None
        noise = decoded(self.noise_keys, par)
        sigma, rho = noise[NOISE], noise.get(AUTOCORRELATION, 0.0)
        curve = np.asarray(x["curve"], dtype=float)
        quadrature = launch_quadrature(curve, self.times, self.shares, sigma, rho, self.lead)
        return quadrature.log_likelihood


def _weighted(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Log-densities and normalised weights of a population's weighted distances."""
    values = frame["distance"].to_numpy(dtype=float)
    weights = frame["w"].to_numpy(dtype=float)
    return values, weights / weights.sum()


def norm_of(values: np.ndarray, weights: np.ndarray) -> float:
    """c for the next generation: the weighted NORM_QUANTILE quantile of the previous
    population's log-densities."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order] / weights.sum())
    index = int(np.searchsorted(cumulative, NORM_QUANTILE))
    return float(values[order][min(index, values.size - 1)])


class PdfNorm:
    """pyabc's hook for c: :func:`norm_of` the previous population."""

    def __call__(self, get_weighted_distances: Callable[[], pd.DataFrame], **_: Any) -> float:
        return norm_of(*_weighted(get_weighted_distances()))


def expected_rate(values: np.ndarray, weights: np.ndarray, before: float | None) -> float:
    """The acceptance rate the next generation would have if its proposals were the
    previous population (log-densities ``values``, weights, at temperature ``before``;
    None: the prior sample), reweighted to the next temperature, against the next c.
    Fresh proposals fare worse (they are not survivors); :mod:`.abc` scales this by how
    far the last generation fell short of its own expectation."""
    norm = norm_of(values, weights)
    if before is None:
        temperature = first_temperature(values, norm)
        reweighted = np.ones_like(values)
    else:
        temperature = next_temperature(values, weights, before)
        exponent = (values - values.max()) * (1.0 / temperature - 1.0 / before)
        reweighted = weights * np.exp(exponent - exponent.max())
    reweighted = reweighted / reweighted.sum()
    accept = np.minimum(1.0, np.exp(np.minimum((values - norm) / temperature, 0.0)))
    return float(np.sum(reweighted * accept))


def _ess(weights: np.ndarray) -> float:
    w = weights / weights.sum()
    return float(1.0 / np.sum(w**2))


class Tempering(TemperatureBase):
    """The temperature of each generation, from the previous population (see module).

    ``previous`` holds the temperatures of the stored generations (their epsilon in
    pyabc's history), so that a resumed calibration knows where it was.
    """

    def __init__(self, previous: Mapping[int, float] | None = None) -> None:
        super().__init__()
        self.temperatures: dict[int, float] = dict(previous or {})

    def initialize(
        self,
        t: int,
        get_weighted_distances: Callable[[], pd.DataFrame],
        get_all_records: Callable[[], list[dict]],
        max_nr_populations: int,
        acceptor_config: dict,
    ) -> None:
        self._set(t, get_weighted_distances(), float(acceptor_config["pdf_norm"]))

    def update(
        self,
        t: int,
        get_weighted_distances: Callable[[], pd.DataFrame],
        get_all_records: Callable[[], list[dict]],
        acceptance_rate: float,
        acceptor_config: dict,
    ) -> None:
        self._set(t, get_weighted_distances(), float(acceptor_config["pdf_norm"]))

    def __call__(self, t: int) -> float:
        return self.temperatures[t]

    def _set(self, t: int, frame: pd.DataFrame, norm: float) -> None:
        values, weights = _weighted(frame)
        before = self.temperatures.get(t - 1)
        if before is None:
            self.temperatures[t] = first_temperature(values, norm)
        else:
            self.temperatures[t] = next_temperature(values, weights, before)


def first_temperature(values: np.ndarray, norm: float) -> float:
    """T at which the mean acceptance probability of the prior sample is FIRST_RATE."""

    def rate(log_t: float) -> float:
        return float(np.mean(np.minimum(1.0, np.exp((values - norm) / np.exp(log_t)))))

    if rate(0.0) >= FIRST_RATE:
        return 1.0
    high = np.log(MAX_TEMPERATURE)
    if rate(high) < FIRST_RATE:
        return MAX_TEMPERATURE
    return float(np.exp(brentq(lambda x: rate(x) - FIRST_RATE, 0.0, high, xtol=1e-6)))


def next_temperature(values: np.ndarray, weights: np.ndarray, before: float) -> float:
    """The lowest T in [1, before] at which reweighting the population from ``before``
    to T keeps a conditional effective sample size of ESS_KEPT (Zhou, Johansen & Aston
    2016): (sum W v)^2 / sum W v^2 with W the normalised weights and v the incremental
    weights. Unlike the plain ESS it measures only what the step loses, so a population
    already uneven does not license a leap."""
    if before <= 1.0:
        return 1.0
    w = weights / weights.sum()
    centred = values - values.max()

    def kept(log_t: float) -> float:
        exponent = centred * (1.0 / np.exp(log_t) - 1.0 / before)
        v = np.exp(exponent - exponent.max())
        return float(np.sum(w * v) ** 2 / np.sum(w * v**2)) - ESS_KEPT

    if kept(0.0) >= 0:
        return 1.0
    return float(np.exp(brentq(kept, 0.0, np.log(before), xtol=1e-6)))
