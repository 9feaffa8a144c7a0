"""Scenario discovery: under which conditions each strategy wins.

Every run of a random design is a sampled future with an outcome: who won it (the
``winner`` target), or, with levers, which option of the focal firm was the best choice
in it (``choice``). A run whose leader leads by less than the no-winner gap has no
winner (``none``): it counts for no strategy, and reports count such runs apart. For
each outcome, PRIM (the patient rule induction method, Friedman & Fisher 1999, as used
for scenario discovery by Bryant & Lempert 2010) peels the space of uncertainties down
to a box where that outcome is frequent (*density*) that still holds many of its cases
(*coverage*). Categorical uncertainties (a network type, a start condition) take part:
a box keeps a subset of their levels. The implementation is the EMA Workbench's (Kwakkel
2017); this module chooses a box on its peeling trajectory, drops restrictions that are
not significant, and writes the box as a rule a strategist can read (the box ringed in
the figures is that rule's, counted on the data). Feature scores (extra trees,
Jaxa-Rozen & Kwakkel 2018) say which uncertainties matter most, beside a *noise floor*:
the largest score of random columns scored with them; an uncertainty below it matters
no more than noise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .aggregate import metric_table
from .experiment import Experiment
from .text import fmt, percent
from .verdicts import NO_WINNER, run_winners

__all__ = [
    "NOISE_COLUMNS",
    "NOISE_FLOOR",
    "Box",
    "box_stats",
    "discover",
    "feature_scores",
    "find_box",
    "parameter_columns",
    "parameter_labels",
    "runs_table",
    "sampled_frame",
    "worlds_table",
]

#: Random columns scored beside the uncertainties, and the name of their row.
NOISE_COLUMNS = 5
NOISE_FLOOR = "noise floor"
Limit = tuple[float, float] | frozenset


@dataclass(frozen=True)
class Box:
    """Where a strategy wins: limits on some parameters, and how well they capture it."""

    strategy: str
    limits: dict[str, Limit]  # restricted parameter -> (low, high), or the levels kept
    coverage: float  # share of the strategy's wins inside the box
    density: float  # share of the runs inside the box that the strategy wins
    n_runs: int  # runs inside the box
    mass: float  # share of all runs inside the box
    wins: int  # the strategy's wins over all runs
    runs: int  # all runs
    verb: str = "wins"  # "wins" (who won a run) or "best" (the best choice in a future)

    def conditions(
        self,
        labels: dict[str, str],
        bounds: dict[str, Any],
        integers: frozenset[str] = frozenset(),
    ) -> str:
        """The box's limits as words: "ρ ≥ 0.008 and λ̄ ≤ 2.4" (a side is omitted when it
        is the sampled range's own end; an integer parameter's limits are the integers
        the box holds: cadence ≥ 3.5 reads cadence ≥ 4)."""
        parts = []
        for key, limit in self.limits.items():
            name = labels.get(key, key)
            if isinstance(limit, frozenset):
                parts.append(f"{name} is " + " or ".join(sorted(str(v) for v in limit)))
                continue
            box_low, box_high = limit
            lo, hi = bounds[key]
            low, high = (
                (math.ceil(box_low), math.floor(box_high))
                if key in integers
                else (box_low, box_high)
            )
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
        bounds: dict[str, Any],
        integers: frozenset[str] = frozenset(),
    ) -> str:
        """The whole rule: "radical wins 78 % of runs where ρ ≥ 0.008 and λ̄ ≤ 2.4, which
        hold 81 % of its wins"."""
        verb, unit, cases = (
            ("wins", "runs", "wins")
            if self.verb == "wins"
            else ("is the best choice in", "worlds", "cases")
        )
        if not self.limits:
            return (
                f"{self.strategy} {verb} {percent(self.density)} of all {unit}, and no box of "
                f"conditions concentrates its {cases}"
            )
        return (
            f"{self.strategy} {verb} {percent(self.density)} of {unit} where "
            f"{self.conditions(labels, bounds, integers)}, which hold "
            f"{percent(self.coverage)} of its {cases}"
        )


def fmt3(value: float) -> str:
    """A limit for a rule: three significant digits."""
    return fmt(float(f"{value:.3g}"))


def parameter_columns(experiment: Experiment) -> dict[str, str]:
    """Factor name -> the column it has in the runs table: its dotted key (the factor's
    name when it sets several keys)."""
    return {f.name: (f.keys[0] if len(f.keys) == 1 else f.name) for f in experiment.factors}


def parameter_labels(experiment: Experiment) -> dict[str, str]:
    """Column of the runs table -> the factor's label, for rules and figures."""
    columns = parameter_columns(experiment)
    return {columns[f.name]: f.title for f in experiment.factors}


def sampled_frame(table: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """The sampled uncertainties of ``table`` (rows of :func:`runs_table` or
    :func:`worlds_table`): numbers as floats, categorical ones as pandas categories."""
    columns = parameter_columns(experiment)
    return pd.DataFrame(
        {
            columns[f.name]: (
                table[columns[f.name]].astype(str).astype("category")
                if f.categorical
                else table[columns[f.name]].astype(float)
            )
            for f in experiment.factors
            if f.sampled
        }
    )


def runs_table(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """One row per run: point, replicate, seed, its future and (with levers) the focal
    firm's option, every factor by its dotted key, the winner (firm and strategy;
    ``none`` when the leader leads by less than the no-winner gap, so no tie is broken by
    the firms' order) and every firm's final share (and metric, if not the share)."""
    from .robust import option_labels

    values = metric_table(runs, experiment)
    shares = runs.pivot_table(
        index=["point", "replicate"], columns="firm", values="final_share", aggfunc="first"
    )[values.columns]
    strategies = runs.pivot_table(
        index=["point", "replicate"], columns="firm", values="strategy", aggfunc="first"
    )[values.columns]
    seeds = runs.groupby(["point", "replicate"])["seed"].first()
    winner = pd.Series(run_winners(values, experiment.rules().gap), index=values.index)
    table = pd.DataFrame({"seed": seeds})
    points = values.index.get_level_values("point").to_numpy()
    table["future"] = experiment.futures[points]
    if experiment.levers:
        table["option"] = np.asarray(option_labels(experiment), dtype=object)[points]
    for name, column in parameter_columns(experiment).items():
        table[column] = experiment.table[name].to_numpy()[points]
    table["winner"] = winner
    table["winner_strategy"] = [
        strategies.loc[key, firm] if firm != NO_WINNER else NO_WINNER
        for key, firm in zip(winner.index, winner, strict=True)
    ]
    for firm in values.columns:
        table[f"share_{firm}"] = shares[firm]
    if experiment.metric != "share":
        for firm in values.columns:
            table[f"{experiment.metric}_{firm}"] = values[firm]
    return table.reset_index()


def worlds_table(table: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """One row per world (future x replicate): the sampled uncertainties and the focal
    firm's best option there (``best``; ``none`` when no option leads every other by the
    no-winner gap), from :func:`runs_table`'s rows."""
    column = f"{experiment.metric}_{experiment.focal}"
    if experiment.metric == "share":
        column = f"share_{experiment.focal}"
    worlds = table.pivot_table(
        index=["future", "replicate"], columns="option", values=column, aggfunc="first"
    ).dropna()
    best = pd.Series(run_winners(worlds, experiment.rules().gap), index=worlds.index)
    sampled = [parameter_columns(experiment)[f.name] for f in experiment.factors if f.sampled]
    first = table.drop_duplicates(["future", "replicate"]).set_index(["future", "replicate"])
    out = first.loc[worlds.index, sampled].copy()
    out["best"] = best
    return out.reset_index()


def box_stats(x: pd.DataFrame, y: np.ndarray, limits: dict[str, Limit]) -> dict:
    """Coverage, density, runs and mass of a box, counted on the data."""
    inside = np.ones(len(x), dtype=bool)
    for key, limit in limits.items():
        values = x[key].to_numpy()
        if isinstance(limit, frozenset):
            inside &= np.isin(values.astype(object), list(limit))
        else:
            low, high = limit
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
    verb: str = "wins",
) -> tuple[Box, pd.DataFrame]:
    """Where ``y`` (True: the strategy won) concentrates, and the peeling trajectory.

    Among the boxes PRIM peels, the one chosen maximises coverage x (density - the
    strategy's overall win rate): it holds many of the wins at a win rate well above the
    strategy's average. The densest box would keep peeling off runs that winners' noise
    (runs tip) happens to leave out; this choice stays within 0.03 of a known box with
    20 % of the winners flipped at random (tests/test_sweep_discovery.py). A restriction
    whose quasi-p value (EMA Workbench) is not below ``significance`` is dropped: the
    data do not support it. Coverage and density are then counted on the data for the
    box as written. Categorical columns (pandas ``category``) keep a set of levels.
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
        significant = _significant(box.p_values[chosen], significance)
    limits: dict[str, Limit] = {}
    for key in x.columns:
        low, high = limits_frame[key].iloc[0], limits_frame[key].iloc[1]
        if isinstance(low, set):
            restricted = len(low) < len(initial[key].iloc[0])
            limit: Limit = frozenset(low)
        else:
            restricted = float(low) > float(initial[key].iloc[0]) or float(high) < float(
                initial[key].iloc[1]
            )
            limit = (float(low), float(high))
        if restricted and key in significant:
            limits[key] = limit
    trajectory["chosen"] = trajectory.index == chosen
    trajectory.insert(0, "strategy", strategy)
    stats = box_stats(x, y, limits)
    return Box(strategy, limits, wins=int(y.sum()), runs=len(y), verb=verb, **stats), trajectory


def _significant(p_values: dict[str, list[float]], level: float) -> set[str]:
    """Restricted parameters whose lowest quasi-p value (EMA Workbench; -1: that side
    is not restricted) is below ``level``."""
    out = set()
    for key, values in p_values.items():
        known = [p for p in values if p is not None and p >= 0 and np.isfinite(p)]
        if known and min(known) < level:
            out.add(str(key))
    return out


def feature_scores(x: pd.DataFrame, labels: np.ndarray, seed: int) -> pd.DataFrame:
    """How much each parameter matters for the outcome: extra-trees feature scores (EMA
    Workbench, seeded), sorted, summing to 1 over the parameters and
    :data:`NOISE_COLUMNS` uniform random columns scored with them. The row
    :data:`NOISE_FLOOR` holds the largest random column's score; ``below_noise`` marks
    every parameter whose score does not exceed it."""
    rng = np.random.default_rng(seed)
    noise = pd.DataFrame(
        rng.random((len(x), NOISE_COLUMNS)), columns=[f"_noise_{i}" for i in range(NOISE_COLUMNS)]
    )
    data = pd.concat([x.reset_index(drop=True), noise], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import feature_scoring

        scores, _ = feature_scoring.get_ex_feature_scores(
            data,
            labels,
            mode=feature_scoring.RuleInductionType.CLASSIFICATION,
            nr_trees=250,
            random_state=seed % 2**32,
        )
    scores = scores.iloc[:, 0]
    floor = float(scores[noise.columns].max())
    real = scores.drop(noise.columns)
    table = pd.DataFrame({"parameter": list(real.index), "score": real.to_numpy(dtype=float)})
    table = pd.concat(
        [table, pd.DataFrame({"parameter": [NOISE_FLOOR], "score": [floor]})], ignore_index=True
    )
    table["below_noise"] = (table["score"] <= floor) & (table["parameter"] != NOISE_FLOOR)
    return table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def discover(
    table: pd.DataFrame, experiment: Experiment, outcome: str = "winner_strategy"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Boxes (one per outcome that occurs, ``none`` aside), their trajectories, and the
    feature scores with the noise floor.

    ``table`` has one row per run (:func:`runs_table`, target ``winner``) or per world
    (:func:`worlds_table`, target ``choice``, ``outcome = "best"``) and a column per
    sampled parameter. Boxes' columns: strategy (the outcome), rule, coverage, density,
    n_runs, mass, wins, runs, restricted (parameters), and for every sampled parameter
    its low and high (numbers) or its levels (categorical; empty where not restricted).
    """
    settings = {k: v for k, v in (experiment.discovery or {}).items() if k != "target"}
    verb = "best" if outcome == "best" else "wins"
    columns = parameter_columns(experiment)
    categorical = {columns[f.name] for f in experiment.factors if f.categorical}
    labels = parameter_labels(experiment)
    integers = frozenset(columns[f.name] for f in experiment.factors if f.integer)
    x = sampled_frame(table, experiment)
    sampled = list(x.columns)
    bounds = {
        key: (float(x[key].min()), float(x[key].max())) for key in sampled if key not in categorical
    }
    outcomes = table[outcome].astype(str).to_numpy()
    rows, trajectories = [], []
    for strategy in sorted(set(outcomes) - {NO_WINNER}):
        y = outcomes == strategy
        box, trajectory = find_box(x, y, strategy, verb=verb, **settings)
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
            limit = box.limits.get(key)
            if key in categorical:
                row[f"{key} levels"] = " | ".join(sorted(limit)) if limit else ""
            else:
                low, high = limit if limit else (np.nan, np.nan)
                row[f"{key} low"], row[f"{key} high"] = low, high
        rows.append(row)
        trajectories.append(trajectory)
    boxes = pd.DataFrame(rows)
    if not boxes.empty:
        boxes = boxes.sort_values("wins", ascending=False, kind="stable").reset_index(drop=True)
    scores = feature_scores(x, outcomes, experiment.seed)
    scores.insert(1, "label", [labels.get(p, p) for p in scores["parameter"]])
    trajectory = pd.concat(trajectories, ignore_index=True) if trajectories else pd.DataFrame()
    return boxes, trajectory, scores
