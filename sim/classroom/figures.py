"""The classroom's matplotlib panels: the lesson handouts and slides (PNG).

Each function returns a :class:`matplotlib.figure.Figure` (no pyplot: no global
state). Type is large and colours are Okabe–Ito; a firm has its colour in every panel
(``model.firm_colours`` when the model has them). The live page draws in the browser
instead (:mod:`.views`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..psychology import value
from ..style import LEGACY_COLOUR, RC_PARAMS, firm_colour
from .layout import network_layout
from .views import offer_cloud

__all__ = [
    "PAGE_RC",
    "adoption_figure",
    "breakeven_figure",
    "comparison_figure",
    "firm_colours",
    "network_figure",
    "network_layout",
    "save",
    "to_png",
    "value_function_figure",
    "winners_figure",
]

#: A bit larger than the print style: read from the back of a classroom.
PAGE_RC: dict[str, Any] = {
    **RC_PARAMS,
    "font.size": 16,
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "legend.fontsize": 13,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "axes.linewidth": 1.4,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
FIGSIZE = (6.4, 4.4)


def _figure(figsize: tuple[float, float] = FIGSIZE, **margins: float) -> Figure:
    """A figure with fixed margins (a constrained layout costs more than the drawing)."""
    with mpl.rc_context(PAGE_RC):
        fig = Figure(figsize=figsize)
    fig.subplots_adjust(**{"left": 0.13, "right": 0.97, "top": 0.9, "bottom": 0.15, **margins})
    return fig


def firm_colours(model: Any) -> list[str]:
    """Colour of each of the model's firms: its slot's on the page, else its index's."""
    colours = getattr(model, "firm_colours", None)
    return list(colours) if colours else [firm_colour(f.index) for f in model.firms]


def _firm_label(firm: Any) -> str:
    return f"{firm.name} ({firm.strategy.name})" if firm.name != firm.strategy.name else firm.name


# --------------------------------------------------------------- value function
def value_function_figure(
    loss_aversion: float = 2.25, alpha: float = 0.88, beta: float = 0.88, span: float = 1.0
) -> Figure:
    """v(x) with its kink at 0, against the loss-neutral v (λ = 1)."""
    with mpl.rc_context(PAGE_RC):
        fig = _figure(left=0.14)
        ax = fig.add_subplot()
        x = np.linspace(-span, span, 401)
        ax.axhline(0, color="black", lw=1.2)
        ax.axvline(0, color="black", lw=1.2)
        ax.plot(
            x,
            value(x, 1.0, alpha, beta),
            color=LEGACY_COLOUR,
            ls="--",
            lw=2,
            label="no loss aversion (λ = 1)",
        )
        ax.plot(
            x,
            value(x, loss_aversion, alpha, beta),
            color="#0072B2",
            lw=3.2,
            label=f"λ̄ = {loss_aversion:.2f}, α = {alpha:.2f}, β = {beta:.2f}",
        )
        half = span / 2
        gain, loss = (
            value(half, loss_aversion, alpha, beta),
            value(-half, loss_aversion, alpha, beta),
        )
        ax.plot([half, -half], [gain, loss], "o", color="#D55E00", ms=10, zorder=5)
        ax.annotate(
            f"gain +{half:g}: v = {gain:+.2f}",
            (half, gain),
            xytext=(-12, 10),
            textcoords="offset points",
            ha="right",
            va="bottom",
        )
        ax.annotate(
            f"loss −{half:g}: v = {loss:+.2f}",
            (-half, loss),
            xytext=(10, -4),
            textcoords="offset points",
            ha="left",
            va="top",
        )
        ax.plot([0], [0], "o", color="black", ms=7)
        ax.annotate(
            "kink at 0:\nthe reference point",
            (0, 0),
            xytext=(12, -52),
            textcoords="offset points",
            ha="left",
            arrowprops={"arrowstyle": "->", "lw": 1.2},
        )
        ax.set_xlabel("change from what the customer has now, x")
        ax.set_ylabel("felt value v(x)")
        ax.set_title(f"Losses loom larger: a loss hurts {abs(loss / gain):.2f}× a gain")
        ax.legend(loc="lower right", frameon=False, fontsize=12)
        ax.set_xlim(-span, span)
    return fig


# ---------------------------------------------------------------- adoption curves
def adoption_figure(model: Any) -> Figure:
    """Share of customers per firm (solid) and on its latest release (dashed), live."""
    ts = model.timeseries()
    colours = firm_colours(model)
    with mpl.rc_context(PAGE_RC):
        fig = _figure(bottom=0.3, top=0.92)
        ax = fig.add_subplot()
        steps = ts["step"].to_numpy()
        if ts["share_legacy"].max() > 0:
            ax.plot(steps, ts["share_legacy"], color=LEGACY_COLOUR, lw=2.6, label="legacy product")
        releases = model.releases()
        handles = ax.get_legend_handles_labels()[0]
        for firm, colour in zip(model.firms, colours, strict=True):
            (line,) = ax.plot(
                steps, ts[f"share_{firm.name}"], color=colour, lw=3.2, label=_firm_label(firm)
            )
            handles.append(line)
            ax.plot(
                steps, ts[f"share_latest_{firm.name}"], color=colour, lw=1.6, ls="--", alpha=0.8
            )
            launched = releases.loc[releases["firm"] == firm.name, "step"].to_numpy()
            ax.plot(launched, np.full(launched.size, 0.97), "v", color=colour, ms=9)
        handles.append(Line2D([], [], color="black", lw=1.6, ls="--", label="on latest release"))
        handles.append(Line2D([], [], color="black", ls="", marker="v", ms=9, label="a release"))
        ax.set_ylim(0, 1.0)
        ax.set_xlim(0, max(10, int(steps[-1])))
        ax.set_xlabel("step")
        ax.set_ylabel("share of customers")
        ax.set_title(f"Adoption, step {model.steps}")
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.17),
            ncols=3,
            frameon=False,
            fontsize=12,
            columnspacing=1.2,
            handlelength=1.8,
        )
    return fig


# ----------------------------------------------------------------------- network
def network_figure(model: Any) -> Figure:
    """Customers on their social network, coloured by the firm whose product they use."""
    pos, links = network_layout(model)
    colours = np.array([LEGACY_COLOUR, *firm_colours(model)])
    node_colour = colours[model.firm_of + 1]
    n = model.n_customers
    size = float(np.clip(9000 / n, 6, 60))
    with mpl.rc_context(PAGE_RC):
        fig = _figure((6.0, 4.6), left=0.01, right=0.99, bottom=0.01, top=0.92)
        ax = fig.add_subplot()
        if len(links):
            ax.add_collection(
                LineCollection(links, colors="#999999", linewidths=0.5, alpha=0.35, zorder=1)
            )
        ax.scatter(pos[:, 0], pos[:, 1], s=size, c=node_colour, linewidths=0, zorder=2)
        ax.set_aspect("equal")
        ax.axis("off")
        counts = np.bincount(model.firm_of + 1, minlength=model.n_firms + 1)
        handles = []
        if counts[0] or model.params.get("start") == "legacy":
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="o",
                    ms=11,
                    color=LEGACY_COLOUR,
                    label=f"legacy {counts[0] / n:.0%}",
                )
            )
        for firm, colour in zip(model.firms, firm_colours(model), strict=True):
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="o",
                    ms=11,
                    color=colour,
                    label=f"{firm.name} {counts[firm.index + 1] / n:.0%}",
                )
            )
        ax.legend(handles=handles, loc="center", frameon=False, handletextpad=0.3)
        ax.set_title(f"Who uses what: {n:,} customers, step {model.steps}")
    return fig


# -------------------------------------------------------------------- break-even
def breakeven_figure(model: Any, firm: int = 0) -> Figure:
    """The firm's latest release: felt gain T·G^α against felt loss λ·L^β, per customer.

    A customer clears the bar (V > 0) above the diagonal. With α = β = 1 and T = 1 the
    axes are G and λ·L themselves: gains must be about λ times the losses.
    """
    alpha, beta = model.params["alpha"], model.params["beta"]
    the_firm = model.firms[firm]
    colour = firm_colours(model)[firm]
    cloud = offer_cloud(model, firm)
    felt_gain, felt_loss, clears = cloud.felt_gain, cloud.felt_loss, cloud.clears
    with mpl.rc_context(PAGE_RC):
        fig = _figure()
        ax = fig.add_subplot()
        if not clears.size:
            ax.text(
                0.5,
                0.5,
                "Every customer already uses this release.",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            top = 1.0
        else:
            top = cloud.axis_limit()
            ax.fill_between([0, top], [0, top], [top, top], color=colour, alpha=0.08, lw=0)
            ax.plot([0, top], [0, top], color="black", lw=2)
            ax.scatter(
                felt_loss[~clears],
                felt_gain[~clears],
                s=16,
                marker="x",
                color=LEGACY_COLOUR,
                linewidths=1.0,
                label="does not clear the bar",
            )
            ax.scatter(
                felt_loss[clears],
                felt_gain[clears],
                s=22,
                color=colour,
                edgecolors="black",
                linewidths=0.3,
                label="clears the bar (V > 0)",
            )
            ax.text(0.04 * top, 0.93 * top, "adopt", fontsize=15, color="black", va="top")
            ax.text(0.96 * top, 0.05 * top, "stay", fontsize=15, color="black", ha="right")
            ax.legend(loc="upper right", frameon=False, markerscale=1.6)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel(f"felt loss  λ·L^β   (β = {beta:.2f})")
        ax.set_ylabel(f"felt gain  T·G^α   (α = {alpha:.2f})")
        ax.set_title(
            f"Break-even, {the_firm.name}'s release: {cloud.share_clearing:.0%} of "
            f"{cloud.n_customers:,} customers clear it"
        )
    return fig


# -------------------------------------------------------------- lesson extras
def comparison_figure(runs: list[tuple[str, np.ndarray]], title: str, colour: str) -> Figure:
    """A lesson's what-ifs: the first firm's share over time, the median run (line) and
    the middle 90 % of runs (band) of each, from (label, seeds x steps) arrays."""
    styles = ["-", "--", ":", "-."]
    with mpl.rc_context(PAGE_RC):
        fig = _figure()
        ax = fig.add_subplot()
        for i, (label, series) in enumerate(runs):
            steps = np.arange(series.shape[1])
            low, middle, high = np.quantile(series, [0.05, 0.5, 0.95], axis=0)
            ax.fill_between(steps, low, high, color=colour, alpha=0.12, lw=0)
            ax.plot(
                steps,
                middle,
                color=colour,
                ls=styles[i % len(styles)],
                lw=3.2 - 0.4 * i,
                label=label,
            )
        ax.set_ylim(0, 1)
        ax.set_xlabel("step")
        ax.set_ylabel("share adopting")
        ax.set_title(title)
        n = runs[0][1].shape[0] if runs else 0
        ax.legend(
            loc="best",
            frameon=False,
            title=f"median of {n} runs;\nband: 9 runs in 10",
            title_fontsize=12,
        )
    return fig


def winners_figure(regimes: list[tuple[str, Any, str]], title: str) -> Figure:
    """Mean final share per firm (bars) with its 95 % CI (whiskers) in several market
    regimes, from (label, claims, variant key)."""
    claims = regimes[0][1]
    names = [f"{name} ({strategy})" for name, strategy in claims.firms]
    with mpl.rc_context(PAGE_RC):
        fig = _figure((8.0, 4.8), left=0.1, bottom=0.17)
        ax = fig.add_subplot()
        width = 0.8 / len(names)
        x = np.arange(len(regimes))
        for k, (name, label) in enumerate(zip([n for n, _ in claims.firms], names, strict=True)):
            spreads = [c.spread(key, f"share_{name}") for _, c, key in regimes]
            means = np.array([s.mean for s in spreads])
            cis = np.array([s.mean_ci for s in spreads]).T
            ax.bar(
                x + (k - (len(names) - 1) / 2) * width,
                means,
                width,
                yerr=np.abs(cis - means),
                capsize=3,
                color=firm_colour(k),
                label=label,
                edgecolor="black",
                lw=0.6,
            )
        ax.set_xticks(x, [r[0] for r in regimes])
        ax.set_ylim(0, 1)
        ax.set_ylabel("final share (mean, 95 % CI)")
        ax.set_title(title)
        ax.legend(loc="upper left", frameon=False, ncols=len(names))
    return fig


# -------------------------------------------------------------------------- I/O
def to_png(fig: Figure, dpi: float | None = None) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    with mpl.rc_context(PAGE_RC):
        fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save(fig: Figure, path: str | Path, dpi: float = 150) -> Path:
    """Write the figure as a PNG (150 dpi: sharp on slides and paper)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_png(fig, dpi))
    return path
