"""Parameter recovery: curves the model made at known parameters, calibrated back.

Slow and statistical (about two minutes on two cores), with fixed seeds. Tolerances:

- The true Bass p and q (``diffusion.broadcast``, ``diffusion.imitation``) must lie in
  the posterior 90 % interval in at least 9 of 10 cases (the issue's bar). A perfectly
  calibrated 90 % interval would pass that only 74 % of the time (binomial, n = 10);
  ABC at a finite epsilon widens the posterior, so this also checks the intervals are
  on the conservative side. It would pass trivially with intervals as wide as the
  prior, so the test also requires them to carry information: median over the cases
  of the 90 % width against the prior's below 0.5 for the mean loss aversion (pinned
  down: it sets the ceiling) and below 0.9 for q (measured in the logarithm: p and q
  are log-uniform by default). With these seeds the medians are 0.28 and 0.78
  (measured 2026-12-05, with the observation model and the log-uniform priors): q is
  only partly identified by a series first seen at 5 %, where a larger q trades against
  a smaller p and an earlier launch (p, at a median of 0.89, is not asserted; the Bass
  fits of the shipped data show the same).
- A key that cannot change the curve (``trust.trust_rate``: the product is exactly as
  claimed, so trust never moves) is refused before anything runs.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from sim.calibration.api import calibrate
from sim.calibration.data import AdoptionSeries
from sim.calibration.priors import DEFAULT_FIT, check_fit
from sim.calibration.simulate import CurveSimulator
from sim.provenance import derive_seed
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "calibration.toml"
CUSTOMERS = 1000  # the synthetic market and the calibrated one
POINTS = 20  # observed periods, from the first with at least FIRST share
FIRST = 0.05
CASES = 10
SETTINGS = {"budget": 2000, "population": 100}


def synthetic(truth: dict[str, float], seed: int, name: str) -> AdoptionSeries:
    """The model's own curve at ``truth``, seen from the period it first reaches 5 %."""
    scenario = load_scenario(SCENARIO, {"market.n_customers": CUSTOMERS})
    keys = tuple(check_fit(scenario, {k: DEFAULT_FIT[k] for k in truth if k in DEFAULT_FIT}))
    simulator = CurveSimulator(scenario.params, tuple(scenario.firms), keys, steps=0)
    model = simulator.model(truth, seed)
    model.run(60)
    curve = 1.0 - np.asarray(model.datacollector.model_vars["share_legacy"])
    start = int(np.argmax(curve >= FIRST))
    shares = curve[start : start + POINTS]
    return AdoptionSeries(name, 1950.0 + np.arange(shares.size), shares)


def truths() -> list[dict[str, float]]:
    rng = np.random.default_rng(20240)
    return [
        {
            "diffusion.broadcast": float(rng.uniform(0.01, 0.05)),
            "diffusion.imitation": float(rng.uniform(0.2, 0.6)),
            "customers.loss_aversion_mean": float(rng.uniform(1.3, 2.5)),
        }
        for _ in range(CASES)
    ]


def recover(case: int) -> dict[str, object]:
    """Calibrate case ``case`` back with the default priors; intervals and widths."""
    truth = truths()[case]
    series = synthetic(truth, derive_seed(2024, case), f"case{case}")
    scenario = load_scenario(SCENARIO, {"market.n_customers": CUSTOMERS})
    calibration = calibrate(series, scenario, seed=case, workers=1, **SETTINGS)
    summary = calibration.summary.set_index("key")
    ratio = calibration.identification.set_index("key")["ratio"]
    return {
        "truth": truth,
        "interval": {k: (summary.loc[k, "q05"], summary.loc[k, "q95"]) for k in truth},
        "ratio": ratio.to_dict(),
    }


@pytest.mark.slow
def test_true_p_and_q_lie_in_the_90_percent_intervals_in_9_of_10_cases() -> None:
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(recover, range(CASES)))
    covered = {"diffusion.broadcast": 0, "diffusion.imitation": 0}
    for case, result in enumerate(results):
        for key in covered:
            low, high = result["interval"][key]
            covered[key] += low <= result["truth"][key] <= high
        print(case, result)
    assert covered["diffusion.broadcast"] >= 9, covered
    assert covered["diffusion.imitation"] >= 9, covered
    ratios = {key: np.median([r["ratio"][key] for r in results]) for key in results[0]["ratio"]}
    assert ratios["diffusion.imitation"] < 0.9, ratios
    assert ratios["customers.loss_aversion_mean"] < 0.5, ratios


def test_a_key_the_curve_cannot_move_is_refused_before_any_budget_is_spent() -> None:
    """trust.trust_rate reaches the model but acts only on quality surprises, and this
    product is exactly as claimed: the same seed gives the same curve at 0 and at 2.
    It used to be fitted for the whole budget and kept its prior; now it is refused."""
    from sim.calibration.problem import prepare
    from sim.errors import InputError

    series = synthetic(truths()[0], derive_seed(2024, 0), "case0")
    scenario = load_scenario(SCENARIO, {"market.n_customers": CUSTOMERS})
    for key in ("trust.trust_rate", "decision.cocreation_discount", "market.estimate_noise"):
        fit = {"diffusion.imitation": DEFAULT_FIT["diffusion.imitation"], key: (0.0, 1.0)}
        with pytest.raises(InputError, match=f"--fit {key}.*cannot move the curve"):
            prepare(series, scenario, fit)
