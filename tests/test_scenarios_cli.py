"""Scenario files, their errors, and the run.py command line end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import InputError
from sim.keys import ScenarioError, parse_assignment
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenarios_are_valid_and_every_key_is_commented(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#") and not line.startswith("description"):
            assert "#" in line, f"{path.name}: key without a comment: {line}"


def test_required_scenarios_exist() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {
        "baseline",
        "classroom_loss_aversion",
        "bass_check",
        "cocreation",
        "dynamic_market",
    } <= names


BAD = {
    "unknown key": (
        "[customers]\nloss_aversion_mea = 2.0\n",
        "customers.loss_aversion_mea: unknown key",
    ),
    "wrong type": ('[market]\nn_customers = "many"\n', "n_customers = 'many': expected an integer"),
    "nan": ("[customers]\nalpha = nan\n", "alpha = nan: expected a number > 0 and <= 1"),
    "out of range": (
        "[customers]\ninitial_trust = 1.5\n",
        "initial_trust = 1.5: expected a number >= 0 and <= 1",
    ),
    "unknown strategy": (
        '[firms.a]\nstrategy = "disruptive"\n',
        "firms.a.strategy = 'disruptive': expected one of",
    ),
    "unknown network": (
        '[network]\nnetwork = "ring"\n',
        "network.network = 'ring': expected one of",
    ),
    "broken toml": ("[market\nn_customers = 3\n", "not valid TOML"),
    "unknown section": ("[marquet]\nn_customers = 3\n", "[marquet]: unknown section"),
    "bad run key": ("[run]\nreplicates = 0\n", "run.replicates = 0: expected an integer >= 1"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_scenarios_fail_with_one_line_errors(tmp_path: Path, case: str) -> None:
    text, expected = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr and result.stderr.count("\n") == 1


def test_missing_file_and_bad_override() -> None:
    result = run_cli("run", "scenarios/nope.toml")
    assert result.returncode == 2 and "scenarios/nope.toml: no such scenario file" in result.stderr
    result = run_cli("run", "scenarios/baseline.toml", "--set", "customers.loss_aversion_mean=-2")
    assert result.returncode == 2 and "loss_aversion_mean = -2" in result.stderr
    result = run_cli("run", "scenarios/baseline.toml", "--set", "firms.nobody.cocreation=0.1")
    assert result.returncode == 2 and "no firm 'nobody'" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_assignment() -> None:
    assert parse_assignment("customers.loss_aversion_mean=3") == ("customers.loss_aversion_mean", 3)
    assert parse_assignment("network.network=complete") == ("network.network", "complete")
    assert parse_assignment("firms.a.position=[0.1, 0.2]") == ("firms.a.position", [0.1, 0.2])
    with pytest.raises(ScenarioError, match="expected KEY=VALUE"):
        parse_assignment("novalue")


def test_overrides_apply_and_validate(root: Path) -> None:
    scenario = load_scenario(
        root / "scenarios" / "baseline.toml",
        {"customers.loss_aversion_mean": 1.0, "firms.radical.cocreation": 0.3},
    )
    kwargs = scenario.model_kwargs()
    assert kwargs["loss_aversion_mean"] == 1.0
    assert next(f for f in kwargs["firms"] if f["name"] == "radical")["cocreation"] == 0.3


def test_run_writes_tidy_results_with_provenance(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "run",
        "scenarios/baseline.toml",
        "--steps",
        "15",
        "--replicates",
        "3",
        "--seed",
        "7",
        "--set",
        "market.n_customers=400",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert "final share" in result.stdout and str(out) in result.stdout
    for name in (
        "timeseries.parquet",
        "timeseries.csv",
        "summary.csv",
        "releases.csv",
        "manifest.json",
        "adoption.png",
    ):
        assert (out / name).stat().st_size > 0, name
    series = pd.read_parquet(out / "timeseries.parquet")
    assert len(series) == 3 * 16 and {"replicate", "seed", "step"} <= set(series.columns)
    assert series.groupby("replicate")["step"].apply(list).map(lambda s: s == list(range(16))).all()
    pd.testing.assert_frame_equal(series, pd.read_csv(out / "timeseries.csv"), check_dtype=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["base_seed"] == 7 and len(manifest["seeds"]) == 3
    assert manifest["parameters"]["n_customers"] == 400
    assert manifest["versions"]["mesa"].startswith("3.5")
    assert sorted(series["seed"].unique()) == sorted(manifest["seeds"])
    # the same command gives the same numbers
    again = tmp_path / "again"
    run_cli(
        "run",
        "scenarios/baseline.toml",
        "--steps",
        "15",
        "--replicates",
        "3",
        "--seed",
        "7",
        "--set",
        "market.n_customers=400",
        "--out",
        str(again),
        "--quiet",
    )
    pd.testing.assert_frame_equal(series, pd.read_parquet(again / "timeseries.parquet"))


UNUSED = {
    # a market-wide default that every firm overrides: names both keys and what to set
    "shadowed default": (
        '[diffusion]\nbroadcast = 0.05\n[firms.a]\nstrategy = "radical"\nbroadcast = 0.01\n',
        "diffusion.broadcast = 0.05: does not reach the model: every firm sets its own "
        "broadcast (firms.a.broadcast)",
    ),
    "network key without its network": (
        '[network]\nnetwork = "complete"\nrewiring = 0.2\n',
        "network.rewiring = 0.2: does not reach the model: used only with "
        "network.network = 'watts_strogatz'",
    ),
    "exploration without an adaptive firm": (
        "[diffusion]\nexploration = 0.3\n",
        "diffusion.exploration = 0.3: does not reach the model: used only by firms that "
        "choose among strategies (adaptive)",
    ),
    "legacy quality without a legacy start": (
        "[market]\nlegacy_quality = 2.0\n",
        "market.legacy_quality = 2.0: does not reach the model: used only with "
        "market.start = 'legacy'",
    ),
}


@pytest.mark.parametrize("case", UNUSED)
def test_a_key_that_cannot_reach_the_model_is_refused(tmp_path: Path, case: str) -> None:
    text, expected = UNUSED[case]
    path = tmp_path / "unused.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert str(err.value).startswith(str(path)) and expected in str(err.value)
    result = run_cli("validate", str(path))
    assert result.returncode == 2 and expected in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_an_override_that_cannot_reach_the_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "own.toml"
    path.write_text('[firms.a]\nstrategy = "radical"\nbroadcast = 0.01\n')
    result = run_cli("run", str(path), "--set", "diffusion.broadcast=0.05", "--steps", "2")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"{path} with --set: diffusion.broadcast = 0.05: does not reach the model" in (
        result.stderr
    )
    assert "set firms.*.broadcast (every firm) or firms.NAME.broadcast instead" in result.stderr
    # the advice works: the wildcard reaches every firm
    scenario = load_scenario(path, {"firms.*.broadcast": 0.05})
    assert [f["broadcast"] for f in scenario.firms] == [0.05]
    # a file key that an override switches off is superseded, not refused
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml", {"market.start": "legacy"})
    assert "market.initial_quality" in baseline.unused_keys()
