"""A tornado table: how far each firm's metric swings between the low and the high end
of every uncertainty, the others as sampled (or, on a grid, averaged over).

For a numeric factor the low end is its first level on a grid, or the runs in the
lowest fifth of its sampled values in a random design (the high end alike); for a
categorical one, the level with the lowest and the one with the highest mean. Each end
has its mean and t-based 95 % interval over the runs there. With levers, the focal
firm's metric is given per option (every option meets the same futures).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..stats import t_half_width
from .discovery import parameter_columns
from .experiment import Experiment
from .text import fmt

__all__ = ["QUANTILE", "tornado_table"]

#: The share of a sampled factor's runs at each end.
QUANTILE = 0.2


def tornado_table(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """One row per (firm, option, factor): the factor's low and high end (``low``,
    ``high``: the values or levels there), the metric's mean and 95 % CI at each end
    (``low_mean``, ``low_ci_low``, ...), runs at each end, and ``swing`` (high minus low
    mean), sorted by the absolute swing within each firm and option. ``runs`` is
    :func:`.discovery.runs_table`'s."""
    columns = parameter_columns(experiment)
    metric = experiment.metric if experiment.metric != "share" else "share"
    if experiment.levers:
        groups = [(experiment.focal, option) for option in dict.fromkeys(runs["option"])]
    else:
        groups = [(firm, "") for firm in experiment.firm_names]
    rows = []
    for firm, option in groups:
        part = runs[runs["option"] == option] if option else runs
        values = part[f"{metric}_{firm}"].to_numpy(dtype=float)
        for factor in experiment.uncertainties:
            column = part[columns[factor.name]]
            ends = _ends(column, values, factor, experiment)
            if ends is None:
                continue
            (low_label, low_mask), (high_label, high_mask) = ends
            row: dict[str, Any] = {
                "firm": firm,
                "option": option,
                "factor": factor.name,
                "label": factor.title,
                "low": low_label,
                "high": high_label,
            }
            for end, mask in (("low", low_mask), ("high", high_mask)):
                chosen = values[mask]
                mean = float(chosen.mean()) if len(chosen) else np.nan
                sd = float(chosen.std(ddof=1)) if len(chosen) > 1 else 0.0
                half = float(t_half_width(sd, len(chosen)))
                row |= {
                    f"{end}_mean": mean,
                    f"{end}_ci_low": mean - half,
                    f"{end}_ci_high": mean + half,
                    f"{end}_runs": len(chosen),
                }
            row["swing"] = row["high_mean"] - row["low_mean"]
            rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["order"] = -table["swing"].abs()
    table = table.sort_values(["firm", "option", "order"], kind="stable").drop(columns="order")
    table.insert(len(table.columns) - 1, "metric", experiment.metric_label)
    return table.reset_index(drop=True)


def _ends(
    column: pd.Series, values: np.ndarray, factor: Any, experiment: Experiment
) -> tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]] | None:
    """The low and high end of a factor: (label, mask of the runs there) each."""
    if factor.categorical or not pd.api.types.is_numeric_dtype(column):
        return None if column.nunique() < 2 else _categorical_ends(column, values)
    levels = sorted(column.unique())
    if len(levels) < 2:
        return None
    if experiment.design == "grid" or len(levels) <= 5:
        low, high = levels[0], levels[-1]
        return (fmt(low), (column == low).to_numpy()), (fmt(high), (column == high).to_numpy())
    lo_cut, hi_cut = np.quantile(column, [QUANTILE, 1 - QUANTILE])
    return (
        (f"≤ {fmt(float(f'{lo_cut:.3g}'))}", (column <= lo_cut).to_numpy()),
        (f"≥ {fmt(float(f'{hi_cut:.3g}'))}", (column >= hi_cut).to_numpy()),
    )


def _categorical_ends(
    column: pd.Series, values: np.ndarray
) -> tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]]:
    """A categorical factor's ends: its level with the lowest mean and the one with the
    highest (levels have no order, so the swing is the spread between levels)."""
    text = column.astype(str).to_numpy()
    means = pd.Series(values).groupby(text).mean().sort_values(kind="stable")
    low, high = str(means.index[0]), str(means.index[-1])
    return (low, text == low), (high, text == high)
