"""How a sweep's numbers are written in reports and figures: one place for the forms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["fmt", "level_text", "md_table", "percent"]


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
