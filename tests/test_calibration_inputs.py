"""Calibration's inputs and pure parts: fitted keys, the launch alignment, quantiles, and
`run.py calibrate` refusing every bad input in one line, with exit 2, before anything runs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sim.calibration.predict import identification, summary_table, weighted_quantiles
from sim.calibration.priors import DEFAULT_FIT, FitKey, apply_values, check_fit, parse_fit
from sim.calibration.simulate import FINE_STEP, LEAD, CurveSimulator, align, shares_at
from sim.errors import InputError
from sim.scenario import load_scenario
from sim.spec import Range

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import run  # noqa: E402

SCENARIO = ROOT / "scenarios" / "calibration.toml"
GOOD_CSV = "year,share_adopted\n" + "".join(
    f"{2000 + i},{v}\n" for i, v in enumerate([0.05, 0.1, 0.2, 0.35, 0.5, 0.6, 0.65, 0.68])
)


def logistic(steps: np.ndarray, middle: float = 12.0, scale: float = 3.0) -> np.ndarray:
    return 0.9 / (1.0 + np.exp(-(steps - middle) / scale))


# --- fitted keys -------------------------------------------------------------------------


def test_default_fit_keys_reach_the_calibration_scenario() -> None:
    keys = check_fit(load_scenario(SCENARIO), DEFAULT_FIT)
    assert [k.key for k in keys] == list(DEFAULT_FIT)
    assert all(not k.integer for k in keys)


def test_parse_fit_reads_ranges_and_integer_keys_round() -> None:
    assert parse_fit(["diffusion.imitation=0.05:1", "firms.*.cadence=2:9"]) == {
        "diffusion.imitation": (0.05, 1.0),
        "firms.*.cadence": (2.0, 9.0),
    }
    (cadence,) = check_fit(load_scenario(SCENARIO), {"firms.*.cadence": (2.0, 9.0)})
    assert cadence.integer and cadence.value(3.6) == 4


def test_a_log_uniform_prior_is_uniform_in_the_log_and_reported_in_values() -> None:
    assert parse_fit(["diffusion.broadcast=0.0001:0.1:log"]) == {
        "diffusion.broadcast": (0.0001, 0.1, "log")
    }
    (broadcast,) = check_fit(load_scenario(SCENARIO), {"diffusion.broadcast": (1e-4, 0.1, "log")})
    assert broadcast.log and broadcast.scale == "log-uniform"
    assert broadcast.span == pytest.approx((np.log(1e-4), np.log(0.1)))
    assert broadcast.decode(broadcast.encode(0.003)) == pytest.approx(0.003)
    assert broadcast.middle == pytest.approx(np.sqrt(1e-4 * 0.1))  # the geometric middle
    draws = np.array([broadcast.draw(np.random.default_rng(i)) for i in range(4000)])
    assert draws.min() >= 1e-4 and draws.max() <= 0.1
    # each decade holds a third of the prior (binomial sd 0.0075 with 4,000 draws: 4 sd)
    for low in (1e-4, 1e-3, 1e-2):
        assert np.mean((draws >= low) & (draws < 10 * low)) == pytest.approx(1 / 3, abs=0.03)
    # the defaults: Bass p and q log-uniform, the ceiling's loss aversion uniform
    assert [k.log for k in check_fit(load_scenario(SCENARIO), DEFAULT_FIT)] == [True, True, False]
    # the API's malformed ranges are one-line errors naming the key, as --fit's are
    for bad in [(0.1, 1.0, "logg"), (1.0, 0.1), (0.1,), "0.1:1"]:
        with pytest.raises(InputError, match=r"--fit diffusion\.imitation"):
            check_fit(load_scenario(SCENARIO), {"diffusion.imitation": bad})  # type: ignore[dict-item]


def test_the_help_states_the_default_priors(capsys: pytest.CaptureFixture[str]) -> None:
    """run.py's --fit help (written out, so that --help need not import the calibration)
    says what DEFAULT_FIT fits."""
    with pytest.raises(SystemExit):
        run.build_parser().parse_args(["calibrate", "--help"])
    text = "".join(capsys.readouterr().out.split())  # argparse wraps lines anywhere
    for key, bounds in DEFAULT_FIT.items():
        low, high, *scale = bounds
        assert f"{key}={low:g}:{high:g}" + "".join(f":{s}" for s in scale) in text, key


def test_identification_of_a_log_uniform_key_is_judged_in_its_log() -> None:
    import pandas as pd

    key = FitKey("diffusion.broadcast", Range(1e-4, 0.1), log=True)
    rng = np.random.default_rng(4)
    # one decade of the prior's three: a third of its width in the log, but only 1 %
    # of its width in values, which the uniform rule would call pinned down
    posterior = pd.DataFrame({"weight": 1 / 400, key.key: 10 ** rng.uniform(-3.5, -2.5, 400)})
    table = identification(summary_table(posterior, [key]), [key])
    assert table.loc[0, "ratio"] == pytest.approx(0.3, abs=0.03)
    assert table.loc[0, "verdict"] == "pinned down"
    # pressed against the lower bound in the log, not in values
    posterior[key.key] = 10 ** rng.uniform(-4, -3.8, 400)
    table = identification(summary_table(posterior, [key]), [key])
    assert table.loc[0, "verdict"] == "against a bound" and table.loc[0, "bound"] == "lower"


def test_apply_values_sets_model_firm_and_strategy_keys_on_copies() -> None:
    scenario = load_scenario(SCENARIO)
    keys = [
        FitKey("diffusion.imitation", Range(0, 1)),
        FitKey("firms.newco.broadcast", Range(0, 1)),
        FitKey("strategies.differentiated.risk_ratio", Range(0, 1)),
    ]
    given = {"differentiated": {"cadence": 30}}
    params, firms, strategies = apply_values(
        scenario.params,
        scenario.firms,
        keys,
        {
            "diffusion.imitation": 0.5,
            "firms.newco.broadcast": 0.07,
            "strategies.differentiated.risk_ratio": 0.2,
        },
        given,
    )
    assert params["imitation"] == 0.5 and firms[0]["broadcast"] == 0.07
    assert strategies == {"differentiated": {"cadence": 30, "risk_ratio": 0.2}}
    assert scenario.params["imitation"] == 0.38 and "broadcast" not in scenario.firms[0]
    assert given == {"differentiated": {"cadence": 30}}


# --- the launch: its prior and the best fit -----------------------------------------------


def test_align_finds_the_launch_of_a_curve_seen_from_mid_way() -> None:
    """A curve launched 7.3 periods before the data begin is placed at that launch."""
    curve = logistic(np.arange(70.0))
    times = 1990.0 + np.arange(20)
    shares = logistic(times - (1990.0 - 7.3))
    alignment = align(curve, times, shares, LEAD)
    assert alignment.launch == pytest.approx(1990.0 - 7.3, abs=FINE_STEP)
    assert alignment.rmse < 2e-3


def test_align_window_is_the_launchs_prior_whatever_the_curves_length() -> None:
    curve = logistic(np.arange(80.0))
    times = 1990.0 + np.arange(15)
    shares = logistic(times - 1984.0) + 0.01 * np.sin(times)
    assert align(curve[:56], times, shares, LEAD) == align(curve, times, shares, LEAD)
    with pytest.raises(ValueError, match="does not cover"):
        align(curve[:50], times, shares, LEAD)  # 40 steps of lead + 14 of span needed
    # a launch before the prior allows (more than 3 periods before the data) is not taken
    assert align(curve, times, shares, 3.0).launch == pytest.approx(1987.0)


def test_shares_at_is_zero_before_the_launch_and_nan_after_the_curve() -> None:
    curve = np.array([0.0, 0.1, 0.3, 0.6])
    values = shares_at(curve, 2000.0, np.array([1998.0, 2000.5, 2003.0, 2004.0]))
    np.testing.assert_allclose(values[:3], [0.0, 0.05, 0.6])
    assert np.isnan(values[3])


def test_a_longer_curve_starts_with_the_same_values() -> None:
    scenario = load_scenario(SCENARIO, {"market.n_customers": 200})
    keys = tuple(check_fit(scenario, DEFAULT_FIT))
    simulator = CurveSimulator(scenario.params, tuple(scenario.firms), keys, steps=12)
    values = {"diffusion.broadcast": 0.05, "diffusion.imitation": 0.4}
    values["customers.loss_aversion_mean"] = 1.5
    short = simulator.curve(values, seed=3)
    long = simulator.curve(values, seed=3, extra=7)
    assert short.size == 13 and long.size == short.size + 7
    assert np.array_equal(long[: short.size], short)


def test_a_scenarios_strategy_parameters_reach_the_simulated_market(tmp_path) -> None:
    """[strategies.NAME] of the calibrated scenario are not dropped on the way."""
    path = tmp_path / "adaptive.toml"
    path.write_text(
        '[market]\nstart = "legacy"\nn_customers = 200\n'
        '[firms.a]\nstrategy = "adaptive"\n[strategies.radical]\ncadence = 7\n'
    )
    from sim.calibration.data import shipped_series
    from sim.calibration.problem import prepare

    problem = prepare(shipped_series().get("colour_tv"), path, {"diffusion.imitation": (0.1, 0.9)})
    model = problem.simulator().model({"diffusion.imitation": 0.4}, seed=1)
    options = {o.name: o for o in model.firms[0].strategy.options}
    assert options["radical"].cadence == 7
    # and they are part of the fingerprint a resumed history must match
    from sim.calibration.abc import AbcSettings

    path.write_text(path.read_text().replace("cadence = 7", "cadence = 8"))
    other = prepare(shipped_series().get("colour_tv"), path, {"diffusion.imitation": (0.1, 0.9)})
    assert problem.fingerprint(AbcSettings()) != other.fingerprint(AbcSettings())


# --- weighted summaries ------------------------------------------------------------------


def test_weighted_quantiles_with_equal_weights_are_hazen_quantiles() -> None:
    values = np.random.default_rng(1).normal(size=101)
    levels = [0.05, 0.5, 0.95]
    np.testing.assert_allclose(
        weighted_quantiles(values, np.ones(101), levels),
        np.quantile(values, levels, method="hazen"),
    )


def test_summary_and_identification_rule() -> None:
    import pandas as pd

    from sim.calibration.predict import correlations

    rng = np.random.default_rng(2)
    keys = [
        FitKey("a", Range(0.0, 1.0)),
        FitKey("b", Range(0.0, 1.0)),
        FitKey("c", Range(0.0, 1.0)),
        FitKey("diffusion.imitation", Range(0.05, 1.0)),
        FitKey("e", Range(0.0, 1.0)),
    ]
    b = rng.normal(0.5, 0.02, 400)
    posterior = pd.DataFrame(
        {
            "weight": 1 / 400,
            "a": rng.uniform(0, 1, 400),  # the prior: nothing learnt
            "b": b,  # pinned down
            "c": rng.uniform(0.0, 0.04, 400),  # narrow, but pressed against the lower bound
            "diffusion.imitation": rng.uniform(0.97, 1.0, 400),  # against its hard limit
            "e": 0.5 + 0.5 * (rng.normal(0, 0.02, 400) + 0.2 * rng.normal(size=400)),
        }
    )
    posterior["launch"] = 1950 + 40 * (posterior["e"] - 0.5) + rng.normal(0, 0.1, 400)
    summary = summary_table(posterior, keys)
    assert list(summary.columns) == ["key", "mean", "q05", "q50", "q95"]
    correlation = correlations(posterior, [k.key for k in keys] + ["launch"])
    table = identification(summary, keys, correlation).set_index("key")
    assert table["verdict"].to_dict() == {
        "a": "not pinned down",
        "b": "pinned down",
        "c": "against a bound",
        "diffusion.imitation": "against a bound",
        "e": "on a ridge",
    }
    assert table["bound"].to_dict() == {
        "a": "",
        "b": "",
        "c": "lower",
        "diffusion.imitation": "upper",
        "e": "",
    }
    assert table.loc["diffusion.imitation", "hard_limit"] == "upper"  # 1 is its limit
    assert table.loc["c", "hard_limit"] == ""  # "c" has no spec: no hard limit known
    assert table.loc["e", "ridge"].startswith("launch (+")  # r near +1
    from sim.calibration.report import verdict_sentences

    words = " ".join(verdict_sentences(table.reset_index()))
    assert "`diffusion.imitation` is pressed against its upper prior bound" in words
    assert "hard limit (upper): no wider range is possible" in words
    assert "`c` is pressed against its lower prior bound" in words and "A wider range" in words
    assert "`e` lies on a ridge with launch" in words


# --- bad input: one line, exit 2, nothing run ---------------------------------------------


def write(tmp_path: Path, text: str, name: str = "adoption.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rows(values: list[object], start: int = 2000) -> str:
    return "year,share_adopted\n" + "".join(f"{start + i},{v}\n" for i, v in enumerate(values))


SHADOWING = (
    SCENARIO.read_text()
    .replace('strategy = "differentiated"', 'strategy = "differentiated"\nbroadcast = 0.02 # own')
    .replace("broadcast = 0.03 ", "# broadcast = 0.03 ")
)
SPREAD = (
    SCENARIO.read_text()
    .replace('start = "legacy"', 'start = "spread"')
    .replace("legacy_quality = 1.0", "# legacy_quality")
)

BAD = {
    # case: (file content or None for a missing file, extra args, expected substrings)
    "missing file": (None, [], ["nope.csv: no such file"]),
    "no time column": ("when,share_adopted\n1,0.1\n2,0.2\n", [], ["time column", "--time-column"]),
    "not a number": (rows([0.1, 0.2, "lots", 0.4, 0.5]), [], ["'lots'", "expected a number"]),
    "NaN": (rows([0.1, 0.2, "nan", 0.4, 0.5]), [], ["'nan'", "leave a gap out as a row"]),
    "time not increasing": (
        "year,share_adopted\n2000,0.1\n2001,0.2\n2001,0.3\n2002,0.4\n2003,0.5\n",
        [],
        ["year (line 4) = 2001", "strictly increasing"],
    ),
    "above 1, not percent": (
        rows([0.1, 0.2, 150, 0.4, 0.5]),
        [],
        ["= 150", "a percent in [0, 100]"],
    ),
    "shares mixed into percent": (
        rows([5, 20, 45, 0.6, 70]),
        [],
        ["= 0.6", "a percent like the rest"],
    ),
    "fewer than 5 points": (rows([0.1, 0.2, 0.3, 0.4]), [], ["at least 5 points, found 4"]),
    "unknown series": (GOOD_CSV, ["--series", "fax"], ["--series = 'fax'", "one of"]),
    "unknown fit key": (
        GOOD_CSV,
        ["--fit", "diffusion.imitatio=0:1"],
        ["with --fit: diffusion.imitatio: unknown key", "allowed: imitation"],
    ),
    "shadowed fit key": (
        GOOD_CSV,
        ["--fit", "diffusion.broadcast=0.001:0.1", "--scenario", "{shadowing}"],
        ["diffusion.broadcast = 0.001: does not reach the model", "firms.newco.broadcast"],
    ),
    "low >= high": (GOOD_CSV, ["--fit", "diffusion.imitation=0.5:0.2"], ["--fit", "LOW < HIGH"]),
    "a log-uniform prior from 0": (
        GOOD_CSV,
        ["--fit", "diffusion.imitation=0:1:log"],
        ["--fit = 'diffusion.imitation=0:1:log'", "LOW > 0 for a log-uniform prior"],
    ),
    "an unknown prior scale": (
        GOOD_CSV,
        ["--fit", "diffusion.imitation=0.1:1:normal"],
        ["--fit", "the scale after HIGH to be 'log' or nothing"],
    ),
    "range outside allowed": (
        GOOD_CSV,
        ["--fit", "diffusion.imitation=0.1:2"],
        ["with --fit: diffusion.imitation = 2.0", "expected a number >= 0 and <= 1"],
    ),
    "fit not numbers": (
        GOOD_CSV,
        ["--fit", "diffusion.imitation=a:b"],
        ["--fit", "numbers LOW and HIGH"],
    ),
    "fit a run setting": (GOOD_CSV, ["--fit", "run.steps=1:9"], ["--fit run.steps", "not fitted"]),
    "fit a choice": (GOOD_CSV, ["--fit", "network.network=0:1"], ["expected a numeric key"]),
    "holdout too large": (GOOD_CSV, ["--holdout", "4"], ["--holdout = 4", "<= 3", "8 points"]),
    "workers and scheduler": (
        GOOD_CSV,
        ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
        ["either --workers or --scheduler"],
    ),
    "budget too small for a first generation": (
        GOOD_CSV,
        ["--budget", "500"],
        ["--budget = 500", "expected an integer >= 748", "the prior sample (200)"],
    ),
    "a share just above 1": (rows([0.1, 0.3, 0.6, 0.9, 1.02]), [], ["(line 6) = 1.02"]),
    "times falling": (
        "year,share_adopted\n2004,0.6\n2003,0.5\n2002,0.3\n2001,0.2\n2000,0.1\n",
        [],
        ["these fall", "sort the rows by time"],
    ),
    "the wrong series is not blamed": (
        "series,year,share\n"
        + "".join(f"{s},{2000 + i},{0.1 * (i + 1):.1f}\n" for s in "ab" for i in range(5)).replace(
            "b,2004,0.5", "b,2004,50"
        ),
        ["--series", "a"],
        ["(line 11, series 'b') = 50"],
    ),
    "every share 0": (rows([0, 0, 0, 0, 0, 0]), [], ["every fitted share is 0"]),
    "a key that cannot move the curve": (
        GOOD_CSV,
        ["--fit", "trust.trust_rate=0:2"],
        ["--fit trust.trust_rate = '0:2'", "cannot move the curve"],
    ),
    "an unknown observation key": (
        GOOD_CSV,
        ["--fit", "observation.nois=0.01:0.1"],
        ["--fit observation.nois", "allowed: noise, autocorrelation"],
    ),
    "a noise sd from 0": (
        GOOD_CSV,
        ["--fit", "observation.noise=0:0.1"],
        ["--fit observation.noise = (0.0, 0.1)", "LOW > 0"],
    ),
    "a correlation without the sd": (
        GOOD_CSV,
        ["--fit", "observation.autocorrelation=0:0.9"],
        ["needs its sd fitted too"],
    ),
    "the noise off and fitted": (
        GOOD_CSV,
        ["--noise", "off", "--fit", "observation.noise=0.01:0.1"],
        ["--noise = 'off'", "expected one or the other"],
    ),
    "not a legacy market": (
        GOOD_CSV,
        ["--scenario", "{spread}"],
        ["market.start = 'spread'", "'legacy'"],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_and_nothing_runs(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, extra, expected = BAD[case]
    data = tmp_path / "nope.csv" if content is None else write(tmp_path, content)
    scenarios = {
        "{shadowing}": str(write(tmp_path, SHADOWING, "shadowing.toml")),
        "{spread}": str(write(tmp_path, SPREAD, "spread.toml")),
    }
    extra = [scenarios.get(a, a) for a in extra]
    out = tmp_path / "out"
    code = run.main(["calibrate", str(data), "--out", str(out), "--quiet", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    for part in expected:
        assert part in err, err
    assert any(where in err for where in (".csv", ".toml", "--")), err  # a file or a flag
    assert not out.exists()  # nothing started


def test_missing_pyabc_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path) -> None:
    from sim.calibration import cli

    monkeypatch.setattr(cli, "_has_pyabc", lambda: False)
    code = run.main(["calibrate", str(write(tmp_path, GOOD_CSV))])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == (
        "error: calibration needs pyabc, which is not installed: "
        "pip install -e '.[calibrate]' (or '.[test]')"
    )


def test_input_errors_name_fit_and_file() -> None:
    scenario = load_scenario(SCENARIO)
    with pytest.raises(InputError) as caught:
        check_fit(scenario, {"customers.loss_aversion_mean": (1.0, 25.0)})
    assert str(caught.value).startswith(f"{SCENARIO} with --fit: customers.loss_aversion_mean")


COMMANDS = {
    # case: (arguments after the command, expected substrings)
    "backtest: no such file": (["backtest", "{tmp}/nope.csv"], ["nope.csv: no such file"]),
    "backtest: unknown series": (["backtest", "--series", "fax"], ["--series = 'fax'"]),
    "backtest: budget too small": (["backtest", "--budget", "100"], ["--budget = 100"]),
    "check: one dataset": (["calibrate-check", "--datasets", "1"], ["--datasets = 1"]),
    "check: unknown key": (
        ["calibrate-check", "--fit", "diffusion.imitatio=0:1"],
        ["diffusion.imitatio: unknown key"],
    ),
    "check: budget too small": (
        ["calibrate-check", "--budget", "300"],
        ["--budget = 300", "expected an integer >= 398"],
    ),
}


@pytest.mark.parametrize("case", list(COMMANDS))
def test_backtest_and_check_refuse_bad_input_in_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, expected = COMMANDS[case]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out, doc = tmp_path / "out", tmp_path / "validation.md"
    code = run.main([*args, "--out", str(out), "--doc", str(doc), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    for part in expected:
        assert part in err, err
    assert not out.exists() and not doc.exists()  # nothing made, nothing half-written


def test_calibrate_passes_its_lead_to_the_problem(tmp_path: Path) -> None:
    """calibrate(lead=...) reaches the launch's prior: a lead outside 1-500 is refused,
    before anything is simulated or written (it used to be dropped, so any lead ran
    with the default)."""
    from sim.calibration.api import calibrate

    data = Path(__file__).resolve().parent.parent / "data/adoption/us_household_technologies.csv"
    out = tmp_path / "never"
    with pytest.raises(InputError, match="--lead = 0"):
        calibrate(data, series="colour_tv", lead=0, out=out)
    assert not out.exists()
