"""Parameters to a simulated adoption curve, and that curve laid on the data's time grid.

One step of the model is one unit of the data's time column (a year for the shipped
series). The simulated *share adopted* is the share of customers who have left the
legacy product, step by step from the launch at step 0.

**The launch is fitted, not sampled.** Real series start mid-way (colour TV enters the
data at 10 %), so the launch time is unknown. For each simulated curve the launch is
the time that fits the observed points best (least squares; between steps the curve is
interpolated linearly, and it is 0 before the launch): the launch is profiled out of
the distance. Sampling it as a fourth ABC parameter would describe the same curves, but
the launch is tied to the other parameters (a small broadcast rate with an early
launch fits as well as a larger one with a later launch), a long narrow ridge that
costs ABC many rejected simulations, while for one simulated curve the best launch is
a cheap one-dimensional search. The launch lies no later than the first observation
with a positive share and at most MAX_LEAD steps before the curve reaches it.

A simulation stops early: it runs until its share reaches the first positive observed
share (or MAX_LEAD steps), then as many steps as the data span after that
observation, plus ``MARGIN``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model import InnovationModel
from .priors import FitKey, apply_values

__all__ = ["MARGIN", "MAX_LEAD", "Alignment", "CurveSimulator", "align", "interpolate", "shares_at"]

#: Steps a simulation may take to reach the first observed share (the launch lies at
#: most this many periods before the first observation).
MAX_LEAD = 100
#: Steps simulated beyond the last time needed, so that the best launch may lie a
#: little after the step where the curve reaches the first observed share.
MARGIN = 10
#: Resolution of the launch search after the best whole step (steps).
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


def align(curve: np.ndarray, times: np.ndarray, shares: np.ndarray) -> Alignment:
    """The launch time at which ``curve`` fits (``times``, ``shares``) best, and its RMSE.

    The reference is the first observation with a positive share. Its step on the
    curve (the offset) ranges over [0, the step where the curve first reaches that
    share + MARGIN] (MAX_LEAD + MARGIN if it never does), within what the curve covers
    to the last time: every whole step is tried, then the best is refined in steps of
    FINE_STEP. The window depends on the curve and the data only, not on how far the
    curve was simulated beyond them.
    """
    times = np.asarray(times, dtype=float)
    shares = np.asarray(shares, dtype=float)
    positive = np.flatnonzero(shares > 0)
    first = positive[0] if positive.size else 0
    reference, reach = times[first], shares[first]
    reached = np.flatnonzero(curve >= reach)
    crossing = reached[0] if reached.size else MAX_LEAD
    covered = float(curve.size - 1) - (times[-1] - reference)  # the curve reaches the end
    latest = min(float(crossing + MARGIN), covered)
    if latest < 0:
        raise ValueError("the simulated curve does not cover the observed times")
    elapsed = times - reference
    offsets = np.arange(0.0, np.floor(latest) + 1.0)
    best = offsets[int(np.argmin(_rmse(curve, elapsed, shares, offsets)))]
    fine = np.clip(np.arange(best - 1.0, best + 1.0 + FINE_STEP / 2, FINE_STEP), 0.0, latest)
    errors = _rmse(curve, elapsed, shares, fine)
    index = int(np.argmin(errors))
    return Alignment(launch=float(reference - fine[index]), rmse=float(errors[index]))


def _rmse(
    curve: np.ndarray, elapsed: np.ndarray, shares: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
    """RMSE against ``shares`` for each offset (the reference time's step on the curve)."""
    predicted = interpolate(curve, offsets[:, None] + elapsed[None, :])
    return np.sqrt(np.mean((predicted - shares[None, :]) ** 2, axis=1))


@dataclass(frozen=True)
class CurveSimulator:
    """Simulate the scenario with fitted values set: the share adopted per step.

    ``reach`` is the first positive observed share; ``after`` the steps to simulate
    once the curve has reached it (the span of the times to predict after that
    observation, plus MARGIN): :func:`align` then finds every launch it may try.
    Picklable: it travels to worker processes.
    """

    params: Mapping[str, Any]
    firms: tuple[Mapping[str, Any], ...]
    keys: tuple[FitKey, ...]
    reach: float
    after: int
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
        """Share adopted at steps 0, 1, ...: until it reaches ``reach`` (at most
        MAX_LEAD steps), then ``after + extra`` steps more. A longer curve (``extra``)
        starts with the same values: the model draws its random numbers step by step."""
        model = self.model(values, seed)
        legacy = model.datacollector.model_vars["share_legacy"]
        while 1.0 - legacy[-1] < self.reach and model.steps < MAX_LEAD:
            model.step()
        for _ in range(self.after + extra):
            model.step()
        return 1.0 - np.asarray(legacy, dtype=float)
