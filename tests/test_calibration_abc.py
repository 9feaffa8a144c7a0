"""ABC-SMC calibration end to end on a tiny market: reproducible whatever the workers,
resumed after an interrupt exactly as if never stopped, refused on another history, and
written as whole files by `run.py calibrate`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import abc as abc_module
from sim.calibration.api import Calibration, calibrate
from sim.calibration.data import AdoptionSeries
from sim.errors import InputError
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import run  # noqa: E402

SCENARIO = ROOT / "scenarios" / "calibration.toml"
#: Small enough for seconds: 200 customers, 30 particles, a few hundred simulations.
TINY = {"budget": 260, "population": 30, "seed": 11}


def tiny_scenario():
    return load_scenario(SCENARIO, {"market.n_customers": 200})


def tiny_series() -> AdoptionSeries:
    """A curve the scenario can make: a logistic rise to 0.8, seen from 1970 at 8 %."""
    times = 1970.0 + np.arange(12)
    shares = 0.8 / (1.0 + np.exp(-(times - 1975.0) / 1.8))
    return AdoptionSeries("tiny", times, shares)


def same(a: Calibration, b: Calibration) -> None:
    pd.testing.assert_frame_equal(a.posterior, b.posterior)
    pd.testing.assert_frame_equal(a.generations, b.generations)


def test_one_and_two_workers_give_identical_posteriors() -> None:
    one = calibrate(tiny_series(), tiny_scenario(), workers=1, **TINY)
    two = calibrate(tiny_series(), tiny_scenario(), workers=2, **TINY)
    same(one, two)
    assert len(one.generations) >= 2 and len(one.posterior) == TINY["population"]
    assert list(one.posterior.columns) == [
        "weight",
        "diffusion.broadcast",
        "diffusion.imitation",
        "customers.loss_aversion_mean",
        "launch",
        "distance",
        "seed",
    ]
    assert one.posterior["weight"].sum() == pytest.approx(1.0)
    # every accepted particle beat its generation's epsilon
    assert (one.posterior["distance"] <= one.generations["epsilon"].iloc[-1] + 1e-12).all()


class Interrupt:
    """Raise KeyboardInterrupt at the n-th simulation: an interrupt inside a generation."""

    calls = 0
    at = -1


def interrupting_call(self, parameters):  # replaces CurveModel.__call__ in-process
    Interrupt.calls += 1
    if Interrupt.calls == Interrupt.at:
        raise KeyboardInterrupt
    return original_call(self, parameters)


original_call = abc_module.CurveModel.__call__


def test_an_interrupted_calibration_resumes_to_the_uninterrupted_posterior(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = calibrate(tiny_series(), tiny_scenario(), out=tmp_path / "whole", **TINY)
    # stop in the middle of the third generation (prior sample 30, then ~40-80 each)
    monkeypatch.setattr(abc_module.CurveModel, "__call__", interrupting_call)
    Interrupt.calls, Interrupt.at = 0, 150
    with pytest.raises(KeyboardInterrupt):
        calibrate(tiny_series(), tiny_scenario(), out=tmp_path / "cut", **TINY)
    assert not (tmp_path / "cut" / "manifest.json").exists()  # nothing a rerun would trust
    assert (tmp_path / "cut" / "history.db").exists()
    monkeypatch.setattr(abc_module.CurveModel, "__call__", original_call)
    resumed = calibrate(tiny_series(), tiny_scenario(), out=tmp_path / "cut", **TINY)
    assert resumed.resumed_from >= 1
    same(whole, resumed)
    for name in ("posterior.csv", "summary.csv", "generations.csv"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "cut" / name).read_bytes()


def test_a_history_from_other_settings_is_refused(tmp_path: Path) -> None:
    calibrate(tiny_series(), tiny_scenario(), out=tmp_path, **TINY)
    with pytest.raises(InputError, match=r"other settings \(differing: seed\)"):
        calibrate(tiny_series(), tiny_scenario(), out=tmp_path, **(TINY | {"seed": 12}))
    other = tiny_series()
    shifted = AdoptionSeries("tiny", other.times, np.clip(other.shares + 0.01, 0, 1))
    with pytest.raises(InputError, match="differing: data_sha256, shares"):
        calibrate(shifted, tiny_scenario(), out=tmp_path, **TINY)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "history.db").write_text("not a database")
    with pytest.raises(InputError, match="not a calibration history"):
        calibrate(tiny_series(), tiny_scenario(), out=tmp_path / "junk", **TINY)


def test_a_finished_calibration_run_again_simulates_nothing(tmp_path: Path) -> None:
    first = calibrate(tiny_series(), tiny_scenario(), out=tmp_path, **TINY)
    again = calibrate(tiny_series(), tiny_scenario(), out=tmp_path, **TINY)
    assert again.simulations_run == 0 and again.stopped == "budget"
    same(first, again)
    more = calibrate(tiny_series(), tiny_scenario(), out=tmp_path, **(TINY | {"budget": 400}))
    assert more.simulations_run > 0 and len(more.generations) >= len(first.generations)
    fresh = calibrate(tiny_series(), tiny_scenario(), **(TINY | {"budget": 400}))
    same(more, fresh)  # a raised budget continues as if it had been given at once


def test_predict_gives_ordered_bands_and_extends_curves() -> None:
    calibration = calibrate(tiny_series(), tiny_scenario(), **TINY)
    bands = calibration.predict(15)
    times = tiny_series().times
    assert bands["time"].tolist() == list(np.arange(times[0], times[-1] + 16))
    assert bands[["q05", "q50", "q95", "mean"]].notna().all().all()
    assert (bands["q05"] <= bands["q50"]).all() and (bands["q50"] <= bands["q95"]).all()
    fitted = calibration.fitted()
    np.testing.assert_allclose(
        fitted["q50"].to_numpy(), bands.set_index("time").loc[times, "q50"].to_numpy()
    )
    assert calibration.rmse() == pytest.approx(
        float(np.sqrt(np.mean((fitted["q50"] - fitted["observed"]) ** 2)))
    )


def test_run_py_calibrate_writes_every_output(tmp_path: Path, capsys) -> None:
    series = tiny_series()
    csv = tmp_path / "tiny.csv"
    csv.write_text(
        "year,share_adopted\n"
        + "".join(f"{t:g},{s:.4f}\n" for t, s in zip(series.times, series.shares, strict=True))
    )
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(SCENARIO.read_text().replace("n_customers = 2000 ", "n_customers = 200  "))
    out = tmp_path / "out"
    args = ["calibrate", str(csv), "--scenario", str(scenario), "--out", str(out)]
    args += ["--holdout", "3", "--budget", "260", "--population", "30", "--seed", "11"]
    args += ["--workers", "1", "--fit", "diffusion.imitation=0.05:1"]
    args += ["--fit", "customers.loss_aversion_mean=1:4"]
    assert run.main(args) == 0
    printed = capsys.readouterr()
    assert "read as shares" in printed.out and "generation 0: epsilon" in printed.err
    for name in (
        "posterior.csv",
        "summary.csv",
        "bass.csv",
        "fit.csv",
        "generations.csv",
        "holdout.csv",
        "fit.png",
        "pairs.png",
        "report.md",
        "manifest.json",
        "history.db",
    ):
        assert (out / name).stat().st_size > 0, name
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior.columns[:3]) == [
        "weight",
        "diffusion.imitation",
        "customers.loss_aversion_mean",
    ]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["key", "mean", "q05", "q50", "q95"]
    assert (summary["q05"] <= summary["q50"]).all() and (summary["q50"] <= summary["q95"]).all()
    holdout = pd.read_csv(out / "holdout.csv")
    assert list(holdout.columns) == ["series", "model", "rmse_in", "rmse_out"]
    assert holdout["model"].tolist() == ["abm", "bass"]
    bass = pd.read_csv(out / "bass.csv")
    assert {"p", "q", "m", "launch", "rmse"} <= set(bass.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data"]["sha256"] and manifest["seeds"]["seed"] == 11
    assert manifest["data"]["fitted_points"] == 9 and manifest["data"]["holdout"] == 3
    assert manifest["abc"]["stopped"] == "budget" and manifest["pyabc"].startswith("0.13")
    assert manifest["command"].startswith("python run.py calibrate")
    report = (out / "report.md").read_text()
    for row in summary.itertuples():
        assert f"| {row.key} | {row.mean:.4g} | {row.q05:.4g} |" in report
    abm = holdout.set_index("model").loc["abm"]
    assert f"{abm.rmse_out:.4g}" in report
    generations = pd.read_csv(out / "generations.csv")
    assert list(generations.columns) == [
        "t",
        "epsilon",
        "particles",
        "simulations",
        "acceptance_rate",
        "ess",
    ]
    assert f"worth {generations['ess'].iloc[-1]:.4g} equally weighted" in report
    assert not list(out.glob(".*.tmp"))  # no temporary file left behind


@pytest.mark.slow
def test_dask_gives_the_posterior_of_one_local_worker() -> None:
    from distributed import LocalCluster

    here = calibrate(tiny_series(), tiny_scenario(), workers=1, **TINY)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask = calibrate(
            tiny_series(), tiny_scenario(), scheduler=cluster.scheduler_address, **TINY
        )
    same(here, dask)


def test_backtest_row_and_table(tmp_path: Path) -> None:
    from sim.calibration.validation import backtest, validation_markdown

    table = backtest(["microwave"], budget=120, population=30, out=tmp_path, seed=3)
    row = table.iloc[0]
    assert row["series"] == "microwave" and row["fitted"] == "1975-1992 (6)"
    assert row["forecast"] == "1998-2011 (5)" and 0 <= row["abm_in_band"] <= 1
    holdout = pd.read_csv(tmp_path / "microwave" / "holdout.csv").set_index("model")
    assert row["abm_rmse_out"] == pytest.approx(holdout.loc["abm", "rmse_out"], rel=1e-8)
    assert row["bass_rmse_out"] == pytest.approx(holdout.loc["bass", "rmse_out"], rel=1e-8)
    text = validation_markdown(
        table, command="python run.py backtest", seconds=60, machine="a test", budget=120
    )
    assert "| microwave | 1975-1992 (6) | 1998-2011 (5) |" in text
    assert "python run.py backtest" in text
