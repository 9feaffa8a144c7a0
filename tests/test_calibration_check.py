"""Simulation-based calibration, small: the check passes an honest calibration and
catches a broken one.

Slow and statistical, with fixed seeds. DATASETS synthetic datasets from the priors
(a 200-customer market, AR(1) noise), each calibrated at population 30 and budget
700 on one worker, and their next 5 points forecast (about 3 minutes on a quiet
2-core machine).

- **Honest** (the observation model on): the share of the 5 x DATASETS held-out points
  inside the 90 % band must be at least 0.75. The points of one dataset share their
  noise (its correlation is fitted up to 0.99), so they count for fewer than 5; with
  a calibrated band the mean is 0.9 and its standard error about 0.06 at these sizes:
  0.75 is two and a half of them below. Each key's 90 % interval must hold its true
  value in at least half the datasets (a calibrated interval fails that with
  probability 0.002 at n = 6; this catches a posterior that is badly off, not a slight
  one: the full check, run.py calibrate-check, measures that).
- **Broken** (the same data, calibrated without the noise term, the calibration the
  project had): the band holds only the curves' spread, and the same held-out points
  fall inside its 90 % band at most 0.6 of the time (0.4 at 8 datasets when this was
  written). The check must see it.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from pathlib import Path

import pytest

from sim.calibration.sbc import PREDICTION, CheckSettings, calibration_check, passes
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "calibration.toml"
DATASETS = 6
SETTINGS = CheckSettings(datasets=DATASETS, budget=700, population=30, seed=3)


def run(fit_noise: str | None, out: Path):
    scenario = load_scenario(SCENARIO, {"market.n_customers": 200})
    return calibration_check(
        scenario, noise="ar1", fit_noise=fit_noise, settings=SETTINGS, workers=1, out=out
    )


@pytest.mark.slow
def test_the_check_passes_an_honest_calibration_and_catches_one_without_noise(
    tmp_path: Path,
) -> None:
    # the honest and the broken calibrations side by side, one process each
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        honest = pool.submit(run, None, tmp_path / "honest")
        without_noise = pool.submit(run, "off", tmp_path / "broken")
        ranks, coverage, records = honest.result()
        _, broken, _ = without_noise.result()
    table = coverage.set_index(["key", "nominal"])["empirical"]
    assert table[(PREDICTION, 0.9)] >= 0.75, coverage
    keys = coverage.loc[coverage["nominal"] == 0.9].set_index("key")["empirical"]
    assert (keys.drop(PREDICTION) >= 0.5).all(), coverage
    assert len(records) == DATASETS and set(ranks["dataset"]) == set(range(DATASETS))
    assert ranks["rank"].between(0, 1).all()

    held = broken.set_index(["key", "nominal"])["empirical"][(PREDICTION, 0.9)]
    assert held <= 0.6, broken
    assert not passes(broken)[PREDICTION]

    # stored datasets are reused: run again, nothing is calibrated
    again = calibration_check(
        load_scenario(SCENARIO, {"market.n_customers": 200}),
        noise="ar1",
        settings=SETTINGS,
        out=tmp_path / "honest",
        on_dataset=lambda record: None,
    )
    assert again[1].equals(coverage)


@pytest.mark.slow
def test_run_py_calibrate_check_writes_its_tables_figure_and_doc_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    import pandas as pd

    sys.path.insert(0, str(ROOT))
    import run as cli

    scenario = tmp_path / "tiny.toml"
    scenario.write_text(SCENARIO.read_text().replace("n_customers = 2000 ", "n_customers = 200  "))
    doc = tmp_path / "validation.md"
    doc.write_text(
        "# Validation\n\n<!-- calibrate-check:start -->\nSTALE SECTION\n<!-- calibrate-check:end -->\n"
    )
    out = tmp_path / "check"
    args = ["calibrate-check", "--scenario", str(scenario), "--datasets", "2"]
    args += ["--budget", "400", "--population", "20", "--workers", "1", "--quiet"]
    assert cli.main([*args, "--out", str(out), "--doc", str(doc)]) == 0
    coverage = pd.read_csv(out / "coverage.csv")
    assert list(coverage.columns) == ["key", "nominal", "empirical", "n"]
    assert {"diffusion.imitation", "observation.noise", "launch", PREDICTION} <= set(
        coverage["key"]
    )
    assert (coverage["n"] == 2).all() and coverage["empirical"].between(0, 1).all()
    ranks = pd.read_csv(out / "ranks.csv")
    assert len(ranks) == 2 * 6 and ranks["rank"].between(0, 1).all()
    assert (out / "ranks.png").stat().st_size > 0 and (out / "check.md").exists()
    text = doc.read_text()
    assert "STALE SECTION" not in text and text.count("<!-- calibrate-check:start -->") == 1
    ninety = coverage[coverage["nominal"] == 0.9].set_index("key")["empirical"]
    assert f"| `diffusion.imitation` | {ninety['diffusion.imitation']:.0%} |" in text
    assert "python run.py calibrate-check" in text
    assert f"in `{out}/`" in text  # the section names the --out it was given
    assert "quantities within the 80-97 % band" in capsys.readouterr().out
