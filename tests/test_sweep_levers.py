"""Levers apart from uncertainties: what the focal firm chooses meets every sampled future
with the same seeds; categorical uncertainties are sampled and explained; the robust
choice, the tornado and the brief's numbers are those of the tables; bad levers start no
run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.sweep.loader import load_experiment
from sim.sweep.pipeline import analyse, run_sweep
from sim.sweep.tornado import QUANTILE

ROOT = Path(__file__).resolve().parent.parent

MARKET = """
[experiment]
name = "tiny_market"
base = "{root}/scenarios/baseline.toml"
design = "lhs"
samples = 24
replicates = 2
steps = 30
seed = 11
keep = []

[base.run]
step = "quarter"

[base.firms.us]
strategy = "differentiated"
cocreation = 0.1

[base.firms.rival]
strategy = "radical"

[set]
"market.n_customers" = 250

[levers]
focal = "us"
strategy = ["differentiated", "radical"]
cocreation = [0.0, 0.2]

[uncertainties]
lam = {{ key = "customers.loss_aversion_mean", low = 1.0, high = 4.0, label = "loss aversion" }}
rho = {{ key = "market.market_dynamism", low = 0.0, high = 0.03 }}
rival_cadence = {{ key = "firms.rival.cadence", low = 6, high = 30 }}
network = {{ key = "network.network", values = ["watts_strogatz", "erdos_renyi", "complete"] }}

[discovery]
"""


def write(tmp_path: Path, text: str = MARKET) -> Path:
    path = tmp_path / "market.toml"
    path.write_text(text.format(root=ROOT), encoding="utf-8")
    return path


def test_levers_meet_every_sampled_future_with_the_same_seeds(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path))
    assert exp.focal == "us" and [f.name for f in exp.levers] == [
        "focal_strategy",
        "focal_cocreation",
    ]
    assert [f.role for f in exp.uncertainties] == ["uncertainty"] * 4
    assert exp.n_points == 24 * 4 and exp.target == "choice"
    table = exp.table
    for future in range(24):
        rows = table[exp.futures == future]
        # the four options, each once, in the same future (same uncertainties)
        assert sorted(zip(rows["focal_strategy"], rows["focal_cocreation"], strict=True)) == sorted(
            [(s, c) for s in ("differentiated", "radical") for c in (0.0, 0.2)]
        )
        for name in ("lam", "rho", "rival_cadence", "network"):
            assert rows[name].nunique() == 1
        seeds = {exp.run_seed(int(p), 0) for p in rows.index}
        assert len(seeds) == 1  # common random numbers
    # the categorical uncertainty is sampled (Latin hypercube: 8 futures per level)
    per_level = table.drop_duplicates("lam")["network"].value_counts()
    assert sorted(per_level) == [8, 8, 8]
    # each point's options reach the focal firm only
    point = exp.points[int(np.flatnonzero(table["focal_strategy"] == "radical")[0])]
    firms = {f["name"]: f for f in point.firms}
    assert firms["us"]["strategy"] == "radical" and firms["rival"]["strategy"] == "radical"
    assert point.params["network"] == table.loc[point.index, "network"]


BAD = [
    (
        'focal = "us"',
        'focal = "them"',
        "levers.focal = 'them': expected the firm whose levers these are, one of us, rival",
    ),
    (
        "cocreation = [0.0, 0.2]",
        'cocreation = {{ key = "market.market_dynamism", values = [0.0, 0.1] }}',
        "levers.cocreation.key = 'market.market_dynamism': expected a key of the focal firm us",
    ),
    (
        "cocreation = [0.0, 0.2]",
        "cocreation = [0.0, 2.0]",
        "levers.cocreation.values = 2.0: expected a number >= 0 and <= 1",
    ),
    (
        'rival_cadence = {{ key = "firms.rival.cadence", low = 6, high = 30 }}',
        'rival_cadence = {{ key = "firms.*.cocreation", low = 0.0, high = 0.3 }}',
        "firms.us.cocreation: set by both rival_cadence and focal_cocreation",
    ),
    (
        "[discovery]",
        '[discovery]\ntarget = "winner"\n[robust]\nfocal = "us"',
        "robust: [robust] is a strategy lever of its focal firm",
    ),
    (
        'strategy = ["differentiated", "radical"]',
        'strategy = ["radical"]',
        "discovery.target = 'winner'",
    ),
    (
        "[base.run]",
        "[base.run]\nsteps = 10",
        "base.run.steps = 10: a sweep's runs take experiment.steps",
    ),
    (
        "keep = []",
        'keep = []\nmetric = "sales"',
        "experiment.metric = 'sales': expected one of share, profit",
    ),
    (
        "keep = []",
        "keep = []\nequivalence = -0.5",
        "experiment.equivalence = -0.5: expected a number > 0",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_levers_give_one_line_errors_and_start_no_run(
    tmp_path: Path, old: str, new: str, message: str, capsys: pytest.CaptureFixture
) -> None:
    import run

    text = MARKET.replace(old, new)
    if "target = 'winner'" in message:  # only radical: the base scenario's own value is absent
        text = text.replace("[discovery]", '[discovery]\ntarget = "winner"')
    path = write(tmp_path, text)
    with pytest.raises(
        InputError,
        match=message.replace("(", r"\(")
        .replace(".", r"\.")
        .replace("[", r"\[")
        .replace("*", r"\*"),
    ):
        load_experiment(path)
    out = tmp_path / "out"
    assert run.main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not out.exists()


def test_profit_is_a_metric_and_tables_name_it(tmp_path: Path) -> None:
    path = write(tmp_path, MARKET.replace("keep = []", 'keep = []\nmetric = "profit"'))
    exp = load_experiment(path)
    assert (exp.metric_column, exp.metric_label) == ("profit", "profit")
    # a tie's margin and the no-winner gap: 0.02 and 0.01 share held for the 30 steps
    assert (exp.rules().equivalence, exp.rules().gap) == pytest.approx((0.6, 0.3))


@pytest.mark.slow
def test_lever_experiment_end_to_end(tmp_path: Path) -> None:
    """A tiny "my firm against a rival" experiment: every table it writes agrees with the
    runs it was computed from, and the report names what the user wrote."""
    exp = load_experiment(write(tmp_path))
    out = tmp_path / "out"
    outcome = run_sweep(exp, out, workers=2, progress=False)
    assert outcome.finished == 24 * 4 * 2 and not outcome.failures
    analyse(exp, out, outcome)
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["network.network"]) == {"watts_strogatz", "erdos_renyi", "complete"}
    # the robust choice: every option's mean share of us, recounted from runs.csv
    regret = pd.read_csv(out / "regret.csv").set_index("option")
    worlds = runs.pivot_table(index=["future", "replicate"], columns="option", values="share_us")
    assert (
        set(regret.index)
        == set(worlds.columns)
        == {
            "differentiated, cocreation 0",
            "differentiated, cocreation 0.2",
            "radical, cocreation 0",
            "radical, cocreation 0.2",
        }
    )
    np.testing.assert_allclose(regret.loc[worlds.columns, "mean"], worlds.mean(), rtol=1e-9)
    best = worlds.max(axis=1)
    np.testing.assert_allclose(
        regret.loc[worlds.columns, "max_regret"], worlds.rsub(best, axis=0).max(), rtol=1e-9
    )
    verdict = pd.read_csv(out / "lever_verdict.csv").iloc[0]
    assert verdict["verdict"] in ("clear", "tie", "coin flip", "undecided")
    assert verdict["winner"] == worlds.mean().idxmax()
    # discovery includes the categorical uncertainty
    scores = pd.read_csv(out / "feature_scores.csv")
    assert {"network.network", "noise floor"} <= set(scores["parameter"])
    floor = float(scores.loc[scores["parameter"] == "noise floor", "score"].iloc[0])
    real = scores[scores["parameter"] != "noise floor"]
    assert (real["below_noise"] == (real["score"] <= floor)).all()
    boxes = pd.read_csv(out / "boxes.csv")
    assert "network.network levels" in boxes
    tree = pd.read_csv(out / "tree.csv")
    assert tree.loc[0, "runs"] == len(worlds) and tree["parent"].iloc[0] == -1
    # the tornado, recounted: us's share at the low and high fifth of loss aversion
    tornado = pd.read_csv(out / "tornado.csv")
    row = tornado[
        (tornado["factor"] == "lam") & (tornado["option"] == "radical, cocreation 0.2")
    ].iloc[0]
    part = runs[runs["option"] == "radical, cocreation 0.2"]
    low_cut = np.quantile(part["customers.loss_aversion_mean"], QUANTILE)
    assert row["low_mean"] == pytest.approx(
        part.loc[part["customers.loss_aversion_mean"] <= low_cut, "share_us"].mean()
    )
    # the report lists what the experiment wrote, speaks in quarters, and keeps --out
    report = (out / "report.md").read_text(encoding="utf-8")
    assert (
        "`firms.us.strategy = 'differentiated'`" in report
        and "`market.n_customers = 250`" in report
    )
    assert "30 quarters (7.5 years)" in report
    assert (
        "ρ = 0.03 per quarter: needs move 11.5 % of the way to the future point per year" in report
    )
    command = f"python run.py sweep {exp.command().split()[3]} --out {out}"
    assert command in report
    assert json.loads((out / "manifest.json").read_text())["command"] == command


def test_the_main_job_takes_out_and_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``python run.py --out DIR --workers 2`` runs the quick strategy map into DIR."""
    import run

    seen = {}
    monkeypatch.setattr(run, "cmd_sweep", lambda args: seen.update(vars(args)) or 0)
    assert run.main(["--out", str(tmp_path / "map"), "--workers", "2"]) == 0
    assert seen["out"] == str(tmp_path / "map") and seen["workers"] == 2 and seen["quick"]
    assert seen["experiment"].endswith("experiments/strategy_map.toml")
    assert run.main([]) == 0 and seen["out"] is None  # the default folder
