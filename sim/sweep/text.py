"""How a sweep's numbers are written in reports and figures: one place for the forms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "duration_text",
    "dynamism_text",
    "fmt",
    "level_text",
    "md_table",
    "percent",
    "steps_per_year",
]


def fmt(value: Any) -> str:
    """A level for labels: numbers in short form, anything else as text."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return str(value)


def percent(share: float) -> str:
    """A share as a whole percentage: 0.78 -> "78 %"."""
    return f"{100 * share:.0f} %"


def level_text(level: float) -> str:
    """A confidence level: 0.95 -> "95 %", 0.99167 -> "99.2 %"."""
    return f"{100 * level:.3g} %"


def steps_per_year(unit: str) -> float | None:
    """How many steps make a year for a ``[run] step`` unit (None for a bare "step")."""
    from ..parameters import STEPS_PER_YEAR

    return STEPS_PER_YEAR.get(unit)


def duration_text(steps: int, unit: str) -> str:
    """A run's length: "200 steps" or "200 months (16.7 years)"."""
    per_year = steps_per_year(unit)
    if per_year is None:
        return f"{steps} steps"
    plural = unit if steps == 1 else f"{unit}s"
    return f"{steps} {plural} ({steps / per_year:.3g} years)"


def dynamism_text(rho: float, unit: str) -> str:
    """What market dynamism ρ means for a business: how far customers' needs move
    toward the future need point in a year (each step closes the share ρ of the
    remaining distance, so k steps close 1 - (1 - ρ)^k)."""
    per_year = steps_per_year(unit)
    if per_year is None:
        moved = 1 - (1 - rho) ** 100
        return (
            f"ρ = {fmt(rho)} per step: needs move {100 * moved:.3g} % of the way to the "
            "future point in 100 steps"
        )
    moved = 1 - (1 - rho) ** per_year
    return (
        f"ρ = {fmt(rho)} per {unit}: needs move {100 * moved:.3g} % of the way to the future "
        "point per year"
    )


def md_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (floats to three significant digits)."""
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([head, rule, *body])


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "–" if value != value else f"{value:.3g}"
    return str(value)
