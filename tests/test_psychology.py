"""The value function, choice rule and trust update as pure functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.psychology import (
    adoption_probability,
    grow_trust,
    prospect_value,
    update_trust,
    value,
)


def test_value_function_has_a_kink_at_zero() -> None:
    eps = 1e-6
    left = (value(0.0) - value(-eps)) / eps
    right = (value(eps) - value(0.0)) / eps
    assert value(0.0) == 0.0
    assert left > 2 * right  # losses loom larger: the slope jumps at the reference point


def test_value_function_matches_tversky_kahneman() -> None:
    assert value(1.0) == pytest.approx(1.0)
    assert value(-1.0) == pytest.approx(-2.25)
    assert value(0.5, alpha=0.88) == pytest.approx(0.5**0.88)
    assert value(-0.5, loss_aversion=3.0, beta=0.7) == pytest.approx(-3.0 * 0.5**0.7)


def test_functions_work_on_scalars_and_arrays_alike() -> None:
    xs = np.array([-0.2, 0.0, 0.3])
    assert isinstance(value(0.3), float)
    np.testing.assert_allclose(value(xs), [value(x) for x in xs])
    lam = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(
        prospect_value(0.2, 0.1, 0.8, lam), [prospect_value(0.2, 0.1, 0.8, x) for x in lam]
    )
    np.testing.assert_allclose(update_trust(0.5, xs, 2.0), [update_trust(0.5, x, 2.0) for x in xs])


def test_prospect_value_rejects_negative_magnitudes() -> None:
    with pytest.raises(ValueError, match="magnitudes"):
        prospect_value(-0.1, 0.1)


def test_adoption_probability_is_logistic_and_deterministic_at_zero_temperature() -> None:
    assert adoption_probability(0.0, 0.02) == pytest.approx(0.5)
    assert adoption_probability(0.02, 0.02) == pytest.approx(1 / (1 + np.exp(-1)))
    assert adoption_probability(1e6, 0.02) == 1.0  # no overflow
    assert adoption_probability(-1e6, 0.02) == 0.0
    np.testing.assert_array_equal(
        adoption_probability(np.array([-1e-9, 0.0, 1e-9]), 0.0), [0.0, 0.0, 1.0]
    )


@given(
    gain=st.floats(0.0, 5.0),
    loss=st.floats(0.0, 5.0),
    lam=st.floats(0.1, 10.0),
)
def test_break_even_is_lambda(gain: float, loss: float, lam: float) -> None:
    """MODEL.md behaviour 2 (function level): with alpha = beta = 1, T = 1, tau = 0 a
    customer adopts exactly when G > lambda * L. Exact up to floating point, so cases
    within 1e-9 of the boundary are not judged."""
    v = prospect_value(gain, loss, 1.0, lam, alpha=1.0, beta=1.0)
    adopts = adoption_probability(v, 0.0) == 1.0
    if abs(gain - lam * loss) > 1e-9:
        assert adopts == (gain > lam * loss)


@given(surprise=st.floats(1e-4, 0.5), lam=st.floats(0.5, 5.0))
def test_disappointment_moves_trust_lambda_times_more(surprise: float, lam: float) -> None:
    """MODEL.md behaviour 5: with alpha = beta the trust lost to a disappointment is
    exactly lambda times the trust won from an equal pleasant surprise (mid-range trust,
    a small rate, so no clipping)."""
    start, rate = 0.5, 0.05
    up = update_trust(start, surprise, lam, rate, 0.88, 0.88) - start
    down = start - update_trust(start, -surprise, lam, rate, 0.88, 0.88)
    assert up > 0
    assert down == pytest.approx(lam * up, rel=1e-9)


def test_trust_stays_in_unit_interval() -> None:
    assert update_trust(0.99, 10.0) == 1.0
    assert update_trust(0.01, -10.0) == 0.0
    assert grow_trust(0.5, 0.01) == pytest.approx(0.505)
    assert grow_trust(1.0, 0.5) == 1.0
