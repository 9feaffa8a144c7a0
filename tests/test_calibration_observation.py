"""The observation-error model, the tempering rules and the forecast scores, checked
against brute force and closed forms (fast, no ABC run)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.calibration.baselines import bootstrap_draws, fit_curve
from sim.calibration.observation import (
    _log_density,
    conditional_noise,
    fresh_noise,
    launch_quadrature,
    residual_autocorrelation,
)
from sim.calibration.scoring import coverage, crps
from sim.calibration.tempering import (
    ESS_KEPT,
    FIRST_RATE,
    first_temperature,
    next_temperature,
)


def ou_covariance(times: np.ndarray, sigma: float, rho: float) -> np.ndarray:
    return sigma**2 * rho ** np.abs(times[:, None] - times[None, :])


@pytest.mark.parametrize("rho", [0.0, 0.4, 0.9])
def test_log_density_is_the_ornstein_uhlenbeck_gaussian_even_with_gaps(rho: float) -> None:
    times = np.array([0.0, 1.0, 2.0, 5.0, 5.5, 9.0])
    residuals = np.random.default_rng(3).normal(0, 0.03, size=(4, times.size))
    ours = _log_density(residuals, np.diff(times), 0.03, rho)
    if rho == 0:
        exact = stats.norm(0, 0.03).logpdf(residuals).sum(axis=1)
    else:
        exact = stats.multivariate_normal(np.zeros(times.size), ou_covariance(times, 0.03, rho))
        exact = exact.logpdf(residuals)
    np.testing.assert_allclose(ours, exact, rtol=1e-10)


def logistic(steps: np.ndarray) -> np.ndarray:
    return 0.9 / (1.0 + np.exp(-(steps - 12.0) / 3.0))


def test_the_launch_is_integrated_out_as_a_fine_integral_would() -> None:
    """The quadrature (whole steps, then 0.02 steps near the best) against a brute
    integral over a 0.001-step grid of every launch the prior allows (0 to 40 periods
    before the first point): equal to 1e-3 in log (the fine grid's rule error), the
    mode at the true launch."""
    curve = logistic(np.arange(60.0))
    times = 1990.0 + np.arange(15)
    shares = logistic(times - (1990.0 - 7.3)) + np.random.default_rng(1).normal(0, 0.01, 15)
    quadrature = launch_quadrature(curve, times, shares, 0.01, 0.5, 40.0)
    from sim.calibration.simulate import interpolate

    grid = np.arange(0.0005, 40.0, 0.001)
    elapsed = times - times[0]
    predicted = interpolate(curve, grid[:, None] + elapsed[None, :])
    dense = _log_density(shares - predicted, np.diff(times), 0.01, 0.5)
    brute = dense.max() + np.log(np.exp(dense - dense.max()).sum() * 0.001)
    assert quadrature.log_likelihood == pytest.approx(brute, abs=1e-3)
    best = quadrature.offsets[np.argmax(quadrature.log_terms - np.log(quadrature.widths))]
    assert times[0] - best == pytest.approx(1990.0 - 7.3, abs=0.1)
    launches = [quadrature.draw_launch(np.random.default_rng(s)) for s in range(200)]
    assert np.median(launches) == pytest.approx(1990.0 - 7.3, abs=0.15)


def test_noise_draws_have_the_model_covariance() -> None:
    """40,000 draws: the sample covariance within 0.02 sigma^2 of the OU's (its
    standard error is about 0.007 sigma^2 at these sizes)."""
    times = np.array([0.0, 1.0, 3.0, 3.5])
    draws = fresh_noise(times, 0.05, 0.7, np.random.default_rng(5), 40_000)
    np.testing.assert_allclose(
        np.cov(draws.T), ou_covariance(times, 0.05, 0.7), atol=0.02 * 0.05**2
    )


def test_conditional_noise_starts_from_the_known_residual() -> None:
    """Given e = 0.04 at t = 10: the mean at t = 12 is 0.04 rho^2, the variance
    sigma^2 (1 - rho^4) (the OU transition), to Monte Carlo error."""
    draws = conditional_noise(
        np.array([12.0]), 10.0, 0.04, 0.03, 0.8, np.random.default_rng(2), 40_000
    )
    assert draws.mean() == pytest.approx(0.04 * 0.8**2, abs=0.0005)
    assert draws.var() == pytest.approx(0.03**2 * (1 - 0.8**4), rel=0.03)


def test_residual_autocorrelation_flags_waves_not_white_noise() -> None:
    rng = np.random.default_rng(7)
    white = residual_autocorrelation(rng.normal(size=40))
    waves = residual_autocorrelation(np.sin(np.arange(40) / 4) + 0.1 * rng.normal(size=40))
    assert not white.significant and white.threshold == pytest.approx(1.645 / np.sqrt(40))
    assert waves.significant and waves.lag1 > 0.8
    assert "autocorrelated (AR(1))" in waves.sentence()


# --- tempering --------------------------------------------------------------------------


def test_first_temperature_gives_the_first_rate() -> None:
    values = np.random.default_rng(1).normal(-200, 40, size=500)
    norm = values.max()
    temperature = first_temperature(values, norm)
    rate = np.mean(np.exp((values - norm) / temperature))
    assert rate == pytest.approx(FIRST_RATE, abs=1e-4) and temperature > 1


def test_next_temperature_keeps_half_the_conditional_ess_and_stops_at_one() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(-50, 10, size=400)
    weights = rng.uniform(0.5, 1.5, size=400)
    temperature = next_temperature(values, weights, 40.0)
    v = np.exp((values - values.max()) * (1 / temperature - 1 / 40.0))
    w = weights / weights.sum()
    assert 1 < temperature < 40
    assert np.sum(w * v) ** 2 / np.sum(w * v**2) == pytest.approx(ESS_KEPT, rel=1e-4)
    # an uneven population does not license a leap: the step is judged on its own
    uneven = weights * np.exp(rng.normal(0, 3, size=400))
    assert next_temperature(values, uneven, 40.0) > 0.5 * temperature
    flat = np.full(400, -3.0)  # nothing to lose: straight to 1
    assert next_temperature(flat, weights, 5.0) == 1.0


# --- scores and baselines ---------------------------------------------------------------


def test_crps_of_weighted_draws_is_the_double_sum() -> None:
    rng = np.random.default_rng(4)
    draws = rng.normal(size=(30, 3))
    weights = rng.uniform(size=30)
    y = np.array([0.1, -1.0, 2.0])
    w = weights / weights.sum()
    brute = [
        np.sum(w * np.abs(draws[:, j] - y[j]))
        - 0.5 * np.sum(w[:, None] * w[None, :] * np.abs(draws[:, j, None] - draws[None, :, j]))
        for j in range(3)
    ]
    np.testing.assert_allclose(crps(draws, weights, y), brute, rtol=1e-12)


def test_crps_of_a_normal_sample_matches_the_closed_form() -> None:
    """CRPS(N(0, 1), y) = y(2 Phi(y) - 1) + 2 phi(y) - 1/sqrt(pi); 200,000 draws."""
    draws = np.random.default_rng(6).normal(size=(200_000, 1))
    y = 0.7
    exact = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / np.sqrt(np.pi)
    assert crps(draws, None, np.array([y]))[0] == pytest.approx(exact, abs=0.005)
    assert coverage(np.zeros(4), np.ones(4), np.array([0.5, 1.0, 1.5, -0.1])) == 0.5


@pytest.mark.parametrize(
    ("family", "truth"),
    [
        ("logistic", lambda t: 0.8 / (1 + np.exp(-0.4 * (t - 1975)))),
        ("gompertz", lambda t: 0.7 * np.exp(-np.exp(-0.3 * (t - 1972)))),
    ],
)
def test_growth_curves_recover_their_own_curves(family, truth) -> None:
    times = np.arange(1965.0, 1990.0)
    fit = fit_curve(family, times, truth(times))
    assert fit.rmse < 1e-6, fit
    later = np.arange(1990.0, 2000.0)
    np.testing.assert_allclose(fit.predict(later), truth(later), atol=1e-5)


def test_a_residual_bootstrap_widens_with_the_noise() -> None:
    times = np.arange(1965.0, 1985.0)
    curve = 0.8 / (1 + np.exp(-0.4 * (times - 1975)))
    rng = np.random.default_rng(8)
    quiet = bootstrap_draws("logistic", times, curve + rng.normal(0, 0.005, 20), [1990.0], seed=1)
    loud = bootstrap_draws("logistic", times, curve + rng.normal(0, 0.04, 20), [1990.0], seed=1)
    assert quiet.shape == (200, 1)
    assert np.std(loud) > 3 * np.std(quiet)
