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
from ..style import OKABE_ITO, RC_PARAMS, firm_colour
from .experiment import Experiment
from .text import percent

__all__ = ["plot_boxes", "plot_feature_scores", "plot_regret", "plot_tradeoff"]


def strategy_colours(experiment: Experiment, strategies: list[str]) -> dict[str, str]:
    """A colour per strategy: that of the base scenario's firm following it, else another."""
    by_firm = {f["strategy"]: firm_colour(i) for i, f in enumerate(experiment.base.firms)}
    spare = iter(OKABE_ITO[len(experiment.base.firms) :] + OKABE_ITO)
    return {s: by_firm.get(s) or next(spare) for s in strategies}


def _save(fig: plt.Figure, path: Path, footer: str) -> Path:
    fig.text(0.99, 0.005, footer, ha="right", va="bottom", fontsize=10, color="#444444")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    save_figure(fig, path, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_tradeoff(trajectory: pd.DataFrame, experiment: Experiment, path: str | Path) -> Path:
    """Coverage against density along each strategy's PRIM peeling trajectory."""
    strategies = list(dict.fromkeys(trajectory["strategy"]))
    colours = strategy_colours(experiment, strategies)
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(8, 6))
        for strategy in strategies:
            part = trajectory[trajectory["strategy"] == strategy]
            colour = colours[strategy]
            ax.plot(part["coverage"], part["density"], marker=".", color=colour, label=strategy)
            chosen = part[part["chosen"]]
            ax.plot(
                chosen["coverage"],
                chosen["density"],
                marker="o",
                markersize=13,
                markerfacecolor="none",
                markeredgewidth=2.5,
                color=colour,
            )
        ax.set_xlabel("coverage: share of the strategy's wins inside the box")
        ax.set_ylabel("density: share of the box's runs the strategy wins")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{experiment.name}: PRIM's trade-off, box by box")
        ax.legend(loc="lower left", frameon=False)
        return _save(fig, Path(path), "each dot: a box as PRIM peels; ringed: the box chosen")


def plot_boxes(
    table: pd.DataFrame,
    boxes: pd.DataFrame,
    scores: pd.DataFrame,
    experiment: Experiment,
    path: str | Path,
) -> Path:
    """For each strategy's box: every run on the box's two main parameters (its first
    two restrictions, else the most important parameters), coloured by winner."""
    strategies = list(boxes["strategy"])
    colours = strategy_colours(experiment, sorted(set(table["winner_strategy"])))
    labels = dict(zip(scores["parameter"], scores["label"], strict=True))
    ranked = list(scores["parameter"])
    with plt.rc_context(RC_PARAMS | {"axes.titlesize": 12}):
        fig, axes = plt.subplots(
            1, len(strategies), figsize=(0.6 + 4.6 * len(strategies), 4.8), squeeze=False
        )
        for ax, row in zip(axes[0], boxes.to_dict("records"), strict=True):
            restricted = [k for k in row["restricted"].split(", ") if k]
            axes_keys = (restricted + [k for k in ranked if k not in restricted])[:2]
            kx, ky = axes_keys
            for strategy, part in table.groupby("winner_strategy"):
                ax.scatter(
                    part[kx],
                    part[ky],
                    s=9,
                    color=colours[strategy],
                    alpha=0.55,
                    linewidths=0,
                    label=f"{strategy} wins",
                )
            x_low, x_high = _limits(row, kx, table)
            y_low, y_high = _limits(row, ky, table)
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
            ax.set_title(
                f"{row['strategy']}: density {percent(row['density'])}, "
                f"coverage {percent(row['coverage'])}",
                color=colours[row["strategy"]],
            )
        axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, markerscale=2)
        fig.suptitle(f"{experiment.name}: where each strategy wins (its box, outlined)")
        return _save(fig, Path(path), f"{len(table)} runs; other parameters of a box not shown")


def _limits(row: dict, key: str, table: pd.DataFrame) -> tuple[float, float]:
    low, high = row.get(f"{key} low", np.nan), row.get(f"{key} high", np.nan)
    if not np.isfinite(low):
        low, high = float(table[key].min()), float(table[key].max())
    return float(low), float(high)


def plot_feature_scores(scores: pd.DataFrame, experiment: Experiment, path: str | Path) -> Path:
    """Feature scores of the uncertainties for who wins, largest first."""
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(8, 0.9 + 0.42 * len(scores)))
        order = scores.iloc[::-1]
        ax.barh(order["label"], order["score"], color="#555555")
        ax.set_xlabel("feature score (extra trees; sums to 1)")
        ax.set_title(f"{experiment.name}: what matters most for who wins")
        return _save(fig, Path(path), "scores of a classifier of the winner's strategy")


def plot_regret(
    shares: pd.DataFrame,
    table: pd.DataFrame,
    focal: str,
    experiment: Experiment,
    path: str | Path,
) -> Path:
    """The focal firm's regret per strategy over the futures (box plots), mean marked."""
    shares = shares.dropna()
    regret = shares.max(axis=1).to_numpy()[:, None] - shares.to_numpy()
    strategies = list(shares.columns)
    colours = strategy_colours(experiment, strategies)
    with plt.rc_context(RC_PARAMS):
        fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(strategies), 5))
        parts = ax.boxplot(
            regret,
            tick_labels=strategies,
            whis=(0, 90),
            showfliers=False,
            patch_artist=True,
            medianprops={"color": "black"},
        )
        for patch, strategy in zip(parts["boxes"], strategies, strict=True):
            patch.set_facecolor(colours[strategy])
            patch.set_alpha(0.6)
        ax.scatter(
            range(1, len(strategies) + 1),
            table["mean_regret"],
            color="black",
            zorder=3,
            label="mean regret",
        )
        ax.scatter(
            range(1, len(strategies) + 1),
            table["max_regret"],
            marker="v",
            color="black",
            zorder=3,
            label="worst case",
        )
        ax.set_ylabel("regret: best share minus its share")
        ax.set_title(f"{experiment.name}: {focal}'s regret, future by future")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        return _save(
            fig,
            Path(path),
            f"{len(shares)} futures; box: quartiles, whiskers: 0 to 90th percentile",
        )
