"""Sweep figures (matplotlib, PNG), readable printed: a firm keeps its strategy's colour.

- :func:`plot_curves`: adoption curves (mean, 95 % CI band) per factor level;
- :func:`plot_strategy_map`: which strategy wins over two factors, with its margin;
- :func:`plot_metric`: a metric against a factor, with 95 % CIs;
- :func:`plot_sobol`: first-order and total Sobol indices with bootstrap CIs;
- :func:`plot_bass`: ABM against the Bass recursion and closed form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch, Rectangle

from ..analysis import bass_curve, bass_recursion
from ..files import save_figure
from ..style import LEGACY_COLOUR, OKABE_ITO, RC_PARAMS, firm_colour, firm_colours
from .columns import metric_label
from .experiment import Experiment
from .text import fmt

__all__ = ["plot_bass", "plot_curves", "plot_metric", "plot_sobol", "plot_strategy_map"]

MAX_PANELS = 5


def _subset(values: list[Any], limit: int = MAX_PANELS) -> list[Any]:
    """At most ``limit`` levels, evenly spread, first and last kept."""
    if len(values) <= limit:
        return values
    index = np.unique(np.round(np.linspace(0, len(values) - 1, limit)).astype(int))
    return [values[i] for i in index]


def _finish(fig: plt.Figure, path: str | Path, footer: str, bottom: float = 0.04) -> None:
    """Footer note, layout above it, save (tight) and close: how every figure ends."""
    fig.text(0.99, 0.005, footer, ha="right", va="bottom", fontsize=10, color="#444444")
    fig.tight_layout(rect=(0, bottom, 1, 1))
    save_figure(fig, path, bbox_inches="tight")
    plt.close(fig)


def plot_curves(
    bands: pd.DataFrame,
    experiment: Experiment,
    path: str | Path,
    prefix: str = "share_",
    ylabel: str = "customer share",
) -> Path | None:
    """Small multiples of each firm's ``prefix`` observable over time, per factor level.

    Columns of panels follow ``report.curves[0]``, rows ``report.curves[1]``; other
    factors are held at their first level. Lines: mean over replicates; bands: 95 % CI.
    """
    path = Path(path)
    shown = list(experiment.report.get("curves", experiment.factor_names[:2]))[:2]
    cols = _subset(experiment.levels(shown[0])) if shown else [None]
    rows = _subset(experiment.levels(shown[1])) if len(shown) > 1 else [None]
    mask, note = experiment.others_fixed(shown)
    table = experiment.table
    firms = experiment.firm_names
    colours = firm_colours(experiment.base.firms)
    any_legacy = False
    with plt.rc_context(RC_PARAMS | {"axes.titlesize": 12, "font.size": 11}):
        fig, axes = plt.subplots(
            len(rows),
            len(cols),
            figsize=(0.6 + 3.1 * len(cols), 0.9 + 2.6 * len(rows)),
            sharex=True,
            sharey=True,
            squeeze=False,
        )
        for r, row_level in enumerate(rows):
            for c, col_level in enumerate(cols):
                ax = axes[r, c]
                select = mask.copy()
                title = []
                if col_level is not None:
                    select &= (table[shown[0]] == col_level).to_numpy()
                    title.append(f"{experiment.factor(shown[0]).title} = {fmt(col_level)}")
                if row_level is not None:
                    select &= (table[shown[1]] == row_level).to_numpy()
                    title.append(f"{experiment.factor(shown[1]).title} = {fmt(row_level)}")
                points = np.flatnonzero(select)
                if points.size == 0:
                    ax.set_visible(False)
                    continue
                point = int(points[0])
                for firm in firms:
                    band = bands[(bands["point"] == point) & (bands["observable"] == prefix + firm)]
                    if band.empty:
                        continue
                    ax.plot(band["step"], band["mean"], color=colours[firm], label=firm)
                    ax.fill_between(
                        band["step"],
                        band["low"].clip(0, 1),
                        band["high"].clip(0, 1),
                        color=colours[firm],
                        alpha=0.25,
                        linewidth=0,
                    )
                legacy = bands[(bands["point"] == point) & (bands["observable"] == "share_legacy")]
                if prefix == "share_" and not legacy.empty and legacy["mean"].max() > 0:
                    ax.plot(
                        legacy["step"],
                        legacy["mean"],
                        color=LEGACY_COLOUR,
                        linestyle="--",
                        linewidth=1.6,
                    )
                    any_legacy = True
                ax.set_ylim(0, 1)
                ax.set_title("\n".join(title), fontsize=11)
                if r == len(rows) - 1:
                    ax.set_xlabel(experiment.step_unit)
                if c == 0:
                    ax.set_ylabel(ylabel)
        handles = [plt.Line2D([], [], color=colours[f], label=f) for f in firms]
        if any_legacy:
            handles.append(
                plt.Line2D([], [], color=LEGACY_COLOUR, linestyle="--", label="legacy product")
            )
        fig.suptitle(f"{experiment.name}: {ylabel} by firm over time", fontsize=14)
        # a figure legend: tight_layout lays out axes only, so it may come first
        fig.legend(handles=handles, loc="center left", frameon=False, bbox_to_anchor=(1.0, 0.5))
        footer = f"mean and 95% CI over {experiment.replicates_text}" + (
            f"; {note}" if note else ""
        )
        _finish(fig, path, footer, bottom=0.03)
    return path


def plot_strategy_map(winners: pd.DataFrame, experiment: Experiment, path: str | Path) -> Path:
    """The verdict in each cell of two factors.

    A clear win fills the cell with the winner's colour; a coin flip splits it between
    the firms that each win a quarter of the runs or more (their share of runs won
    written); a tie is grey; an undecided cell is white and hatched. Every cell names
    the leader and its margin over the runner-up (mean difference).
    """
    path = Path(path)
    x_name, y_name = experiment.report["map"]
    xs, ys = experiment.levels(x_name), experiment.levels(y_name)
    mask, note = experiment.others_fixed([x_name, y_name])
    frame = winners[mask[winners["point"].to_numpy()]]
    firms = experiment.firm_names
    colours = firm_colours(experiment.base.firms)
    with plt.rc_context(RC_PARAMS | {"axes.grid": False}):
        fig, ax = plt.subplots(figsize=(2.2 + 2.0 * len(xs), 1.6 + 1.35 * len(ys)))
        for row in frame.to_dict("records"):
            x, y = xs.index(row[x_name]), ys.index(row[y_name])
            verdict = row["verdict"]
            if verdict == "coin flip":
                contenders = [c for c in str(row["contenders"]).split(", ") if c in colours]
                width = 1 / max(len(contenders), 1)
                for k, firm in enumerate(contenders):
                    ax.add_patch(
                        Rectangle(
                            (x - 0.5 + k * width, y - 0.5),
                            width,
                            1,
                            facecolor=colours[firm],
                            alpha=0.45,
                            edgecolor="white",
                            linewidth=0,
                        )
                    )
                text = "coin flip\n" + "\n".join(
                    f"{c} {100 * row[f'p_win_{c}']:.0f}%" for c in contenders
                )
            else:
                face = {
                    "clear": colours.get(row["winner"], "#999999"),
                    "tie": "#AAAAAA",
                    "undecided": "white",
                }[verdict]
                ax.add_patch(
                    Rectangle(
                        (x - 0.5, y - 0.5),
                        1,
                        1,
                        facecolor=face,
                        alpha=0.95 if verdict == "clear" else 0.6,
                        hatch="//" if verdict == "undecided" else None,
                        edgecolor="#BBBBBB" if verdict == "undecided" else "white",
                        linewidth=0 if verdict != "undecided" else 1,
                    )
                )
                text = {
                    "clear": f"{row['winner']}\n{row['margin']:+.2f}",
                    "tie": "tie\n" + " = ".join(str(row["tied"]).split(", ")),
                    "undecided": f"undecided\n{row['winner']} {row['margin']:+.2f}",
                }[verdict]
            ax.add_patch(
                Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="white", linewidth=3)
            )
            ax.text(
                x,
                y,
                text,
                ha="center",
                va="center",
                fontsize=10,
                color="black",
                bbox={
                    "boxstyle": "round,pad=0.2",
                    "facecolor": "white",
                    "alpha": 0.85,
                    "linewidth": 0,
                },
            )
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_ylim(-0.5, len(ys) - 0.5)
        ax.set_xticks(range(len(xs)), [fmt(v) for v in xs])
        ax.set_yticks(range(len(ys)), [fmt(v) for v in ys])
        ax.set_xlabel(experiment.factor(x_name).title)
        ax.set_ylabel(experiment.factor(y_name).title)
        ax.set_title(f"{experiment.name}: the verdict by condition ({experiment.metric_label})")
        handles = [Patch(facecolor=colours[f], label=f"{f} wins clearly") for f in firms]
        handles += [
            Patch(facecolor="#DDDDDD", label="coin flip (split: who wins ≥ 25 %)"),
            Patch(facecolor="#AAAAAA", label="tie"),
            Patch(facecolor="white", edgecolor="#777777", hatch="//", label="undecided"),
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        _finish(
            fig,
            path,
            f"±x: leader's mean {experiment.metric_label} minus the runner-up's; "
            f"{experiment.replicates_text}" + (f"; {note}" if note else ""),
        )
    return path


def plot_metric(
    summary: pd.DataFrame,
    experiment: Experiment,
    metric: str,
    factor: str,
    path: str | Path,
) -> Path:
    """``metric`` (mean and 95 % CI) against ``factor``.

    With several firms: a line per firm and a panel per level of another factor. With
    one firm: a line per level of the other factor.
    """
    path = Path(path)
    others = [n for n in experiment.factor_names if n != factor]
    other = others[0] if others else None
    firms = experiment.firm_names
    by_firm = len(firms) > 1 or other is None
    panels = _subset(experiment.levels(other)) if (other and by_firm) else [None]
    mask, note = experiment.others_fixed([factor, *([other] if other else [])])
    data = summary[(summary["metric"] == metric) & mask[summary["point"].to_numpy()]]
    xs = experiment.levels(factor)
    numeric = all(isinstance(x, int | float | np.number) for x in xs)
    x = np.asarray(xs, dtype=float) if numeric else np.arange(len(xs))
    clip = (0.0, 1.0) if metric in ("final_share", "final_trust") else (None, None)
    colours = firm_colours(experiment.base.firms)
    with plt.rc_context(RC_PARAMS | {"axes.titlesize": 12}):
        fig, axes = plt.subplots(
            1, len(panels), figsize=(0.8 + 3.8 * len(panels), 4.6), sharey=True, squeeze=False
        )
        for c, level in enumerate(panels):
            ax = axes[0, c]
            part = data if level is None else data[data[other] == level]
            if by_firm:
                series = [(f, part[part["firm"] == f], colours[f]) for f in firms]
            else:
                series = [
                    (f"{fmt(v)}", part[part[other] == v], firm_colour(j))
                    for j, v in enumerate(_subset(experiment.levels(other), 7))
                ]
            for label, frame, colour in series:
                line = frame.set_index(factor).reindex(xs)
                ax.plot(x, line["mean"], marker="o", color=colour, label=label)
                low = line["ci_low"].astype(float).clip(*clip)
                high = line["ci_high"].astype(float).clip(*clip)
                ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
            if not numeric:
                ax.set_xticks(range(len(xs)), [fmt(v) for v in xs], rotation=20)
            ax.set_xlabel(experiment.factor(factor).title)
            if level is not None:
                ax.set_title(f"{experiment.factor(other).title} = {fmt(level)}")
            if c == 0:
                ax.set_ylabel(metric_label(metric))
        title = None if by_firm else experiment.factor(other).title
        axes[0, -1].legend(loc="best", frameon=False, title=title, fontsize=10)
        fig.suptitle(f"{experiment.name}: {metric_label(metric)}", fontsize=14)
        _finish(
            fig,
            path,
            f"mean and 95% CI over {experiment.replicates_text}" + (f"; {note}" if note else ""),
        )
    return path


def plot_sobol(indices: pd.DataFrame, experiment: Experiment, path: str | Path) -> Path:
    """First-order (S1) and total (ST) Sobol indices with bootstrap 95 % CIs, per output."""
    path = Path(path)
    metrics = list(dict.fromkeys(indices["metric"]))
    firms = [f for f in experiment.firm_names if f in set(indices["firm"])]
    names = experiment.factor_names
    labels = [experiment.factor(n).title for n in names]
    with plt.rc_context(RC_PARAMS | {"axes.titlesize": 12}):
        fig, axes = plt.subplots(
            len(metrics),
            len(firms),
            figsize=(0.8 + max(3.2, 0.75 * len(names)) * len(firms), 1.0 + 3.6 * len(metrics)),
            sharey=True,
            squeeze=False,
        )
        x = np.arange(len(names))
        for r, metric in enumerate(metrics):
            for c, firm in enumerate(firms):
                ax = axes[r, c]
                part = indices[(indices["metric"] == metric) & (indices["firm"] == firm)]
                part = part.set_index("factor").reindex(names)
                ax.bar(
                    x - 0.2,
                    part["S1"],
                    0.4,
                    yerr=part["S1_conf"],
                    color="#333333",
                    label="first order S1",
                    capsize=3,
                )
                ax.bar(
                    x + 0.2,
                    part["ST"],
                    0.4,
                    yerr=part["ST_conf"],
                    color="#AAAAAA",
                    label="total ST",
                    capsize=3,
                )
                ax.axhline(0, color="black", linewidth=0.8)
                ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=10)
                ax.set_title(
                    f"{metric_label(metric)}\n{firm}",
                    fontsize=11,
                    color=firm_colours(experiment.base.firms)[firm],
                )
                if c == 0:
                    ax.set_ylabel("Sobol index")
        axes[0, 0].legend(loc="upper left", frameon=False, fontsize=10)
        fig.suptitle(f"{experiment.name}: Sobol sensitivity indices", fontsize=14)
        _finish(
            fig,
            path,
            f"Saltelli design N = {experiment.samples}, {experiment.n_points} points x "
            f"{experiment.replicates_text}; bars: 95% bootstrap CI",
            bottom=0.03,
        )
    return path


def plot_bass(bands: pd.DataFrame, experiment: Experiment, path: str | Path) -> Path:
    """Mean ABM adoption (95 % CI) per network against the discrete recursion and Bass curve.

    Panels follow ``report.curves[0]`` (the (p, q) pairs), lines ``report.curves[1]``
    (the networks).
    """
    path = Path(path)
    panel_name, line_name = experiment.report["curves"][:2]
    panels, lines = experiment.levels(panel_name), experiment.levels(line_name)
    firm = experiment.firm_names[0]
    table = experiment.table
    with plt.rc_context(RC_PARAMS | {"axes.titlesize": 12}):
        fig, axes = plt.subplots(
            1, len(panels), figsize=(0.8 + 4.2 * len(panels), 4.8), sharey=True, squeeze=False
        )
        for c, level in enumerate(panels):
            ax = axes[0, c]
            p = q = float("nan")
            for j, line in enumerate(lines):
                select = (table[panel_name] == level) & (table[line_name] == line)
                points = np.flatnonzero(select.to_numpy())
                if points.size == 0:
                    continue
                point = int(points[0])
                p, q = experiment.bass_parameters(point)
                band = bands[(bands["point"] == point) & (bands["observable"] == f"share_{firm}")]
                colour = OKABE_ITO[j % len(OKABE_ITO)]
                ax.plot(band["step"], band["mean"], color=colour, label=f"ABM, {fmt(line)}")
                ax.fill_between(
                    band["step"], band["low"], band["high"], color=colour, alpha=0.25, linewidth=0
                )
            t = np.arange(experiment.steps + 1)
            ax.plot(
                t,
                bass_recursion(experiment.steps, p, q),
                color="black",
                linestyle="--",
                linewidth=1.8,
                label="discrete recursion",
            )
            ax.plot(
                t,
                bass_curve(t, p, q),
                color="black",
                linestyle=":",
                linewidth=1.8,
                label="Bass closed form",
            )
            ax.set_xlim(0, min(experiment.steps, _horizon(p, q)))
            ax.set_ylim(0, 1.02)
            ax.set_title(f"p = {p:g}, q = {q:g}")
            ax.set_xlabel("step since release")
            if c == 0:
                ax.set_ylabel("share adopted F(t)")
        axes[0, 0].legend(loc="lower right", frameon=False, fontsize=10)
        fig.suptitle(f"{experiment.name}: agent-based adoption against the Bass model", fontsize=14)
        _finish(
            fig,
            path,
            f"ABM: mean and 95% CI over {experiment.replicates_text}, "
            f"N = {experiment.base.resolved_parameters()['n_customers']:,}",
        )
    return path


def _horizon(p: float, q: float) -> int:
    """Steps until the recursion reaches 99.5 %, plus a margin (x-axis limit)."""
    f = bass_recursion(2000, p, q)
    reached = np.flatnonzero(f >= 0.995)
    return int(reached[0] * 1.3) + 2 if reached.size else 2000
