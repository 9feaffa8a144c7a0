"""The customer psychology as small pure functions.

Every function works on Python scalars and NumPy arrays alike (broadcasting), so the
same code reads well in class and runs vectorized in a sweep.

Sources: the value function and its defaults come from prospect theory
(Kahneman & Tversky 1979; Tversky & Kahneman 1992: alpha = beta = 0.88,
lambda = 2.25). The trust rule applies the same asymmetric value function to the
surprise between delivered and claimed quality, so that trust is lost faster than
it is won (Slovic 1993, "trust asymmetry").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "adoption_probability",
    "grow_trust",
    "prospect_value",
    "update_trust",
    "value",
]


def _unwrap(result: np.ndarray) -> float | np.ndarray:
    """Return a Python float for 0-d results, the array otherwise."""
    return float(result) if np.ndim(result) == 0 else result


def _power(magnitude: np.ndarray, exponent: float) -> np.ndarray:
    """``magnitude**exponent`` for magnitudes (>= 0), zeros raised apart.

    NumPy's vectorized ``pow`` (SVML on AVX-512 machines) leaves its fast path for
    every block of values that holds an exact 0, and a third of the offers in a step
    have no gains, which makes the power three times slower. So the zeros of a
    contiguous array are raised as ones and multiplied back by ``sign(0) = 0``: the
    same vectorized path, every element bit-identical to ``magnitude**exponent``
    (but for the sign of a zero given as -0.0).
    """
    if (
        magnitude.ndim == 0
        or not magnitude.flags.c_contiguous
        or magnitude.size == 0
        or magnitude.min() != 0
    ):
        return np.power(magnitude, exponent)
    positive = np.sign(magnitude)  # 0 or 1
    raised = 1.0 - positive
    raised += magnitude  # the magnitude, or 1 where it is 0
    np.power(raised, exponent, out=raised)
    raised *= positive
    return raised


def value(
    x: ArrayLike,
    loss_aversion: ArrayLike = 2.25,
    alpha: float = 0.88,
    beta: float = 0.88,
) -> float | np.ndarray:
    """Prospect-theory value of an outcome ``x`` relative to the reference point.

    ``v(x) = x**alpha`` for gains and ``-loss_aversion * (-x)**beta`` for losses, with
    its kink at 0 (Tversky & Kahneman 1992).
    """
    x = np.asarray(x, dtype=float)
    magnitude = np.abs(x)
    gains = _power(magnitude, alpha)
    losses = -np.asarray(loss_aversion, dtype=float) * (
        gains if beta == alpha else _power(magnitude, beta)
    )
    return _unwrap(np.where(x >= 0.0, gains, losses))


def prospect_value(
    gains: ArrayLike,
    losses: ArrayLike,
    trust: ArrayLike = 1.0,
    loss_aversion: ArrayLike = 2.25,
    alpha: float = 0.88,
    beta: float = 0.88,
) -> float | np.ndarray:
    """Value of an offer split into (non-negative) gains and losses.

    ``V = trust * gains**alpha - loss_aversion * losses**beta``: promised gains are
    uncertain and weighted by trust in the firm; losses are certain.
    """
    gains = np.asarray(gains, dtype=float)
    losses = np.asarray(losses, dtype=float)
    if gains.min(initial=0.0) < 0 or losses.min(initial=0.0) < 0:  # NaN passes, as any(x < 0)
        raise ValueError("gains and losses are magnitudes and must be >= 0")
    trust = np.asarray(trust, dtype=float)
    loss_aversion = np.asarray(loss_aversion, dtype=float)
    gained, lost = _power(gains, alpha), _power(losses, beta)
    shape = np.broadcast_shapes(gained.shape, lost.shape, trust.shape, loss_aversion.shape)
    if gained.shape == lost.shape == shape and gained.ndim:
        # one offer per element (the model's case): the same operations, in place
        gained *= trust
        lost *= loss_aversion
        gained -= lost
        return gained
    result = trust * gained - loss_aversion * lost
    return _unwrap(result)


def adoption_probability(v: ArrayLike, temperature: float = 0.02) -> float | np.ndarray:
    """Probability of adopting an offer of value ``v``: ``1 / (1 + exp(-v / temperature))``.

    ``temperature = 0`` is the deterministic rule: adopt exactly when ``v > 0``.
    Computed as ``(1 + tanh(v / 2T)) / 2``, which never overflows.
    """
    v = np.asarray(v, dtype=float)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return _unwrap((v > 0).astype(float))
    # 0.5 * (1 + tanh(v / 2T)), in place on one new array
    chance = np.divide(v, 2.0 * temperature, out=np.empty_like(v))
    np.tanh(chance, out=chance)
    chance += 1.0
    chance *= 0.5
    return _unwrap(chance)


def update_trust(
    trust: ArrayLike,
    surprise: ArrayLike,
    loss_aversion: ArrayLike = 2.25,
    rate: float = 0.3,
    alpha: float = 0.88,
    beta: float = 0.88,
) -> float | np.ndarray:
    """Trust after experiencing ``surprise = true quality - claimed quality``.

    ``T <- clip(T + rate * v(surprise), 0, 1)`` with the prospect-theory value function,
    so a disappointment moves trust ``loss_aversion`` times as far as an equally large
    pleasant surprise (before clipping, when alpha = beta).
    """
    moved = np.asarray(trust, dtype=float) + rate * np.asarray(
        value(surprise, loss_aversion, alpha, beta)
    )
    return _unwrap(np.clip(moved, 0.0, 1.0))


def grow_trust(trust: ArrayLike, rate: float = 0.01) -> float | np.ndarray:
    """One step of a co-creator's trust growth: ``T <- T + rate * (1 - T)``."""
    trust = np.asarray(trust, dtype=float)
    return _unwrap(trust + rate * (1.0 - trust))
