"""Aggregation: means and t-based 95 % CIs on a known input, winners, Sobol on Ishigami."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.sweep.aggregate import aggregate, sobol_indices, winners
from sim.sweep.loader import build_experiment

ROOT = Path(__file__).resolve().parent.parent


def experiment(factors: dict, **settings: object):
    data = {
        "experiment": {"name": "known", "replicates": 3, "steps": 10, "seed": 3, **settings},
        "base": {"market": {"n_customers": 100}},
        "factors": factors,
    }
    return build_experiment(data, str(ROOT / "experiments" / "known.toml"))


def test_means_and_confidence_intervals_on_known_input() -> None:
    exp = experiment({"lam": {"key": "customers.loss_aversion_mean", "values": [1.0, 2.0]}})
    rows = []
    shares = {  # point -> firm -> replicate values
        0: {
            "incremental": [0.1, 0.2, 0.3],
            "differentiated": [0.5, 0.5, 0.5],
            "radical": [0.4, 0.3, 0.2],
        },
        1: {
            "incremental": [0.6, 0.7, 0.5],
            "differentiated": [0.2, 0.3, 0.1],
            "radical": [0.1, 0.1, 0.1],
        },
    }
    for point, firms in shares.items():
        for k, (firm, values) in enumerate(firms.items()):
            for r, value in enumerate(values):
                rows.append(
                    {
                        "point": point,
                        "replicate": r,
                        "firm": firm,
                        "firm_index": k,
                        "strategy": firm,
                        "final_share": value,
                        "first_t50": np.nan if (point, k, r) == (0, 0, 0) else 10.0 + r,
                    }
                )
    runs = pd.DataFrame(rows)
    out = aggregate(runs, exp).set_index(["point", "firm", "metric"])
    half = 4.302652729911275 * 0.1 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    inc = out.loc[(0, "incremental", "final_share")]
    assert inc["lam"] == 1.0 and inc["n"] == 3
    assert inc["mean"] == pytest.approx(0.2) and inc["sd"] == pytest.approx(0.1)
    assert inc["ci_low"] == pytest.approx(0.2 - half)
    assert inc["ci_high"] == pytest.approx(0.2 + half)
    flat = out.loc[(0, "differentiated", "final_share")]
    assert flat["ci_low"] == pytest.approx(0.5) and flat["ci_high"] == pytest.approx(0.5)
    t50 = out.loc[(0, "incremental", "first_t50")]  # one undefined value is left out
    assert t50["n"] == 2 and t50["mean"] == pytest.approx(11.5)

    win = winners(runs, exp).set_index("point")
    assert win.loc[0, "winner"] == "differentiated" and win.loc[0, "runner_up"] == "radical"
    # paired differences 0.1, 0.2, 0.3: mean 0.2, sd 0.1
    assert win.loc[0, "margin"] == pytest.approx(0.2)
    assert win.loc[0, "margin_ci_low"] == pytest.approx(0.2 - half)
    assert not win.loc[0, "clear"]  # 0.2 - 0.248 < 0: the margin's CI includes 0
    assert win.loc[0, "wins"] == 1.0  # first in every replicate, yet not by a clear margin
    # point 1: paired differences 0.4, 0.4, 0.4 to the runner-up: a clear margin
    assert win.loc[1, "winner"] == "incremental" and win.loc[1, "runner_up"] == "differentiated"
    assert win.loc[1, "margin"] == pytest.approx(0.4) and win.loc[1, "clear"]


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_ishigami_match_known_values() -> None:
    """Saltelli design + SALib analysis on Ishigami (a = 7, b = 0.1).

    Known: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244. With N = 1024 base samples
    (5,120 evaluations without second-order terms) the estimators' sampling error is
    about 0.02-0.03, so 0.05 is a tolerance that fails only for a real mistake.
    """
    span = {"low": 0.0, "high": 2 * math.pi}
    exp = experiment(
        {
            "x1": {"key": "market.initial_quality", **span},
            "x2": {"key": "decision.switching_cost", **span},
            "x3": {"key": "decision.fit_weight", **span},
        },
        design="sobol",
        samples=1024,
        replicates=1,
        bootstrap=200,
    )
    x = exp.table[["x1", "x2", "x3"]].to_numpy() - math.pi
    runs = pd.DataFrame(
        {"point": range(exp.n_points), "firm": exp.firm_names[0], "final_share": ishigami(x)}
    )
    indices, notes = sobol_indices(runs, exp, ["final_share"])
    assert notes == [
        f"final_share of {f}: some design points missing or undefined" for f in exp.firm_names[1:]
    ]
    got = indices.set_index("factor")
    assert got["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert got["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.05)
    assert (got["S1_conf"] > 0).all() and (got["ST_conf"] < 0.1).all()
