"""Scenario discovery: under which conditions each strategy wins.

Every run of a random design is a sampled future with a winner. For each strategy,
PRIM (the patient rule induction method, Friedman & Fisher 1999, as used for scenario
discovery by Bryant & Lempert 2010) peels the space of uncertainties down to a box
where that strategy wins often (*density*) that still holds many of its wins
(*coverage*). The implementation is the EMA Workbench's (Kwakkel 2017), the
established one in scenario discovery; this module chooses a box on its peeling
trajectory, drops restrictions that are not significant, and writes the box as a
rule a strategist can read. Feature scores (extra trees, Jaxa-Rozen & Kwakkel 2018)
say which uncertainties matter most for who wins.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .experiment import Experiment
from .text import fmt, percent

__all__ = [
    "Box",
    "box_stats",
    "discover",
    "feature_scores",
    "find_box",
    "parameter_columns",
    "runs_table",
]


@dataclass(frozen=True)
class Box:
    """Where a strategy wins: limits on some parameters, and how well they capture it."""

    strategy: str
    limits: dict[str, tuple[float, float]]  # restricted parameter -> (low, high)
    coverage: float  # share of the strategy's wins inside the box
    density: float  # share of the runs inside the box that the strategy wins
    n_runs: int  # runs inside the box
    mass: float  # share of all runs inside the box
    wins: int  # the strategy's wins over all runs
    runs: int  # all runs

    def conditions(
        self,
        labels: dict[str, str],
        bounds: dict[str, tuple[float, float]],
        integers: frozenset[str] = frozenset(),
    ) -> str:
        """The box's limits as words: "ρ ≥ 0.008 and λ̄ ≤ 2.4" (a side is omitted when it
        is the sampled range's own end; an integer parameter's limits are the integers
        the box holds: cadence ≥ 3.5 reads cadence ≥ 4)."""
        parts = []
        for key, (box_low, box_high) in self.limits.items():
            lo, hi = bounds[key]
            low, high = (
                (math.ceil(box_low), math.floor(box_high))
                if key in integers
                else (box_low, box_high)
            )
            name = labels.get(key, key)
            if box_low > lo and box_high < hi:
                parts.append(f"{fmt3(low)} ≤ {name} ≤ {fmt3(high)}")
            elif box_low > lo:
                parts.append(f"{name} ≥ {fmt3(low)}")
            else:
                parts.append(f"{name} ≤ {fmt3(high)}")
        return " and ".join(parts) if parts else "anywhere"

    def rule(
        self,
        labels: dict[str, str],
        bounds: dict[str, tuple[float, float]],
        integers: frozenset[str] = frozenset(),
    ) -> str:
        """The whole rule: "radical wins 78 % of runs where ρ ≥ 0.008 and λ̄ ≤ 2.4, which
        hold 81 % of its wins"."""
        if not self.limits:
            return (
                f"{self.strategy} wins {percent(self.density)} of all runs, and no box of "
                "conditions concentrates its wins"
            )
        return (
            f"{self.strategy} wins {percent(self.density)} of runs where "
            f"{self.conditions(labels, bounds, integers)}, which hold "
            f"{percent(self.coverage)} of its wins"
        )


def fmt3(value: float) -> str:
    """A limit for a rule: three significant digits."""
    return fmt(float(f"{value:.3g}"))


def parameter_columns(experiment: Experiment) -> dict[str, str]:
    """Factor name -> the column it has in the runs table: its dotted key (the factor's
    name when it sets several keys)."""
    return {f.name: (f.keys[0] if len(f.keys) == 1 else f.name) for f in experiment.factors}


def runs_table(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """One row per run: point, replicate, seed, every sampled parameter by its dotted key,
    the winner (firm and strategy) and every firm's final share."""
    shares = runs.pivot_table(
        index=["point", "replicate"], columns="firm", values="final_share", aggfunc="first"
    )[experiment.firm_names]
    strategies = runs.pivot_table(
        index=["point", "replicate"], columns="firm", values="strategy", aggfunc="first"
    )[experiment.firm_names]
    seeds = runs.groupby(["point", "replicate"])["seed"].first()
    winner = shares.idxmax(axis=1)  # ties: the first firm in the scenario's order
    table = pd.DataFrame({"seed": seeds})
    columns = parameter_columns(experiment)
    points = shares.index.get_level_values("point").to_numpy()
    for name, column in columns.items():
        table[column] = experiment.table[name].to_numpy()[points]
    table["winner"] = winner
    table["winner_strategy"] = [
        strategies.loc[key, firm] for key, firm in zip(winner.index, winner, strict=True)
    ]
    for firm in experiment.firm_names:
        table[f"share_{firm}"] = shares[firm]
    return table.reset_index()


def box_stats(x: pd.DataFrame, y: np.ndarray, limits: dict[str, tuple[float, float]]) -> dict:
    """Coverage, density, runs and mass of a box, counted on the data."""
    inside = np.ones(len(x), dtype=bool)
    for key, (low, high) in limits.items():
        values = x[key].to_numpy()
        inside &= (values >= low) & (values <= high)
    wins = int(y.sum())
    n = int(inside.sum())
    hits = int(y[inside].sum())
    return {
        "coverage": hits / wins if wins else float("nan"),
        "density": hits / n if n else float("nan"),
        "n_runs": n,
        "mass": n / len(x),
    }


def find_box(
    x: pd.DataFrame,
    y: np.ndarray,
    strategy: str,
    *,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    significance: float = 0.05,
) -> tuple[Box, pd.DataFrame]:
    """Where ``y`` (True: the strategy won) concentrates, and the peeling trajectory.

    Among the boxes PRIM peels, the one chosen maximises coverage x (density - the
    strategy's overall win rate): it holds many of the wins at a win rate well above the
    strategy's average. The densest box would keep peeling off runs that winners' noise
    (runs tip) happens to leave out; this choice stays within 0.03 of a known box with
    20 % of the winners flipped at random (tests/test_sweep_discovery.py). A restriction
    whose quasi-p value (EMA Workbench) is not below ``significance`` is dropped: the
    data do not support it. Coverage and density are then counted on the data for the
    box as written.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench warns of optional packages
        from ema_workbench.analysis import prim

        finder = prim.Prim(x, y.astype(bool), peel_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
        trajectory = box.peeling_trajectory.copy()
        excess = trajectory["coverage"] * (trajectory["density"] - float(np.mean(y)))
        chosen = int(excess.idxmax())
        initial = box.box_lims[0]
        limits_frame = box.box_lims[chosen]
        significant = _significant(box, chosen, significance)
    limits = {}
    for key in x.columns:
        low, high = float(limits_frame[key].iloc[0]), float(limits_frame[key].iloc[1])
        restricted = low > float(initial[key].iloc[0]) or high < float(initial[key].iloc[1])
        if restricted and key in significant:
            limits[key] = (low, high)
    trajectory["chosen"] = trajectory.index == chosen
    trajectory.insert(0, "strategy", strategy)
    stats = box_stats(x, y, limits)
    return Box(strategy, limits, wins=int(y.sum()), runs=len(y), **stats), trajectory


def _significant(box: Any, i: int, level: float) -> set[str]:
    """Restricted parameters of box ``i`` with a quasi-p value below ``level``."""
    inspected = box.inspect(i, style="data")
    table = inspected[0][1]
    values = table.xs("qp value", axis=1, level=1) if table.columns.nlevels > 1 else None
    if values is None:  # pragma: no cover - the workbench's layout changed
        return set(table.index)
    lowest = values.min(axis=1, skipna=True)
    return {str(key) for key, p in lowest.items() if np.isfinite(p) and p < level}


def feature_scores(x: pd.DataFrame, labels: np.ndarray, seed: int) -> pd.DataFrame:
    """How much each parameter matters for who wins: extra-trees feature scores (EMA
    Workbench, seeded), sorted, summing to 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import feature_scoring

        scores, _ = feature_scoring.get_ex_feature_scores(
            x,
            labels,
            mode=feature_scoring.RuleInductionType.CLASSIFICATION,
            nr_trees=250,
            random_state=seed % 2**32,
        )
    scores = scores.iloc[:, 0]
    return (
        scores.rename("score")
        .rename_axis("parameter")
        .reset_index()
        .sort_values("score", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def discover(
    table: pd.DataFrame, experiment: Experiment
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Boxes (one per strategy that wins any run), their trajectories, feature scores.

    ``table`` is :func:`runs_table`'s, for the runs whose firms follow the base
    scenario's strategies. Boxes' columns: strategy, rule, coverage, density, n_runs,
    mass, wins, runs, restricted (parameters), and for every sampled parameter its low
    and high (empty where the box does not restrict it).
    """
    settings = experiment.discovery or {}
    columns = parameter_columns(experiment)
    sampled = [columns[f.name] for f in experiment.factors if f.is_range]
    labels = {columns[f.name]: f.title for f in experiment.factors}
    integers = frozenset(columns[f.name] for f in experiment.factors if f.integer)
    x = table[sampled].astype(float)
    bounds = {key: (float(x[key].min()), float(x[key].max())) for key in sampled}
    rows, trajectories = [], []
    for strategy in sorted(set(table["winner_strategy"]), key=str):
        y = (table["winner_strategy"] == strategy).to_numpy()
        box, trajectory = find_box(x, y, str(strategy), **settings)
        row: dict[str, Any] = {
            "strategy": box.strategy,
            "rule": box.rule(labels, bounds, integers),
            "coverage": box.coverage,
            "density": box.density,
            "n_runs": box.n_runs,
            "mass": box.mass,
            "wins": box.wins,
            "runs": box.runs,
            "restricted": ", ".join(box.limits),
        }
        for key in sampled:
            low, high = box.limits.get(key, (np.nan, np.nan))
            row[f"{key} low"], row[f"{key} high"] = low, high
        rows.append(row)
        trajectories.append(trajectory)
    boxes = pd.DataFrame(rows).sort_values("wins", ascending=False, kind="stable")
    scores = feature_scores(x, table["winner_strategy"].to_numpy(), experiment.seed)
    scores.insert(1, "label", [labels.get(p, p) for p in scores["parameter"]])
    return boxes.reset_index(drop=True), pd.concat(trajectories, ignore_index=True), scores
