"""Reports cannot contradict their tables: the prose is counted from the winners table.

A report is built from a known winners table (no runs); every number in its summary
sentence and every (?) mark of its winner map is checked against counts made here,
independently, from the same table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sim.sweep.loader import build_experiment
from sim.sweep.report import winners_sentence, winners_tally, write_report

ROOT = Path(__file__).resolve().parent.parent

# the quick strategy map's shape: 4 x 4 conditions; radical wins 7 (only 1 of them
# clearly), differentiated 6 (4 clearly), incremental 3 (none clearly)
WINNERS = [
    # (lam, rho, winner, margin, clear)
    (1.0, 0.0, "differentiated", 0.21, True),
    (1.0, 0.005, "radical", 0.05, False),
    (1.0, 0.01, "radical", 0.04, False),
    (1.0, 0.02, "radical", 0.30, True),
    (1.5, 0.0, "differentiated", 0.25, True),
    (1.5, 0.005, "radical", 0.02, False),
    (1.5, 0.01, "radical", 0.01, False),
    (1.5, 0.02, "radical", 0.09, False),
    (2.25, 0.0, "differentiated", 0.33, True),
    (2.25, 0.005, "differentiated", 0.06, False),
    (2.25, 0.01, "incremental", 0.03, False),
    (2.25, 0.02, "radical", 0.07, False),
    (3.0, 0.0, "differentiated", 0.40, True),
    (3.0, 0.005, "differentiated", 0.05, False),
    (3.0, 0.01, "incremental", 0.02, False),
    (3.0, 0.02, "incremental", 0.01, False),
]


def experiment():
    data = {
        "experiment": {"name": "known_map", "replicates": 16, "steps": 10, "seed": 1},
        "base": {"market": {"n_customers": 100}},
        "factors": {
            "lam": {"key": "customers.loss_aversion_mean", "values": [1.0, 1.5, 2.25, 3.0]},
            "rho": {"key": "market.market_dynamism", "values": [0.0, 0.005, 0.01, 0.02]},
        },
        "report": {"map": ["lam", "rho"]},
    }
    return build_experiment(data, str(ROOT / "experiments" / "known_map.toml"))


def winners_table(exp) -> pd.DataFrame:
    rows = []
    for point, (lam, rho, winner, margin, clear) in enumerate(WINNERS):
        assert exp.parameters(point) == {"lam": lam, "rho": rho}
        runner_up = "incremental" if winner != "incremental" else "radical"
        rows.append(
            {
                "point": point,
                "lam": lam,
                "rho": rho,
                "winner": winner,
                "winner_share": 0.4 + margin,
                "runner_up": runner_up,
                "runner_up_share": 0.4,
                "margin": margin,
                "margin_ci_low": margin - (0.01 if clear else margin + 0.05),
                "margin_ci_high": margin + 0.05,
                "clear": clear,
                "wins": 0.6,
                "n": 16,
            }
        )
    return pd.DataFrame(rows)


def test_tally_counts_each_winner_from_the_table() -> None:
    table = winners_table(experiment())
    tally = winners_tally(table).set_index("winner")
    for firm in ("radical", "differentiated", "incremental"):
        cells = table[table["winner"] == firm]
        assert tally.loc[firm, "won"] == len(cells)
        assert tally.loc[firm, "clear"] == int(cells["clear"].sum())
        assert tally.loc[firm, "undecided"] == int((~cells["clear"]).sum())
    assert tally["won"].sum() == len(table)


def test_every_number_in_the_report_sentence_comes_from_the_table(tmp_path: Path) -> None:
    exp = experiment()
    table = winners_table(exp)
    path = write_report(exp, tmp_path, winners=table, summary=pd.DataFrame(), figures={})
    text = path.read_text(encoding="utf-8")
    [sentence] = [line for line in text.splitlines() if line.startswith("In short: ")]
    assert sentence == "In short: " + winners_sentence(table)
    claims = re.findall(
        r"\*\*(\w+)\*\* wins (\d+) of (\d+) conditions \((\d+) with a clear margin, "
        r"(\d+) undecided\)",
        sentence,
    )
    assert {firm for firm, *_ in claims} == set(table["winner"])
    for firm, won, total, clear, undecided in claims:
        cells = table[table["winner"] == firm]
        assert int(total) == len(table) == 16
        assert int(won) == len(cells)
        assert int(clear) == int(cells["clear"].sum())
        assert int(undecided) == len(cells) - int(cells["clear"].sum())
    # the closing clause counts the undecided cells of the whole table
    [(undecided, total)] = re.findall(r"In (\d+) of (\d+) conditions the winner's margin", sentence)
    assert int(undecided) == int((~table["clear"]).sum()) == 11 and int(total) == 16
    # the tables printed above it mark exactly the undecided cells with (?)
    tables = "\n".join(line for line in text.splitlines() if line.startswith("| "))
    assert tables.count("(?)") == int((~table["clear"]).sum())


def test_a_table_with_every_cell_clear_says_so() -> None:
    table = winners_table(experiment()).assign(clear=True)
    sentence = winners_sentence(table)
    assert "Every condition has a clear winner." in sentence
    assert "(7 with a clear margin, 0 undecided)" in sentence  # radical's 7 cells
