"""Simulation-based calibration, small: the check passes an honest calibration and
catches a broken one.

Slow and statistical, with fixed seeds. DATASETS synthetic datasets from the priors
(a 300-customer market, AR(1) noise), each calibrated at population 40 and budget
1,500, and their next 5 points forecast.

- **Honest** (the observation model on): the share of the 5 x DATASETS held-out points
  inside the 90 % band must be at least 0.75. The points of one dataset share their
  noise (its correlation is fitted up to 0.95), so they count for fewer than 5; with
  a calibrated band the mean is 0.9 and its standard error about 0.05 at these sizes:
  0.75 is three of them below. Each key's 90 % interval must hold its true value in at
  least half the datasets (a calibrated interval fails that with probability below
  1e-3 at n = 12; this catches a posterior that is badly off, not a slight one: the
  full check, run.py calibrate-check, measures that).
- **Broken** (the same data, calibrated without the noise term, the calibration the
  project had): the band holds only the curves' spread, and the same held-out points
  fall inside its 90 % band at most 0.6 of the time. The check must see it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.calibration.sbc import PREDICTION, CheckSettings, calibration_check, passes
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "calibration.toml"
DATASETS = 12
SETTINGS = CheckSettings(datasets=DATASETS, budget=1500, population=40, seed=3)


def run(fit_noise: str | None, out: Path):
    scenario = load_scenario(SCENARIO, {"market.n_customers": 300})
    return calibration_check(
        scenario, noise="ar1", fit_noise=fit_noise, settings=SETTINGS, workers=2, out=out
    )


@pytest.mark.slow
def test_the_check_passes_an_honest_calibration_and_catches_one_without_noise(
    tmp_path: Path,
) -> None:
    ranks, coverage, records = run(None, tmp_path / "honest")
    table = coverage.set_index(["key", "nominal"])["empirical"]
    assert table[(PREDICTION, 0.9)] >= 0.75, coverage
    keys = coverage.loc[coverage["nominal"] == 0.9].set_index("key")["empirical"]
    assert (keys.drop(PREDICTION) >= 0.5).all(), coverage
    assert len(records) == DATASETS and set(ranks["dataset"]) == set(range(DATASETS))
    assert ranks["rank"].between(0, 1).all()

    _, broken, _ = run("off", tmp_path / "broken")
    held = broken.set_index(["key", "nominal"])["empirical"][(PREDICTION, 0.9)]
    assert held <= 0.6, broken
    assert not passes(broken)[PREDICTION]

    # stored datasets are reused: run again, nothing is calibrated
    again = calibration_check(
        load_scenario(SCENARIO, {"market.n_customers": 300}),
        noise="ar1",
        settings=SETTINGS,
        out=tmp_path / "honest",
        on_dataset=lambda record: None,
    )
    assert again[1].equals(coverage)
