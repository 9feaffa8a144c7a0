"""Reports cannot contradict their tables: the prose is counted from the winners table.

A report is built from a known winners table (no runs); every number in its headline
and every verdict of its winner map is checked against counts made here,
independently, from the same table. The headline leads with clear wins.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sim.sweep.loader import build_experiment
from sim.sweep.report import headline, verdict_tally, write_report

ROOT = Path(__file__).resolve().parent.parent

# the quick strategy map's shape: 4 x 4 conditions. radical leads 7 (2 clearly, 4 coin
# flips, 1 undecided), differentiated leads 7 (5 clearly, 2 coin flips), incremental 2
# (1 tie, 1 undecided)
WINNERS = [
    # (lam, rho, leader, margin, verdict)
    (1.0, 0.0, "differentiated", 0.21, "clear"),
    (1.0, 0.005, "radical", 0.05, "coin flip"),
    (1.0, 0.01, "radical", 0.04, "coin flip"),
    (1.0, 0.02, "radical", 0.30, "clear"),
    (1.5, 0.0, "differentiated", 0.25, "clear"),
    (1.5, 0.005, "radical", 0.02, "coin flip"),
    (1.5, 0.01, "radical", 0.01, "undecided"),
    (1.5, 0.02, "radical", 0.29, "clear"),
    (2.25, 0.0, "differentiated", 0.33, "clear"),
    (2.25, 0.005, "differentiated", 0.06, "coin flip"),
    (2.25, 0.01, "incremental", 0.003, "tie"),
    (2.25, 0.02, "radical", 0.07, "coin flip"),
    (3.0, 0.0, "differentiated", 0.40, "clear"),
    (3.0, 0.005, "differentiated", 0.05, "coin flip"),
    (3.0, 0.01, "incremental", 0.02, "undecided"),
    (3.0, 0.02, "differentiated", 0.31, "clear"),
]
FIRMS = ("incremental", "differentiated", "radical")


def experiment():
    data = {
        "experiment": {"name": "known_map", "replicates": 16, "steps": 10, "seed": 1},
        "base": {"market": {"n_customers": 100}, "run": {"step": "month"}},
        "factors": {
            "lam": {"key": "customers.loss_aversion_mean", "values": [1.0, 1.5, 2.25, 3.0]},
            "rho": {"key": "market.market_dynamism", "values": [0.0, 0.005, 0.01, 0.02]},
        },
        "report": {"map": ["lam", "rho"]},
    }
    return build_experiment(data, str(ROOT / "experiments" / "known_map.toml"))


def winners_table(exp) -> pd.DataFrame:
    rows = []
    for point, (lam, rho, winner, margin, verdict) in enumerate(WINNERS):
        assert exp.parameters(point) == {"lam": lam, "rho": rho}
        runner_up = "incremental" if winner != "incremental" else "radical"
        clear = verdict == "clear"
        row = {
            "point": point,
            "lam": lam,
            "rho": rho,
            "metric": "final share",
            "verdict": verdict,
            "winner": winner,
            "winner_mean": 0.4 + margin,
            "runner_up": runner_up,
            "runner_up_mean": 0.4,
            "margin": margin,
            "margin_ci_low": margin - (0.01 if clear else margin + 0.05),
            "margin_ci_high": margin + 0.05,
            "level": 0.9875,
            "clear": clear,
            "tied": f"{winner}, {runner_up}" if verdict == "tie" else "",
            "tost_p": 0.01 if verdict == "tie" else 0.5,
            "contenders": f"{winner}, {runner_up}" if verdict == "coin flip" else winner,
            "wins": 0.6,
            "p_no_winner": 0.0,
            "n": 16,
            "replicates": 32,
            "reported": "16-31",
            "confirmed": "yes",
            "looks": "",
        }
        for firm in FIRMS:
            share = 0.6 if firm == winner else 0.3 if firm == runner_up else 0.1
            row |= {
                f"p_win_{firm}": share,
                f"p_win_{firm}_low": share - 0.1,
                f"p_win_{firm}_high": share + 0.1,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def test_tally_counts_each_verdict_from_the_table() -> None:
    table = winners_table(experiment())
    tally = verdict_tally(table).set_index("leader")
    for firm in FIRMS:
        cells = table[table["winner"] == firm]
        for verdict in ("clear", "coin flip", "tie", "undecided"):
            assert tally.loc[firm, verdict] == int((cells["verdict"] == verdict).sum())
        assert tally.loc[firm, "conditions led"] == len(cells)
    assert tally["conditions led"].sum() == len(table)
    # clear wins first: differentiated (5 clear) before radical (2 clear, 7 led)
    assert list(tally.index) == ["differentiated", "radical", "incremental"]


def test_every_number_in_the_headline_comes_from_the_table(tmp_path: Path) -> None:
    exp = experiment()
    table = winners_table(exp)
    path = write_report(exp, tmp_path, winners=table, summary=pd.DataFrame(), figures={})
    text = path.read_text(encoding="utf-8")
    sentence = headline(verdict_tally(table), len(table), "final share")
    assert f"**{sentence}**" in text
    assert sentence.startswith("By final share: differentiated wins 5 of 16 clearly; radical")
    claims = re.findall(r"(\w+) wins (\d+) of (\d+) clearly", sentence)
    assert [firm for firm, *_ in claims] == ["differentiated", "radical"]  # incremental: none
    for firm, clear, total in claims:
        cells = table[table["winner"] == firm]
        assert int(total) == len(table) == 16
        assert int(clear) == int((cells["verdict"] == "clear").sum())
    [(flips, ties, undecided)] = re.findall(
        r"(\d+) are coin flips, (\d+) is a tie, (\d+) undecided", sentence
    )
    counts = table["verdict"].value_counts()
    assert (int(flips), int(ties), int(undecided)) == (
        counts["coin flip"],
        counts["tie"],
        counts["undecided"],
    )
    # the map printed under it shows each cell's verdict: (?) exactly on undecided ones
    tables = "\n".join(line for line in text.splitlines() if line.startswith("| "))
    assert tables.count("(?)") == counts["undecided"]
    assert tables.count("coin flip: ") == counts["coin flip"]
    assert tables.count("tie: incremental = radical") == counts["tie"]
    # market dynamism in business time, from the scenario's step unit
    assert "ρ = 0.01 per month: needs move 11.4 % of the way to the future point per year" in text


def test_a_table_without_clear_wins_says_so() -> None:
    table = winners_table(experiment()).assign(verdict="coin flip", clear=False)
    sentence = headline(verdict_tally(table), len(table), "profit")
    assert (
        sentence
        == "By profit: no strategy wins any of the 16 conditions clearly; 16 are coin flips."
    )
