"""How each condition moves each strategy: main effects with CIs, checked on a known table,
and every number in the report's sentences found in effects.csv."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.sweep.effects import effects, effects_section
from sim.sweep.loader import build_experiment

ROOT = Path(__file__).resolve().parent.parent


def experiment():
    data = {
        "experiment": {"name": "known_effects", "replicates": 16, "steps": 10, "seed": 1},
        "base": {"market": {"n_customers": 100}},
        "factors": {
            "lam": {"key": "customers.loss_aversion_mean", "values": [1.0, 2.0, 3.0]},
            "rho": {"key": "market.market_dynamism", "values": [0.0, 0.02]},
        },
    }
    return build_experiment(data, str(ROOT / "experiments" / "known_effects.toml"))


def summary(exp) -> pd.DataFrame:
    """A known aggregate: radical's share = 0.1 + 10 rho - 0.02 (lam - 1), the others flat;
    every cell sd 0.1 over n = 25 replicates (se 0.02); profit = 50 x share."""
    rows = []
    for point in range(exp.n_points):
        lam, rho = exp.parameters(point)["lam"], exp.parameters(point)["rho"]
        for firm in exp.firm_names:
            share = 0.1 + 10 * rho - 0.02 * (lam - 1) if firm == "radical" else 0.4
            for metric, mean in (("final_share", share), ("profit", 50 * share)):
                sd = 0.1 if metric == "final_share" else 5.0
                rows.append(
                    {
                        "point": point,
                        "lam": lam,
                        "rho": rho,
                        "firm": firm,
                        "strategy": firm,
                        "metric": metric,
                        "mean": mean,
                        "sd": sd,
                        "n": 25,
                    }
                )
    return pd.DataFrame(rows)


def test_main_effects_and_their_intervals_on_a_known_table() -> None:
    exp = experiment()
    table = effects(summary(exp), exp).set_index(["factor", "firm", "metric"])
    rho = table.loc[("rho", "radical", "final_share")]
    assert rho["effect"] == pytest.approx(0.2)  # 10 x 0.02, averaged over three lam levels
    # each end averages 3 cells of se 0.02: se 0.02 / sqrt(3); the difference sqrt(2) x that
    half = 1.959964 * np.sqrt(2 * 0.02**2 / 3)
    assert rho["ci_high"] - rho["effect"] == pytest.approx(half, rel=1e-5)
    lam = table.loc[("lam", "radical", "final_share")]
    assert lam["effect"] == pytest.approx(-0.04) and lam["cells"] == 2
    assert lam["ci_high"] < 0  # 0.04 against a half width of 0.039: just told apart
    flat = table.loc[("lam", "incremental", "profit")]
    assert flat["effect"] == pytest.approx(0.0) and flat["ci_low"] < 0 < flat["ci_high"]


def test_every_number_in_the_sentences_is_in_the_table() -> None:
    exp = experiment()
    table = effects(summary(exp), exp)
    text = "\n".join(effects_section(table, exp))
    sentences = [line for line in text.splitlines() if line.startswith("- **")]
    assert len(sentences) == 4  # 2 factors x 2 metrics
    allowed = set()
    for _, row in table.iterrows():
        allowed |= {f"{row[c]:.3g}" for c in ("mean_low", "mean_high")}
        allowed |= {f"{row[c]:+.3g}" for c in ("effect", "ci_low", "ci_high")}
        allowed |= {str(row["low_level"]), str(row["high_level"])}
    for sentence in sentences:
        body = sentence.split(":", 1)[1]
        head = sentence.split(":", 1)[0]
        numbers = re.findall(r"[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?", body)
        assert numbers and set(numbers) <= allowed, (sentence, set(numbers) - allowed)
        assert re.findall(r"\d+(?:\.\d+)?", head.split("from", 1)[1])  # the levels
    assert "radical rises 0.08 → 0.28 (+0.2, CI +0.168 to +0.232)" in text
    assert "incremental does not move clearly" in text
