"""Figures of scenario discovery and the robust choice (matplotlib, PNG).

- :func:`plot_tradeoff`: PRIM's coverage-density trade-off per strategy, chosen box marked;
- :func:`plot_boxes`: the runs on each box's two main parameters, coloured by winner;
- :func:`plot_feature_scores`: which uncertainties matter most for who wins;
- :func:`plot_regret`: the focal firm's regret per strategy over the sampled futures.

A strategy keeps one colour everywhere (the base scenario's firm that follows it).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from ..files import save_figure
from ..style import NO_WINNER_COLOUR, RC_PARAMS
from ..style import strategy_colours as _strategy_colours
from .discovery import NOISE_FLOOR
from .experiment import Experiment
from .text import percent

__all__ = ["plot_boxes", "plot_feature_scores", "plot_regret", "plot_tradeoff"]


def strategy_colours(experiment: Experiment, strategies: list[str]) -> dict[str, str]:
    """A colour per strategy (the same in every figure, whatever the firms' order)."""
    return _strategy_colours([str(s) for s in strategies])


def _save(fig: plt.Figure, path: Path, footer: str) -> Path:
    fig.text(0.99, 0.005, footer, ha="right", va="bottom", fontsize=10, color="#444444")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    save_figure(fig, path, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_tradeoff(
    trajectory: pd.DataFrame, boxes: pd.DataFrame, experiment: Experiment, path: str | Path
) -> Path:
    """Coverage against density along each outcome's PRIM peeling trajectory; the ring
    is the rule as written (``boxes.csv``), the cross the peeled box it came from."""
    strategies = list(dict.fromkeys(trajectory["strategy"]))
    colours = strategy_colours(experiment, strategies)
    written = boxes.set_index("strategy") if not boxes.empty else pd.DataFrame()
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(8, 6))
        for strategy in strategies:
            part = trajectory[trajectory["strategy"] == strategy]
            colour = colours[strategy]
            ax.plot(part["coverage"], part["density"], marker=".", color=colour, label=strategy)
            chosen = part[part["chosen"]]
            ax.plot(chosen["coverage"], chosen["density"], marker="x", markersize=10, color=colour)
            if strategy in written.index:
                ax.plot(
                    [written.loc[strategy, "coverage"]],
                    [written.loc[strategy, "density"]],
                    marker="o",
                    markersize=13,
                    markerfacecolor="none",
                    markeredgewidth=2.5,
                    color=colour,
                )
        ax.set_xlabel("coverage: share of its cases inside the box")
        ax.set_ylabel("density: share of the box's cases that are its")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{experiment.name}: PRIM's trade-off, box by box")
        ax.legend(loc="lower left", frameon=False)
        return _save(
            fig,
            Path(path),
            "dots: boxes as PRIM peels; ring: the rule as written; cross: the box it came from",
        )


def plot_boxes(
    table: pd.DataFrame,
    boxes: pd.DataFrame,
    scores: pd.DataFrame,
    experiment: Experiment,
    path: str | Path,
    outcome: str = "winner_strategy",
) -> Path:
    """For each box: every run (or world) on the box's two main parameters (its first
    two restrictions, else the most important parameters), coloured by outcome; a
    categorical parameter is spread over its levels with a little jitter."""
    strategies = list(boxes["strategy"])
    colours = strategy_colours(experiment, sorted(set(table[outcome].astype(str)) - {"none"}))
    colours["none"] = NO_WINNER_COLOUR
    labels = dict(zip(scores["parameter"], scores["label"], strict=True))
    ranked = [p for p in scores["parameter"] if p in table.columns]
    table = table.copy()
    codes: dict[str, list[str]] = {}
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(table))
    for key in ranked:
        if not pd.api.types.is_numeric_dtype(table[key]):
            codes[key] = sorted(table[key].astype(str).unique())
            table[key] = table[key].astype(str).map(codes[key].index).to_numpy() + jitter
    with plt.rc_context(RC_PARAMS | {"axes.titlesize": 12}):
        fig, axes = plt.subplots(
            1, len(strategies), figsize=(0.6 + 4.6 * len(strategies), 4.8), squeeze=False
        )
        for ax, row in zip(axes[0], boxes.to_dict("records"), strict=True):
            restricted = [k for k in row["restricted"].split(", ") if k]
            axes_keys = (restricted + [k for k in ranked if k not in restricted])[:2]
            kx, ky = axes_keys
            for strategy, part in table.groupby(table[outcome].astype(str)):
                ax.scatter(
                    part[kx],
                    part[ky],
                    s=9,
                    color=colours.get(strategy, NO_WINNER_COLOUR),
                    alpha=0.55,
                    linewidths=0,
                    label="no winner" if strategy == "none" else f"{strategy}",
                )
            x_low, x_high = _limits(row, kx, table, codes)
            y_low, y_high = _limits(row, ky, table, codes)
            ax.add_patch(
                Rectangle(
                    (x_low, y_low),
                    x_high - x_low,
                    y_high - y_low,
                    fill=False,
                    edgecolor=colours[row["strategy"]],
                    linewidth=3,
                )
            )
            ax.set_xlabel(labels.get(kx, kx))
            ax.set_ylabel(labels.get(ky, ky))
            for key, setter in ((kx, ax.set_xticks), (ky, ax.set_yticks)):
                if key in codes:
                    setter(range(len(codes[key])), codes[key])
            ax.set_title(
                f"{row['strategy']}: density {percent(row['density'])}, "
                f"coverage {percent(row['coverage'])}",
                color=colours[row["strategy"]],
            )
        axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, markerscale=2)
        fig.suptitle(f"{experiment.name}: where each strategy wins (its box, outlined)")
        return _save(fig, Path(path), f"{len(table)} runs; other parameters of a box not shown")


def _limits(
    row: dict, key: str, table: pd.DataFrame, codes: dict[str, list[str]]
) -> tuple[float, float]:
    """A box's extent on one axis: its limits, its levels' span, or the whole range."""
    if key in codes:
        kept = [v for v in str(row.get(f"{key} levels", "") or "").split(" | ") if v]
        index = [codes[key].index(v) for v in kept] or list(range(len(codes[key])))
        return min(index) - 0.4, max(index) + 0.4
    low, high = row.get(f"{key} low", np.nan), row.get(f"{key} high", np.nan)
    if not np.isfinite(low):
        low, high = float(table[key].min()), float(table[key].max())
    return float(low), float(high)


def plot_feature_scores(scores: pd.DataFrame, experiment: Experiment, path: str | Path) -> Path:
    """Feature scores of the uncertainties, largest first, with the noise floor: bars at
    or below it are pale (they matter no more than a random column)."""
    real = scores[scores["parameter"] != NOISE_FLOOR]
    floor = scores.loc[scores["parameter"] == NOISE_FLOOR, "score"]
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(8, 0.9 + 0.42 * len(real)))
        order = real.iloc[::-1]
        colours = ["#BBBBBB" if b else "#333333" for b in order["below_noise"].astype(bool)]
        ax.barh(order["label"], order["score"], color=colours)
        if not floor.empty:
            ax.axvline(float(floor.iloc[0]), color="#D55E00", linestyle="--", linewidth=2)
            ax.text(
                float(floor.iloc[0]),
                len(order) - 0.4,
                " noise floor",
                color="#D55E00",
                va="bottom",
                fontsize=11,
            )
        ax.set_xlabel("feature score (extra trees; sums to 1 with the random columns)")
        ax.set_title(f"{experiment.name}: what matters most")
        return _save(fig, Path(path), "pale: at or below the noise floor (random columns' best)")


def plot_regret(
    values: pd.DataFrame, table: pd.DataFrame, experiment: Experiment, path: str | Path
) -> Path:
    """The focal firm's regret per option over the worlds (box plots), mean and worst
    case marked with their 95 % bootstrap intervals."""
    regret = values.max(axis=1).to_numpy()[:, None] - values.to_numpy()
    options = list(values.columns)
    colours = strategy_colours(experiment, options)
    x = np.arange(1, len(options) + 1)
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(options), 5))
        parts = ax.boxplot(
            regret,
            tick_labels=options,
            whis=(0, 90),
            showfliers=False,
            patch_artist=True,
            medianprops={"color": "black"},
        )
        for patch, option in zip(parts["boxes"], options, strict=True):
            patch.set_facecolor(colours[option])
            patch.set_alpha(0.6)
        for column, marker, label in (
            ("mean_regret", "o", "mean regret (95 % CI)"),
            ("max_regret", "v", "worst case (95 % CI)"),
        ):
            ax.errorbar(
                x,
                table[column],
                yerr=[
                    table[column] - table[f"{column}_low"],
                    table[f"{column}_high"] - table[column],
                ],
                fmt=marker,
                color="black",
                capsize=4,
                zorder=3,
                label=label,
            )
        ax.set_ylabel(f"regret: best {experiment.metric_label} minus its own")
        ax.set_title(f"{experiment.name}: {experiment.focal}'s regret, world by world")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        if len(options) > 4:
            ax.tick_params(axis="x", labelrotation=25)
        return _save(
            fig,
            Path(path),
            f"{len(values)} worlds; box: quartiles, whiskers: 0 to 90th percentile",
        )
