"""The report's sections on scenario discovery and the robust choice.

Every number in their sentences is read from the table printed beside them
(``boxes.csv``, ``feature_scores.csv``, ``regret.csv``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .robust import choices

__all__ = ["discovery_section", "robust_section"]


def _table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([head, rule, *body])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "–" if value != value else f"{value:.3g}"
    return str(value)


def discovery_section(
    boxes: pd.DataFrame, scores: pd.DataFrame, n_runs: int, figures: dict[str, Path]
) -> list[str]:
    """Where each strategy wins (PRIM boxes as rules) and what matters most."""
    parts = [
        "",
        "## Where each strategy wins",
        "",
        f"Each of the {n_runs} runs below is one sampled future (every uncertainty drawn "
        "at once) with one winner, the firm with the highest final share. For each "
        "strategy, PRIM (Friedman & Fisher 1999; EMA Workbench) looks for a box of "
        "conditions where it wins often: *density* is the share of the box's runs it "
        "wins, *coverage* the share of all its wins that fall in the box. The box chosen "
        "on PRIM's trade-off holds many wins at a win rate well above the strategy's "
        "average; restrictions the data do not support (quasi-p value of 0.05 or more) "
        "are dropped.",
        "",
    ]
    for row in boxes.to_dict("records"):
        parts.append(
            f"- {row['rule']} ({row['n_runs']} runs in the box; "
            f"it wins {row['wins']} of all {row['runs']} runs)."
        )
    table = boxes[["strategy", "coverage", "density", "n_runs", "mass", "wins", "restricted"]]
    parts += ["", _table(table)]
    if "boxes" in figures:
        parts += ["", f"![where each strategy wins]({figures['boxes'].name})"]
    if "tradeoff" in figures:
        parts += [
            "",
            f"![coverage and density]({figures['tradeoff'].name})",
            "",
            "How to read the trade-off: PRIM shrinks a box step by step; each step raises "
            "the density (the strategy wins more of what is left) and lowers the coverage "
            "(fewer of its wins are left in). A rule is worth acting on when its density "
            "is well above the strategy's overall win rate and its coverage is not small.",
        ]
    top = scores.head(3)
    parts += [
        "",
        "### What matters most for who wins",
        "",
        "Feature scores of a classifier of the winning strategy (extra trees; they sum "
        "to 1): the larger, the more the winner depends on that uncertainty. Most: "
        + ", ".join(f"{r.label} ({r.score:.2f})" for r in top.itertuples(index=False))
        + ".",
        "",
        _table(scores[["label", "parameter", "score"]]),
    ]
    if "features" in figures:
        parts += ["", f"![feature scores]({figures['features'].name})"]
    return parts


def robust_section(table: pd.DataFrame, focal: str, figures: dict[str, Path]) -> list[str]:
    """Which strategy to choose for the focal firm, by three criteria, and whether they
    agree."""
    picks = choices(table)
    row = table.set_index("strategy")
    futures = int(table["futures"].iloc[0])
    parts = [
        "",
        f"## A robust choice for {focal}",
        "",
        f"{focal} took each strategy in turn against the same rivals in the same "
        f"{futures} sampled futures, with the same seeds. In each future its *regret* "
        "for a strategy is the best share it could have had there minus the share it "
        "got (Savage 1951; Lempert, Popper & Bankes 2003).",
        "",
        _table(
            table[["strategy", "mean_share", "mean_regret", "p90_regret", "max_regret", "best_in"]]
        ),
        "",
        f"- Best mean share: **{picks['mean_share']}** "
        f"({row.loc[picks['mean_share'], 'mean_share']:.3f}).",
        f"- Smallest worst-case regret: **{picks['max_regret']}** "
        f"({row.loc[picks['max_regret'], 'max_regret']:.3f}).",
        f"- Smallest 90th-percentile regret: **{picks['p90_regret']}** "
        f"({row.loc[picks['p90_regret'], 'p90_regret']:.3f}).",
        "",
    ]
    if len(set(picks.values())) == 1:
        parts.append(
            f"The criteria agree: {picks['mean_share']} does best on average and never "
            "falls as far behind the best choice as the others."
        )
    else:
        best, safe = picks["mean_share"], picks["max_regret"]
        parts.append(
            f"The criteria disagree: {best} gives the best mean share, but "
            + (
                f"{safe} never falls as far behind the best choice (worst case "
                f"{row.loc[safe, 'max_regret']:.3f} against {best}'s "
                f"{row.loc[best, 'max_regret']:.3f})"
                if safe != best
                else f"{picks['p90_regret']} falls less far behind in 9 futures of 10 "
                f"(90th percentile {row.loc[picks['p90_regret'], 'p90_regret']:.3f} against "
                f"{best}'s {row.loc[best, 'p90_regret']:.3f})"
            )
            + ". Choose by how much a bad future would cost."
        )
    if "regret" in figures:
        parts += ["", f"![regret]({figures['regret'].name})"]
    return parts
