"""The report's sections on scenario discovery and the robust choice.

Every number in their sentences is read from the table printed beside them
(``boxes.csv``, ``feature_scores.csv``, ``regret.csv``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .robust import choices
from .text import md_table

__all__ = ["discovery_section", "robust_section"]


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
    parts += ["", md_table(table)]
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
        md_table(scores[["label", "parameter", "score"]]),
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
        "got (Savage 1951; Lempert, Popper & Bankes 2003). `gap`: mean share minus the "
        "best strategy's, with its 95 % CI over the futures (paired: same futures, same "
        "seeds); `best_in`: the share of futures where the strategy was the best choice. "
        "With one run per future, regret includes how a run happened to tip, not only "
        "the future: more replicates per future sharpen it.",
        "",
        md_table(
            table[
                [
                    "strategy",
                    "mean_share",
                    "gap",
                    "gap_low",
                    "gap_high",
                    "mean_regret",
                    "p90_regret",
                    "max_regret",
                    "best_in",
                ]
            ]
        ),
        "",
    ]
    labels = {
        "mean_share": ("Best mean share", "mean_share"),
        "max_regret": ("Smallest worst-case regret", "max_regret"),
        "p90_regret": ("Smallest 90th-percentile regret", "p90_regret"),
    }
    for criterion, (text, column) in labels.items():
        chosen = picks[criterion]
        value = row.loc[chosen[0], column]
        if len(chosen) == len(table):
            parts.append(f"- {text}: every strategy, {value:.3f}: it does not tell them apart.")
        else:
            names = " and ".join(f"**{s}**" for s in chosen)
            parts.append(f"- {text}: {names} ({value:.3f}{', a tie' if len(chosen) > 1 else ''}).")
    close = table[(table["gap"] < 0) & (table["gap_high"] >= 0)]
    if not close.empty:
        parts.append(
            "- Within noise of the best mean share (the 95 % CI of the paired gap includes "
            "0): "
            + "; ".join(
                f"{r.strategy} ({r.gap:+.3f}, CI {r.gap_low:+.3f} to {r.gap_high:+.3f})"
                for r in close.itertuples(index=False)
            )
            + "."
        )
    parts += ["", _agreement(picks, row, len(table))]
    if "regret" in figures:
        parts += ["", f"![regret]({figures['regret'].name})"]
    return parts


def _agreement(picks: dict[str, list[str]], row: pd.DataFrame, n: int) -> str:
    """Whether the criteria point the same way, and if not, how they differ."""
    best = picks["mean_share"][0]
    telling = {c: s for c, s in picks.items() if c != "mean_share" and len(s) < n}
    against = {c: s for c, s in telling.items() if best not in s}
    if not against:
        return (
            f"The criteria agree: {best} does best on average, and no strategy falls "
            "less far behind the best choice"
            + ("" if telling else " (though the regrets do not tell the strategies apart)")
            + "."
        )
    criterion, safer = next(iter(against.items()))
    column = {"max_regret": "worst case", "p90_regret": "90th percentile"}[criterion]
    return (
        f"The criteria disagree: {best} gives the best mean share, but {safer[0]} falls "
        f"less far behind the best choice ({column} {row.loc[safer[0], criterion]:.3f} "
        f"against {best}'s {row.loc[best, criterion]:.3f}). Choose by how much a bad "
        "future would cost."
    )
