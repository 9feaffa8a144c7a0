"""Parameters to a simulated adoption curve, and that curve laid on the data's time grid.

One step of the model is one unit of the data's time column (a year for the shipped
series). The simulated *share adopted* is the share of customers who have left the
legacy product, step by step from the launch at step 0.

**The launch is not sampled.** Real series start mid-way (colour TV enters the data at
10 %), so the launch time is unknown. Its prior is uniform: the first observation lies
0 to ``lead`` periods (LEAD by default) after the launch. For each simulated curve the
launch is integrated out (:mod:`.observation`) or, without the noise model, the one
that fits best is taken (:func:`align`, least squares); between steps the curve is
interpolated linearly, and it is 0 before the launch. Sampling the launch as one more
ABC parameter would describe the same curves, but it is tied to the other parameters
(a small broadcast rate with an early launch fits as well as a larger one with a later
launch), a long narrow ridge that costs ABC many rejected simulations, while for one
simulated curve the launch is a cheap one-dimensional sum or search.

So every simulation runs ``lead`` steps plus the span of the observed times (held-out
points included): every launch the prior allows can be laid on every observed time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import InnovationModel
from .priors import FitKey, apply_values

__all__ = ["FINE_STEP", "LEAD", "Alignment", "CurveSimulator", "align", "interpolate", "shares_at"]

#: The launch's prior: the first observation lies 0 to this many periods after it.
LEAD = 40
#: Resolution of the launch after the best whole step (steps).
FINE_STEP = 0.02


@dataclass(frozen=True)
class Alignment:
    """Where a simulated curve fits a series best: its launch time and the error there."""

    launch: float  # time (in the data's unit) of the curve's step 0
    rmse: float


def shares_at(curve: np.ndarray, launch: float, times: np.ndarray) -> np.ndarray:
    """The curve's share at ``times`` for a launch at ``launch``: 0 before the launch,
    linear between steps, NaN beyond the curve's last step."""
    return interpolate(curve, np.asarray(times, dtype=float) - launch)


def interpolate(curve: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The curve at (fractional) step ``positions``: linear between steps, 0 before
    step 0, NaN beyond its last step."""
    last = curve.size - 1
    clipped = np.clip(positions, 0.0, last)
    below = np.minimum(np.floor(clipped).astype(np.int64), max(last - 1, 0))
    fraction = clipped - below
    upper = np.minimum(below + 1, last)
    values = curve[below] * (1.0 - fraction) + curve[upper] * fraction
    values = np.where(positions < 0, 0.0, values)
    return np.where(positions > last + 1e-9, np.nan, values)


def align(curve: np.ndarray, times: np.ndarray, shares: np.ndarray, lead: float) -> Alignment:
    """The launch at which ``curve`` fits (``times``, ``shares``) best, and its RMSE.

    The launch ranges over its prior: the first observation 0 to ``lead`` steps after
    it. Every whole step is tried, then the best is refined in steps of FINE_STEP.
    """
    times = np.asarray(times, dtype=float)
    shares = np.asarray(shares, dtype=float)
    elapsed = times - times[0]
    if curve.size - 1 < lead + elapsed[-1] - 1e-9:
        raise ValueError("the simulated curve does not cover the observed times")
    offsets = np.arange(0.0, np.floor(lead) + 1.0)
    best = offsets[int(np.argmin(_rmse(curve, elapsed, shares, offsets)))]
    fine = np.clip(np.arange(best - 1.0, best + 1.0 + FINE_STEP / 2, FINE_STEP), 0.0, lead)
    errors = _rmse(curve, elapsed, shares, fine)
    index = int(np.argmin(errors))
    return Alignment(launch=float(times[0] - fine[index]), rmse=float(errors[index]))


def _rmse(
    curve: np.ndarray, elapsed: np.ndarray, shares: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """RMSE against ``shares`` for each offset (the first observation's step on the curve)."""
    predicted = interpolate(curve, offsets[:, None] + elapsed[None, :])
    return np.sqrt(np.mean((predicted - shares[None, :]) ** 2, axis=1))


@dataclass(frozen=True)
class CurveSimulator:
    """Simulate the scenario with fitted values set: the share adopted per step, for
    ``steps`` steps (the launch's lead plus the span of the observed times).
    Picklable: it travels to worker processes.
    """

    params: Mapping[str, Any]
    firms: tuple[Mapping[str, Any], ...]
    keys: tuple[FitKey, ...]
    steps: int
    strategies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def model(self, values: Mapping[str, float], seed: int) -> InnovationModel:
        """The scenario's model with ``values`` of the fitted keys, before its first step."""
        params, firms, strategies = apply_values(
            self.params, [dict(f) for f in self.firms], self.keys, values, self.strategies
        )
        return InnovationModel.from_checked(
            params, firms, strategies, rng=seed, customer_agents=False
        )

    def curve(self, values: Mapping[str, float], seed: int, *, extra: int = 0) -> np.ndarray:
        """Share adopted at steps 0, 1, ..., ``steps + extra``. A longer curve (``extra``)
        starts with the same values: the model draws its random numbers step by step."""
        model = self.model(values, seed)
        for _ in range(self.steps + extra):
            model.step()
        return 1.0 - np.asarray(model.datacollector.model_vars["share_legacy"], dtype=float)
