"""Diffusion metrics on known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import bass_curve, diffusion_metrics, fit_bass, rogers_categories


def test_diffusion_metrics_on_a_known_curve() -> None:
    steps = np.arange(5)
    counts = np.array([10, 30, 40, 15, 5])  # cumulative 10, 40, 80, 95, 100
    m = diffusion_metrics(steps, counts, n=200)
    assert m["adopters"] == 0.5
    assert (m["t10"], m["t50"], m["t90"]) == (0.0, 2.0, 3.0)
    assert m["peak_rate"] == 40 / 200 and m["peak_step"] == 2.0
    assert np.isnan(diffusion_metrics(steps, np.zeros(5), 10)["t50"])


def test_rogers_categories_of_a_normal_adoption_time() -> None:
    """A fine-grained normal histogram gives Rogers' 2.5/13.5/34/34/16 % within 0.5 %."""
    steps = np.arange(-400, 401)
    counts = np.exp(-0.5 * (steps / 100.0) ** 2)
    shares = rogers_categories(steps, counts)
    expected = [0.0228, 0.1359, 0.3413, 0.3413, 0.1587]
    np.testing.assert_allclose(list(shares.values()), expected, atol=0.005)


def test_fit_bass_recovers_known_parameters() -> None:
    t = np.arange(40)
    fitted = fit_bass(bass_curve(t, 0.02, 0.45, 0.8))
    assert fitted["bass_p"] == pytest.approx(0.02, rel=1e-3)
    assert fitted["bass_q"] == pytest.approx(0.45, rel=1e-3)
    assert fitted["bass_m"] == pytest.approx(0.8, rel=1e-3)
    assert np.isnan(fit_bass(np.zeros(10))["bass_p"])  # flat
    assert np.isnan(fit_bass(bass_curve(np.arange(6), 0.02, 0.45, 0.8))["bass_p"])  # too short
    assert not np.isnan(fit_bass(bass_curve(np.arange(7), 0.02, 0.45, 0.8))["bass_p"])
