"""ABC-SMC calibration end to end on a tiny market: reproducible whatever the workers,
resumed after an interrupt exactly as if never stopped, refused on another history, and
written as whole files by `run.py calibrate`."""

from __future__ import annotations

import json
import re
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
TINY = {"budget": 500, "population": 30, "seed": 11}


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
        "observation.noise",
        "observation.autocorrelation",
        "launch",
        "distance",
        "log_likelihood",
        "seed",
    ]
    assert one.posterior["weight"].sum() == pytest.approx(1.0)
    # the budget is honoured exactly, and what was counted is what ran
    assert one.spent <= TINY["budget"] and two.spent == one.spent
    assert one.simulations_run == two.simulations_run == one.spent + one.dropped
    assert one.spent == 30 + one.generations["simulations"].sum()  # the prior sample too


def test_without_the_noise_model_every_particle_beat_epsilon() -> None:
    off = calibrate(tiny_series(), tiny_scenario(), noise="off", **TINY)
    assert "observation.noise" not in off.posterior.columns
    assert (off.posterior["distance"] <= off.generations["epsilon"].iloc[-1] + 1e-12).all()
    assert off.problem.noise_note.startswith("observation noise: off")


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
    more = calibrate(tiny_series(), tiny_scenario(), out=tmp_path, **(TINY | {"budget": 1500}))
    assert more.simulations_run > 0 and len(more.generations) > len(first.generations)
    fresh = calibrate(tiny_series(), tiny_scenario(), **(TINY | {"budget": 1500}))
    same(more, fresh)  # a raised budget continues as if it had been given at once


def test_predict_gives_ordered_bands_and_extends_curves() -> None:
    calibration = calibrate(tiny_series(), tiny_scenario(), **TINY)
    bands = calibration.predict(15)
    times = tiny_series().times
    assert bands["time"].tolist() == list(np.arange(times[0], times[-1] + 16))
    assert bands[["q05", "q25", "q50", "q75", "q95", "mean"]].notna().all().all()
    for low, high in (("q05", "q25"), ("q25", "q50"), ("q50", "q75"), ("q75", "q95")):
        assert (bands[low] <= bands[high]).all()
    fitted = calibration.fitted()
    # a yearly series: the same noise draws at the same times, whichever table asks
    np.testing.assert_allclose(
        fitted["q50"].to_numpy(), bands.set_index("time").loc[times, "q50"].to_numpy()
    )
    # the band of the observed share is wider than the curves' alone by the noise
    sd = calibration.posterior["observation.noise"].median()
    assert (fitted["q95"] - fitted["q05"]).min() > 2 * 1.645 * sd * 0.5
    assert calibration.rmse() == pytest.approx(
        float(np.sqrt(np.mean((fitted["q50"] - fitted["observed"]) ** 2)))
    )


def test_run_py_calibrate_writes_every_output(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    series = tiny_series()
    csv = tmp_path / "tiny.csv"
    rows = "".join(f"{t:g},{s:.4f}\n" for t, s in zip(series.times, series.shares, strict=True))
    csv.write_text(
        "series,year,share_adopted\n"
        + "".join(f"TV/Radio,{row}" for row in rows.splitlines(keepends=True))
        + "".join(f"other,{row}" for row in rows.splitlines(keepends=True))
    )
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(SCENARIO.read_text().replace("n_customers = 2000 ", "n_customers = 200  "))
    from sim.calibration import cli

    monkeypatch.setattr(cli, "RESULTS", tmp_path / "results")
    out = tmp_path / "results" / "calibration" / "TV_Radio"  # the default, made safe
    args = ["calibrate", str(csv), "--scenario", str(scenario), "--series", "TV/Radio"]
    args += ["--holdout", "3", "--budget", "500", "--population", "30", "--seed", "11"]
    args += ["--workers", "1", "--fit", "diffusion.imitation=0.05:1"]
    args += ["--fit", "customers.loss_aversion_mean=1:4"]
    assert run.main(args) == 0
    printed = capsys.readouterr()
    assert "read as shares" in printed.out and "generation 0: threshold" in printed.err
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
    posterior = pd.read_csv(out / "posterior.csv", dtype={"seed": np.int64})
    assert list(posterior.columns[:3]) == [
        "weight",
        "diffusion.imitation",
        "customers.loss_aversion_mean",
    ]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["key", "mean", "q05", "q50", "q95"]
    assert (summary["q05"] <= summary["q50"]).all() and (summary["q50"] <= summary["q95"]).all()
    holdout = pd.read_csv(out / "holdout.csv")
    assert list(holdout.columns) == [
        "series",
        "model",
        "rmse_in",
        "rmse_out",
        "crps_out",
        "coverage50_in",
        "coverage90_in",
        "coverage50_out",
        "coverage90_out",
    ]
    assert holdout["model"].tolist() == ["abm", "bass"]
    assert holdout[["coverage50_in", "coverage90_out"]].apply(lambda c: c.between(0, 1)).all().all()
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
    assert f"| {abm.rmse_out:.3f} | {abm.crps_out:.3f} |" in report
    assert f"| {abm.coverage90_in:.0%} |" in report and f"{abm.coverage90_out:.0%}" in report
    assert "Weighted correlations between the fitted keys and the launch" in report
    assert re.search(r"\| launch \(time of step 0\) \| \d+\.\d \| \d+\.\d \| \d+\.\d \|", report)
    assert manifest["abc"]["simulations"] <= 500
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
    assert sorted(p.name for p in tmp_path.rglob("manifest.json")) == ["manifest.json"]

    # read back: the same posterior, the same bands (curves simulated again from seeds)
    loaded = Calibration.load(out)
    pd.testing.assert_frame_equal(loaded.posterior, posterior)
    pd.testing.assert_frame_equal(
        loaded.fitted().drop(columns="bass"),
        pd.read_csv(out / "fit.csv").drop(columns="bass"),
        rtol=1e-8,
        check_dtype=False,
    )
    assert loaded.problem.noise_note == manifest["data"]["noise_note"]
    assert "Calibration of 'TV/Radio'" in repr(loaded) and "held-out" in repr(loaded)
    assert loaded.plot().axes[0].get_ylabel() == "share adopted (0 to 1)"
    with pytest.raises(InputError, match="no finished calibration here"):
        Calibration.load(tmp_path)


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


def test_backtest_scores_the_model_and_every_baseline_from_each_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.calibration import baselines, validation

    monkeypatch.setattr(baselines, "BOOTSTRAP", 40)
    series = tiny_series()
    data = tmp_path / "tiny.csv"
    data.write_text(
        "year,share_adopted\n"
        + "".join(f"{t:g},{s:.4f}\n" for t, s in zip(series.times, series.shares, strict=True))
    )
    monkeypatch.setattr(validation, "calibrate", _tiny_calibrate)
    table = validation.backtest(data, budget=300, population=30, out=tmp_path / "bt", seed=3)
    assert validation.cutoffs(12) == [5, 7, 8]
    assert table.groupby(["series", "origin"]).ngroups == 3
    assert table["method"].tolist()[:4] == ["model", "bass", "logistic", "gompertz"]
    first = table.iloc[0]
    assert first["fitted"] == "1970-1974 (5)" and first["forecast"] == "1975-1981 (7)"
    holdout = pd.read_csv(tmp_path / "bt" / "tiny" / "fit005" / "holdout.csv").set_index("model")
    assert first["crps_out"] == pytest.approx(holdout.loc["abm", "crps_out"], rel=1e-8)
    bass = table[(table["method"] == "bass")].iloc[0]
    assert bass["rmse_out"] == pytest.approx(holdout.loc["bass", "rmse_out"], rel=1e-8)
    board = validation.leaderboard(table)
    assert board["method"].tolist() == ["model", "bass", "logistic", "gompertz"]
    assert board["lowest CRPS (cases)"].sum() == 3
    text = validation.validation_markdown(
        table,
        command="python run.py backtest",
        seconds=60,
        machine="a test",
        budget=300,
        seed=3,
        out="results/backtest-other",
    )
    assert "is in `results/backtest-other/SERIES/fitNNN/`" in text  # where --out put them
    # how many calibrations reached the exact posterior, from the table's own column
    exact = int((table["temperature"].dropna() <= 1).sum())
    assert f"was 1 (the exact posterior) in {exact} of 3 calibrations" in text
    model = board.set_index("method").loc["model"]
    assert f"| model | {model['median RMSE']:.4f} | {model['median CRPS']:.4f} |" in text
    assert f"inside the model's 90 % band: {model['90 % band holds']:.0%}" in text
    doc = tmp_path / "validation.md"
    doc.write_text("# Validation\n\nkept\n")
    validation.write_section(doc, "backtest", text)
    validation.write_section(doc, "backtest", text)  # replaced, not appended twice
    assert doc.read_text().count("<!-- backtest:start -->") == 1 and "kept" in doc.read_text()


def _tiny_calibrate(data, **kwargs):
    return calibrate(data, tiny_scenario(), **kwargs)


def test_a_first_generation_the_budget_cuts_off_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The up-front check refuses such a budget; with the check out of the way (a
    first generation that needs every one of its 30 candidates accepted), the run
    fails with one line and leaves no folder, no history."""
    monkeypatch.setattr(abc_module, "minimum_budget", lambda population, wave: 0)
    out = tmp_path / "new"
    with pytest.raises(InputError, match="--budget = 60: the budget ran out before the first"):
        calibrate(tiny_series(), tiny_scenario(), out=out, **(TINY | {"budget": 60}))
    assert not out.exists()
