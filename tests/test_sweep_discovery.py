"""Scenario discovery and the robust choice: PRIM recovers a known box, regret is right
on a known table, the discovery experiment runs end to end, and bad settings start no run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.sweep.discovery import box_stats, find_box
from sim.sweep.loader import load_experiment
from sim.sweep.pipeline import analyse, run_sweep
from sim.sweep.robust import choices, regret_table

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("noise", [0.0, 0.2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prim_recovers_a_known_box(seed: int, noise: float) -> None:
    """A strategy wins exactly where x0 >= 0.4 and x3 <= 0.7, two of six uniform inputs
    (with ``noise``, that share of the winners flipped at random, as runs tip). The box
    found restricts those two inputs only, each limit within 0.05 of the truth: with
    1,500 runs the data points near a limit are about 0.001 apart, and PRIM peels 5 % of
    a box per step, so 0.05 allows a step either way and no more."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((1500, 6)), columns=[f"x{i}" for i in range(6)])
    truth = ((x["x0"] >= 0.4) & (x["x3"] <= 0.7)).to_numpy()
    y = np.where(rng.random(len(x)) < noise, ~truth, truth)
    box, trajectory = find_box(x, y, "radical")
    assert set(box.limits) == {"x0", "x3"}
    assert box.limits["x0"][0] == pytest.approx(0.4, abs=0.05)
    assert box.limits["x3"][1] == pytest.approx(0.7, abs=0.05)
    assert box.limits["x0"][1] == pytest.approx(1.0, abs=0.01)  # not restricted above
    assert box.limits["x3"][0] == pytest.approx(0.0, abs=0.01)
    # the numbers reported are the box's, counted on the data
    assert {k: getattr(box, k) for k in ("coverage", "density", "n_runs", "mass")} == (
        box_stats(x, y, box.limits)
    )
    assert trajectory["chosen"].sum() == 1
    rule = box.rule({"x0": "λ̄", "x3": "ρ"}, {k: (x[k].min(), x[k].max()) for k in x})
    assert rule.startswith(f"radical wins {100 * box.density:.0f} % of runs where λ̄ ≥ ")
    assert f"which hold {100 * box.coverage:.0f} % of its wins" in rule


def test_regret_on_a_known_table() -> None:
    """Three futures, three strategies (shares of the focal firm):

    future  A    B    C      best   regret A, B, C
    0       0.5  0.4  0.1    0.5    0.0, 0.1, 0.4
    1       0.1  0.3  0.2    0.3    0.2, 0.0, 0.1
    2       0.6  0.2  0.6    0.6    0.0, 0.4, 0.0
    """
    shares = pd.DataFrame(
        {"A": [0.5, 0.1, 0.6], "B": [0.4, 0.3, 0.2], "C": [0.1, 0.2, 0.6]},
        index=pd.Index([0, 1, 2], name="future"),
    )
    table = regret_table(shares).set_index("strategy")
    np.testing.assert_allclose(table["mean_share"], [0.4, 0.3, 0.3])
    np.testing.assert_allclose(table["mean_regret"], [0.2 / 3, 0.5 / 3, 0.5 / 3])
    np.testing.assert_allclose(table["max_regret"], [0.2, 0.4, 0.4])
    # 90th percentile of three sorted values, linear: v1 + 0.8 (v2 - v1), e.g. B's
    # regrets 0, 0.1, 0.4 give 0.1 + 0.8 x 0.3 = 0.34
    np.testing.assert_allclose(table["p90_regret"], [0.16, 0.34, 0.34])
    np.testing.assert_allclose(table["best_in"], [2 / 3, 1 / 3, 1 / 3])
    assert choices(table.reset_index()) == {
        "mean_share": ["A"],
        "max_regret": ["A"],
        "p90_regret": ["A"],
    }
    # a future with a missing share is left out for every strategy
    gap = pd.concat([shares, pd.DataFrame({"A": [0.9], "B": [np.nan], "C": [0.0]}, index=[3])])
    assert regret_table(gap)["futures"].iloc[0] == 3


def test_criteria_can_disagree() -> None:
    """B is best on average but C never falls far behind: the choices say so, and the
    report's sentences take their numbers from the table; ties are named as ties."""
    from sim.sweep.discovery_report import robust_section

    shares = pd.DataFrame({"B": [0.9, 0.0, 0.9], "C": [0.6, 0.5, 0.6]})
    table = regret_table(shares)
    picks = choices(table)
    assert picks["mean_share"] == ["B"] and picks["max_regret"] == ["C"]
    text = "\n".join(robust_section(table, "focal", {}))
    assert "- Best mean share: **B** (0.600)." in text
    assert "- Smallest worst-case regret: **C** (0.300)." in text  # regrets 0.3, 0, 0.3
    assert "worst case 0.300 against B's 0.500" in text  # B: 0, 0.5, 0
    tied = regret_table(pd.DataFrame({"B": [1.0, 0.0], "C": [0.0, 1.0]}))
    text = "\n".join(robust_section(tied, "focal", {}))
    assert "- Smallest worst-case regret: every strategy, 1.000: it does not tell" in text


DISCOVERY = """
[experiment]
name = "tiny_discovery"
base = "{root}/scenarios/baseline.toml"
design = "lhs"
samples = 12
replicates = 1
steps = 40
seed = 5
keep = []

[set]
"market.n_customers" = 300

[factors.loss_aversion]
key = "customers.loss_aversion_mean"
low = 1.0
high = 4.0

[factors.dynamism]
key = "market.market_dynamism"
low = 0.0
high = 0.02

[factors.radical_cadence]
key = "strategies.radical.cadence"
low = 6
high = 30

[robust]
focal = "differentiated"
strategies = ["differentiated", "radical", "adaptive"]

[discovery]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "discovery.toml"
    path.write_text(text.format(root=ROOT), encoding="utf-8")
    return path


def test_discovery_experiment_end_to_end(tmp_path: Path) -> None:
    exp = load_experiment(write(tmp_path, DISCOVERY))
    assert exp.n_points == 12 * 3 and exp.crossed
    # the variants of a future share their seed (common random numbers)
    assert exp.run_seed(0, 0) == exp.run_seed(1, 0) == exp.run_seed(2, 0) != exp.run_seed(3, 0)
    out = tmp_path / "out"
    outcome = run_sweep(exp, out, workers=1, progress=False)
    assert outcome.finished == 36 and not outcome.failures
    analyse(exp, out, outcome)
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 36
    for column in (
        "customers.loss_aversion_mean",
        "market.market_dynamism",
        "strategies.radical.cadence",
        "firms.differentiated.strategy",
        "winner",
        "winner_strategy",
        "share_radical",
    ):
        assert column in runs
    shares = runs[[c for c in runs if c.startswith("share_")]]
    assert (runs["winner"] == shares.idxmax(axis=1).str.removeprefix("share_")).all()
    boxes = pd.read_csv(out / "boxes.csv")
    assert {"strategy", "rule", "coverage", "density", "n_runs"} <= set(boxes)
    assert "strategies.radical.cadence low" in boxes and "market.market_dynamism high" in boxes
    regret = pd.read_csv(out / "regret.csv")
    assert list(regret["strategy"]) == ["differentiated", "radical", "adaptive"]
    assert (regret["futures"] == 12).all()
    report = (out / "report.md").read_text(encoding="utf-8")
    for row in boxes.itertuples():
        assert row.rule in report  # every rule's numbers come from boxes.csv
    picks = choices(regret)
    assert "Best mean share: " + " and ".join(f"**{s}**" for s in picks["mean_share"]) in report
    for name in ("boxes.png", "tradeoff.png", "feature_scores.png", "regret.png"):
        assert (out / name).stat().st_size > 10_000


BAD = [
    (
        'design = "lhs"\nsamples = 12',
        'design = "grid"',
        "discovery: scenario discovery needs a random design",
    ),
    (
        'focal = "differentiated"',
        'focal = "nobody"',
        "robust.focal = 'nobody': expected a firm of the base scenario",
    ),
    (
        'strategies = ["differentiated", "radical", "adaptive"]',
        'strategies = ["radical", "adaptive"]',
        "includes differentiated's own strategy",
    ),
    (
        'strategies = ["differentiated", "radical", "adaptive"]',
        'strategies = ["differentiated", "sideways"]',
        "robust.strategies = 'sideways'",
    ),
    (
        "[discovery]",
        "[discovery]\npeel_alpha = 0.9",
        "discovery.peel_alpha = 0.9: expected a number > 0 and < 0.5",
    ),
    ("[discovery]", "[discovery]\nbox = 3", "discovery.box: unknown key"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_discovery_settings_start_no_run(
    tmp_path: Path, old: str, new: str, message: str, capsys: pytest.CaptureFixture
) -> None:
    import run

    path = write(tmp_path, DISCOVERY.replace(old, new))
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_experiment(path)
    out = tmp_path / "out"
    assert run.main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not out.exists()


def test_shipped_discovery_experiment_is_valid() -> None:
    for quick in (False, True):
        exp = load_experiment(ROOT / "experiments" / "where_strategies_win.toml", quick=quick)
        assert exp.design == "lhs" and exp.discovery is not None
        assert exp.robust == {
            "focal": "differentiated",
            "strategies": ["incremental", "differentiated", "radical", "adaptive"],
            "base": "differentiated",
        }
        ranges = [f for f in exp.factors if f.is_range]
        assert len(ranges) == 15
        # never a strategy's own speed (MODEL.md, innovation economics): no strategies.* keys
        assert not [k for f in ranges for k in f.keys if k.startswith("strategies.")]
