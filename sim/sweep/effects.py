"""How each condition moves each firm's outcome: main effects of a grid's factors, with CIs.

Where no strategy wins, the answer a strategist can still use is how much each
condition moves each strategy's share and profit (MODEL.md, closing paragraph). For a
grid, the effect of a factor on a firm's metric is the change in the metric's mean from
the factor's lowest to its highest level, averaged over the other factors' levels
(every cell weighted equally). Cells are independent runs, so its standard error
combines the cells' standard errors; the interval is normal (each cell has at least a
few replicates, most many).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from .columns import metric_label
from .experiment import Experiment
from .text import fmt, level_text, md_table

__all__ = ["EFFECT_METRICS", "effects", "effects_section"]

#: The outcomes whose movement is reported.
EFFECT_METRICS = ("final_share", "profit")


def effects(
    summary: pd.DataFrame,
    experiment: Experiment,
    metrics: tuple[str, ...] = EFFECT_METRICS,
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per factor x firm x metric: the metric's mean over the cells at the
    factor's lowest and highest level, their difference (``effect``) and its CI.

    ``summary`` is the sweep's aggregate (one row per point x firm x metric with mean,
    sd and n). Empty for a design other than a grid or without factors.
    """
    columns = [
        "factor",
        "firm",
        "strategy",
        "metric",
        "low_level",
        "high_level",
        "mean_low",
        "mean_high",
        "effect",
        "ci_low",
        "ci_high",
        "cells",
    ]
    if experiment.design != "grid" or not experiment.factors:
        return pd.DataFrame(columns=columns)
    z = float(norm.ppf(0.5 + level / 2))
    cells = summary[summary["metric"].isin(metrics) & (summary["n"] > 0)].copy()
    cells["se2"] = (cells["sd"].fillna(0.0) ** 2) / cells["n"]
    rows = []
    for factor in experiment.factors:
        levels = experiment.levels(factor.name)
        if len(levels) < 2:
            continue
        low, high = levels[0], levels[-1]
        for (firm, metric), frame in cells.groupby(["firm", "metric"], sort=False):
            ends = []
            for value in (low, high):
                at = frame[frame[factor.name] == value]
                ends.append((at["mean"].mean(), at["se2"].sum() / max(len(at), 1) ** 2, len(at)))
            (mean_low, var_low, n_low), (mean_high, var_high, n_high) = ends
            effect = mean_high - mean_low
            half = z * float(np.sqrt(var_low + var_high))
            rows.append(
                {
                    "factor": factor.name,
                    "firm": firm,
                    "strategy": str(frame["strategy"].iloc[0]),
                    "metric": metric,
                    "low_level": low,
                    "high_level": high,
                    "mean_low": float(mean_low),
                    "mean_high": float(mean_high),
                    "effect": float(effect),
                    "ci_low": float(effect - half),
                    "ci_high": float(effect + half),
                    "cells": int(min(n_low, n_high)),
                }
            )
    out = pd.DataFrame(rows, columns=columns)
    order = {name: i for i, name in enumerate(experiment.firm_names)}
    return out.sort_values(
        ["factor", "metric", "firm"], key=lambda s: s.map(order) if s.name == "firm" else s
    ).reset_index(drop=True)


def _who(row: pd.Series) -> str:
    """A firm by name, with its strategy when the name does not say it."""
    same = row["firm"] == row["strategy"]
    return str(row["firm"]) if same else f"{row['firm']} ({row['strategy']})"


def _direction(row: pd.Series) -> str:
    if row["ci_low"] > 0:
        return "rises"
    if row["ci_high"] < 0:
        return "falls"
    return "does not move clearly"


def effects_section(table: pd.DataFrame, experiment: Experiment, level: float = 0.95) -> list[str]:
    """Markdown: how each factor moves each firm's share and profit, every number from
    ``table`` (effects.csv), one sentence per factor and metric, then the table."""
    if table.empty:
        return []
    lines = [
        "",
        "## How each condition moves each strategy",
        "",
        "Whether or not a strategy wins, each condition moves each firm's outcome. For "
        "each factor: the change in a firm's mean from the factor's lowest to its highest "
        "level, averaged over the other factors' levels, with its "
        f"{level_text(level)} confidence interval (`effects.csv`). A change whose "
        "interval includes 0 is not told apart from none.",
    ]
    for (factor, metric), frame in table.groupby(["factor", "metric"], sort=False):
        title = experiment.factor(factor).title
        first = frame.iloc[0]
        parts = [
            f"{_who(row)} {_direction(row)} {row['mean_low']:.3g} → {row['mean_high']:.3g} "
            f"({row['effect']:+.3g}, CI {row['ci_low']:+.3g} to {row['ci_high']:+.3g})"
            for _, row in frame.iterrows()
        ]
        lines += [
            "",
            f"- **{title}** from {fmt(first['low_level'])} to {fmt(first['high_level'])}, "
            f"{metric_label(metric)}: " + "; ".join(parts) + ".",
        ]
    shown = table[["factor", "firm", "strategy", "metric", "mean_low", "mean_high", "effect"]]
    bounds = zip(table["ci_low"], table["ci_high"], strict=True)
    shown = shown.assign(
        factor=[experiment.factor(f).title for f in table["factor"]],
        ci=[f"{a:+.3f} to {b:+.3f}" for a, b in bounds],
    )
    lines += ["", md_table(shown)]
    return lines
