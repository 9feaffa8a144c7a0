"""The class's worksheet picture: one page to hand out after a class session.

``python run.py class --export DIR`` writes, for the latest session, its answers
(``class-CODE-answers.csv``) and one PNG page (``class-CODE.png``): the class's
histogram (one bar per band, the reference values marked), the class mean with its
95 % interval, and the two markets the teacher's page runs, lesson 1's market with the
class's loss aversion beside the same market at λ = 1, with the step at which half the
customers had adopted in each.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..errors import InputError
from ..style import LEGACY_COLOUR, firm_colour
from .elicitation import band_of, summarize
from .figures import PAGE_RC, save
from .lessons import LESSONS
from .market import MARKET_LESSON, MARKET_SEED, class_markets
from .store import ClassSession, ClassStore

__all__ = ["export_session", "half_step", "worksheet_figure"]

BAR = "#56B4E9"
BAR_EDGE = "#0072B2"
MEAN_COLOUR = "#009E73"
REFERENCE_STYLES = ({"color": "#111111", "ls": "-"}, {"color": "#D55E00", "ls": "--"})


def half_step(shares: np.ndarray) -> int | None:
    """The first step at which at least half the customers had adopted, or None."""
    reached = np.flatnonzero(np.asarray(shares) >= 0.5)
    return int(reached[0]) if reached.size else None


def _histogram(ax: Any, summary: dict[str, Any]) -> None:
    """One equal-width bar per band, the reference values and the class mean marked."""
    bands = summary["bands"]
    counts = [b["count"] for b in bands]
    x = np.arange(len(bands)) + 0.5
    ax.bar(x, counts, width=0.86, color=BAR, edgecolor=BAR_EDGE, lw=1.5)
    for xi, count in zip(x, counts, strict=True):
        if count:
            ax.annotate(f"{count}", (xi, count), ha="center", va="bottom", fontweight="bold")
    top = max(1, *counts) * 1.45
    for reference, style in zip(summary["references"], REFERENCE_STYLES, strict=False):
        ax.axvline(
            reference["position"],
            lw=2.5,
            label=f"{reference['value']:g}: {reference['label']}",
            **style,
        )
    mean = summary["mean"]
    if mean is not None:
        label = "class mean" + (", 95 % CI" if mean["low"] is not None else "")
        ax.axvline(mean["position"], color=MEAN_COLOUR, lw=3, label=label)
        if mean["low"] is not None:
            ax.axvspan(
                mean["low_position"], mean["high_position"], color=MEAN_COLOUR, alpha=0.18, lw=0
            )
    ax.legend(loc="upper left", frameon=False, fontsize=12)
    ax.set_xticks(x, [b["label"] for b in bands])
    ax.set_xlim(0, len(bands))
    ax.set_ylim(0, top)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel("loss aversion λ (one bar per band of answers)")
    ax.set_ylabel("students")


def _mean_text(summary: dict[str, Any]) -> str:
    mean = summary["mean"]
    if mean is None:
        return "no consistent answers"
    if mean["low"] is None:
        return f"class mean λ ≈ {mean['mean']:.2f} (one answer: no interval)"
    return (
        f"class mean λ ≈ {mean['mean']:.2f} (95 % CI {mean['low']:.2f}–{mean['high']:.2f}, "
        "from each student's band midpoint)"
    )


def _market(ax: Any, with_class: Any, neutral: Any, students: int) -> None:
    name = with_class.firms[0].name
    colour = firm_colour(0)
    for model, label, style in (
        (neutral, "nobody loss-averse (λ = 1)", {"color": LEGACY_COLOUR, "ls": "--"}),
        (with_class, f"this class's λ ({students} answers)", {"color": colour, "ls": "-"}),
    ):
        shares = np.asarray(model.datacollector.model_vars[f"share_{name}"])
        half = half_step(shares)
        when = f"half by step {half}" if half is not None else f"not half by step {model.steps}"
        ax.plot(np.arange(shares.size), shares, lw=3, label=f"{label}: {when}", **style)
        if half is not None:
            ax.plot([half], [shares[half]], "o", ms=9, color=style["color"])
    ax.axhline(0.5, color="#999999", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xlim(0, with_class.steps)
    ax.set_xlabel("step")
    ax.set_ylabel("share of customers adopting")
    ax.legend(loc="lower right", frameon=False)


def worksheet_figure(
    answers: list[list[str]], code: str, when: str, seed: int = MARKET_SEED
) -> Figure:
    """The page: histogram and class mean (left), the two markets (right)."""
    summary = summarize(answers)
    bands = [b for b in (band_of(a) for a in answers) if b is not None]
    if not bands:
        raise InputError("--export", reason=f"class session {code} has no consistent answers yet")
    with_class, neutral = class_markets(bands, seed)
    steps = LESSONS[MARKET_LESSON].steps
    with_class.run(steps)
    neutral.run(steps)
    with mpl.rc_context(PAGE_RC):
        fig = Figure(figsize=(11.69, 8.27))  # A4, landscape
        fig.subplots_adjust(left=0.07, right=0.98, top=0.79, bottom=0.16, wspace=0.22)
        fig.suptitle("How loss-averse is our class?", fontsize=22, fontweight="bold", y=0.97)
        fig.text(
            0.5,
            0.925,
            f"Class {code}, {when}: {summary['answered']} answers, {summary['inconsistent']} "
            f"inconsistent (not used)\n{_mean_text(summary)}",
            ha="center",
            va="top",
            fontsize=14,
            linespacing=1.4,
        )
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        _histogram(left, summary)
        left.set_title("Our answers")
        _market(right, with_class, neutral, len(bands))
        right.set_title(f"Lesson 1's market, seed {seed}: our λ, λ = 1")
        fig.text(
            0.07,
            0.015,
            "Each band comes from six coin tosses, win €6 or lose €2, €3 ... €7: accepting "
            "'lose L' means λ ≤ 6/L, rejecting it λ > 6/L.\nFor the mean and the market the "
            "open bands count as 3–4 (for > 3) and 0.75–0.86 (for ≤ 0.86).",
            fontsize=11,
            color="#4a4a4a",
            linespacing=1.4,
        )
    return fig


def export_session(store: ClassStore, session: ClassSession, out: Path) -> list[Path]:
    """Write the session's answers (CSV) and its worksheet picture (PNG) to ``out``."""
    answers = store.answers(session)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(session.started))
    figure = worksheet_figure(answers, session.code, when)  # refuses before writing anything
    out.mkdir(exist_ok=True)
    csv = out / f"class-{session.code}-answers.csv"
    store.export_csv(csv, session)
    return [csv, save(figure, out / f"class-{session.code}.png")]
