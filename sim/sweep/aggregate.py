"""Aggregate a sweep's runs: per design point, mean and 95 % CI of every run summary.

Confidence intervals are t-based across replicates (:func:`sim.stats.mean_and_ci`),
so they assume roughly normal replicate means; with n = 1 the interval collapses to
the mean. ``n`` counts the replicates with a defined value (``first_t50`` is
undefined when nobody adopted, Bass p and q when the fit fails).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..analysis import bass_curve, bass_recursion
from ..stats import mean_and_ci
from .columns import METRICS
from .experiment import Experiment, ExperimentError
from .verdicts import judge, settle

__all__ = [
    "aggregate",
    "bass_check",
    "curves",
    "decided",
    "metric_table",
    "sobol_indices",
    "winners",
]


def aggregate(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Tidy table: one row per design point x firm x metric with mean, sd, n, CI.

    Columns: point, the factor columns, firm, strategy, metric, mean, sd, n,
    ci_low, ci_high.
    """
    factors = experiment.factor_names
    long = runs.melt(
        id_vars=["point", "replicate", "firm", "firm_index", "strategy"],
        value_vars=[m for m in METRICS if m in runs],
        var_name="metric",
    )
    stats_ = mean_and_ci(long, "value", by=["point", "firm_index", "firm", "metric"])
    stats_ = stats_.reset_index().rename(
        columns={"std": "sd", "count": "n", "low": "ci_low", "high": "ci_high"}
    )
    nan = stats_["n"] == 0
    stats_.loc[nan, ["ci_low", "ci_high"]] = np.nan
    strategy = runs.groupby(["point", "firm_index"])["strategy"].agg(_mode).reset_index()
    stats_ = stats_.merge(strategy, on=["point", "firm_index"])
    design = experiment.table.copy()
    design.insert(0, "point", range(len(design)))
    out = design.merge(stats_, on="point")
    order = {m: i for i, m in enumerate(METRICS)}
    out = out.sort_values(
        ["point", "firm_index", "metric"], key=lambda s: s.map(order) if s.name == "metric" else s
    )
    columns = [
        "point",
        *factors,
        "firm",
        "strategy",
        "metric",
        "mean",
        "sd",
        "n",
        "ci_low",
        "ci_high",
    ]
    out["n"] = out["n"].astype(int)
    return out[columns].reset_index(drop=True)


def _mode(values: pd.Series) -> str:
    """The most frequent strategy (an adaptive firm's varies; fixed firms have one)."""
    return str(values.mode().iloc[0]) if len(values) else ""


def metric_table(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """The experiment's metric (final share or profit) per run and firm: index (point,
    replicate), one column per firm of the base scenario."""
    column = experiment.metric_column
    if column not in runs:
        raise ExperimentError(
            "experiment.metric",
            experiment.metric,
            reason=f"the stored runs have no {column} column (run by an older model?)",
        )
    table = runs.pivot_table(
        index=["point", "replicate"], columns="firm", values=column, aggfunc="first"
    )
    return table[[f for f in experiment.firm_names if f in table.columns]]


def winners(runs: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """Per design point: the verdict on which firm wins (see :mod:`.verdicts`).

    With a replicate rule (``until = "winner"``) the numbers are those of the fresh
    replicates that confirmed the verdict (``reported``: which replicates), or of all
    replicates at the rule's last look; otherwise of all replicates. Columns: the
    factors, ``metric``, ``verdict``, winner (highest mean), runner-up, margin and its
    CI (paired per-run difference, at ``level``), ``clear``, ``tied`` and ``tost_p``
    (equivalence within the experiment's margin), ``contenders`` (firms winning a
    quarter of the runs or more), ``wins`` (the winner's share of runs won),
    ``p_win_FIRM`` with Wilson 95 % bounds, ``p_no_winner``, ``n`` (runs behind the
    numbers), ``replicates`` (runs made), ``reported``, ``confirmed``, ``looks``.
    """
    values = metric_table(runs, experiment)
    rules = experiment.rules()
    verdict_rule = experiment.rule is not None and experiment.rule.until == "winner"
    rows = []
    for point, frame in values.groupby(level="point"):
        frame = frame.droplevel("point")
        if verdict_rule:
            assert experiment.rule is not None
            settled = settle(frame, experiment.rule.schedule(), rules)
            judgement = settled.judgement
            start, stop = settled.reported
            confirmed = (
                "yes"
                if settled.confirmed
                else "no (last look)"
                if settled.settled
                else "no (runs missing: interrupted or failed)"
            )
            looks = "; ".join(settled.looks)
        else:
            judgement = judge(frame, rules)
            start, stop = 0, len(frame)
            confirmed, looks = "n/a (fixed replicates)", ""
        rows.append(
            {
                "point": point,
                "metric": experiment.metric_label,
                **judgement.row(),
                "replicates": len(frame),
                "reported": f"{start}-{stop - 1}",
                "confirmed": confirmed,
                "looks": looks,
            }
        )
    design = experiment.table.copy()
    design.insert(0, "point", range(len(design)))
    return design.merge(pd.DataFrame(rows), on="point")


def decided(runs: pd.DataFrame, experiment: Experiment, points: list[int]) -> set[int]:
    """Which of ``points`` the experiment's replicate rule has settled, from ``runs``.

    ``until = "winner"``: a verdict confirmed by fresh replicates, or the rule's last
    look reached (:func:`.verdicts.settle`); ``until = "ci"``: every firm's ``metric``
    CI (at the rule's level) is at most ``width`` wide. A point with fewer than two
    replicates is never decided.
    """
    rule = experiment.rule
    assert rule is not None
    runs = runs[runs["point"].isin(points)]
    if runs.empty:
        return set()
    if rule.until == "winner":
        values = metric_table(runs, experiment)
        rules, schedule = experiment.rules(), rule.schedule()
        return {
            int(point)
            for point, frame in values.groupby(level="point")
            if settle(frame.droplevel("point"), schedule, rules).settled
        }
    band = mean_and_ci(runs, rule.metric, by=["point", "firm"], level=rule.level)
    narrow = ((band["high"] - band["low"]) <= rule.width) & (band["count"] >= 2)
    by_point = narrow.groupby(level="point").all()
    return {int(p) for p, ok in by_point.items() if ok}


def curves(timeseries: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean and 95 % CI of time-series ``columns`` per design point and step (tidy)."""
    parts = []
    for column in columns:
        band = mean_and_ci(timeseries, column, by=["point", "step"]).reset_index()
        band.insert(2, "observable", column)
        parts.append(band.rename(columns={"std": "sd", "count": "n"}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def sobol_indices(
    runs: pd.DataFrame,
    experiment: Experiment,
    metrics: list[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """First-order and total Sobol indices (SALib, bootstrap 95 % CIs) per firm and metric.

    The output of a design point is its mean over replicates. Undefined times
    (``first_t*``: nobody adopted) count as the run length, i.e. censored.
    ``noise_share`` is the part of the variance of the point means that is replicate
    noise (mean within-point variance / replicates, over the variance of the means;
    NaN with one replicate): when it is large the indices describe noise, not the
    parameters. Returns the indices and notes on outputs that could not be analysed.
    """
    from SALib.analyze import sobol

    metrics = metrics or ["final_share", "first_t50"]
    problem = experiment.sobol_problem()
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    for metric in metrics:
        values = runs[["point", "firm", metric]].copy()
        if metric.startswith("first_t"):
            values[metric] = values[metric].fillna(experiment.steps)
        table = values.pivot_table(index="point", columns="firm", values=metric, aggfunc="mean")
        table = table.reindex(range(experiment.n_points))
        for firm in experiment.firm_names:
            y = table[firm].to_numpy(dtype=float) if firm in table else np.full(1, np.nan)
            if y.size != experiment.n_points or not np.isfinite(y).all():
                notes.append(f"{metric} of {firm}: some design points missing or undefined")
                continue
            if np.ptp(y) == 0:
                notes.append(f"{metric} of {firm}: constant over the design")
                continue
            per_run = values[values["firm"] == firm].groupby("point")[metric]
            counts = per_run.count()
            within = float((per_run.var(ddof=1) / counts).mean()) if counts.min() > 1 else np.nan
            noise = within / float(np.var(y, ddof=1))
            result = sobol.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=experiment.bootstrap,
                conf_level=0.95,
                seed=experiment.seed % 2**32,
            )
            for j, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "metric": metric,
                        "firm": firm,
                        "factor": name,
                        "S1": float(result["S1"][j]),
                        "S1_conf": float(result["S1_conf"][j]),
                        "ST": float(result["ST"][j]),
                        "ST_conf": float(result["ST_conf"][j]),
                        "noise_share": noise,
                    }
                )
    return pd.DataFrame(rows), notes


def bass_check(bands: pd.DataFrame, experiment: Experiment) -> pd.DataFrame:
    """ABM against the Bass recursion and closed form, per design point (one firm, legacy start).

    Columns: p, q, graph (the network), F(5) of the ABM, the recursion and the closed form, the RMSE
    and largest gap between the ABM mean and the recursion, the share of steps where the
    recursion lies in the ABM's 95 % CI, and how far the curve rises above complete
    mixing at the same (p, q) (``above_complete``: largest mean difference;
    ``above_complete_significant``: a step where the CIs do not overlap).
    """
    firm = experiment.firm_names[0]
    share = bands[bands["observable"] == f"share_{firm}"]
    networks = [point.params["network"] for point in experiment.points]
    rows = []
    for point in range(experiment.n_points):
        band = share[share["point"] == point].sort_values("step")
        if band.empty:
            continue
        p, q = experiment.bass_parameters(point)
        t = band["step"].to_numpy()
        rec = bass_recursion(int(t.max()), p, q)[t]
        closed = bass_curve(t, p, q)
        mean = band["mean"].to_numpy()
        live = rec < 0.995  # compare where adoption is still going on
        live[0] = True
        rows.append(
            {
                "point": point,
                "p": p,
                "q": q,
                "graph": networks[point],
                "F5_abm": float(mean[t == 5][0]) if (t == 5).any() else np.nan,
                "F5_recursion": float(rec[t == 5][0]) if (t == 5).any() else np.nan,
                "F5_closed_form": float(closed[t == 5][0]) if (t == 5).any() else np.nan,
                "rmse_recursion": float(np.sqrt(np.mean((mean - rec)[live] ** 2))),
                "max_gap_recursion": float(np.max(np.abs(mean - rec)[live])),
                "max_gap_closed_form": float(np.max(np.abs(mean - closed)[live])),
                "recursion_in_ci": float(
                    np.mean(
                        (
                            (band["low"].to_numpy() <= rec + 1e-12)
                            & (rec - 1e-12 <= band["high"].to_numpy())
                        )[live]
                    )
                ),
            }
        )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["above_complete"] = np.nan
    out["above_complete_significant"] = False
    for i, row in out.iterrows():
        twin = out[(out["p"] == row["p"]) & (out["q"] == row["q"]) & (out["graph"] == "complete")]
        if twin.empty or row["graph"] == "complete":
            continue
        mine = share[share["point"] == row["point"]].set_index("step")
        ref = share[share["point"] == int(twin["point"].iloc[0])].set_index("step")
        out.loc[i, "above_complete"] = float((mine["mean"] - ref["mean"]).max())
        out.loc[i, "above_complete_significant"] = bool((mine["low"] > ref["high"]).any())
    design = experiment.table.copy()
    design.insert(0, "point", range(len(design)))
    return design.merge(out, on="point")
