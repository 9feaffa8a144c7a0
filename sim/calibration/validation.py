"""Backtest on the shipped series: fit each on its first half, forecast the second half.

For every series of ``data/adoption/`` the model is calibrated (the default fit keys
and scenario) on the first half of its points and its posterior predictive median is
scored on the other half, beside a Bass fit to the same points. Each series is one
calibration in its own folder (resumed or skipped when run again); the table goes to
``docs/validation.md`` with the command that reproduces it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..provenance import write_atomic
from .api import Calibration, calibrate
from .data import SHIPPED_DATA, shipped_series

__all__ = ["backtest", "backtest_row", "validation_markdown"]

COLUMNS = [
    "series",
    "fitted",
    "forecast",
    "abm_rmse_in",
    "abm_rmse_out",
    "abm_in_band",
    "bass_rmse_in",
    "bass_rmse_out",
    "better_out",
    "simulations",
    "seconds",
]


def holdout_points(n: int) -> int:
    """The second half of n points (the first, fitted half keeps the middle point)."""
    return n // 2


def backtest_row(calibration: Calibration) -> dict[str, Any]:
    """One table row: spans, both models' errors, the share of held-out points inside
    the model's 90 % predictive band, and which forecast is better."""
    table = calibration.holdout_table().set_index("model")
    frame = calibration.fitted()
    held = frame[~frame["fitted"]]
    inside = ((held["observed"] >= held["q05"]) & (held["observed"] <= held["q95"])).mean()
    times = calibration.problem.series.times
    n_fit = calibration.problem.n_fit
    abm, bass = table.loc["abm", "rmse_out"], table.loc["bass", "rmse_out"]
    return {
        "series": calibration.problem.series.name,
        "fitted": f"{_year(times[0])}-{_year(times[n_fit - 1])} ({n_fit})",
        "forecast": f"{_year(times[n_fit])}-{_year(times[-1])} ({len(times) - n_fit})",
        "abm_rmse_in": table.loc["abm", "rmse_in"],
        "abm_rmse_out": abm,
        "abm_in_band": float(inside),
        "bass_rmse_in": table.loc["bass", "rmse_in"],
        "bass_rmse_out": bass,
        "better_out": "model" if abm < bass else "Bass" if bass < abm else "tie",
        "simulations": int(calibration.generations["simulations"].sum()),
        "seconds": round(calibration.seconds, 1),
    }


def _year(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def backtest(
    names: Sequence[str] | None = None,
    *,
    budget: int = 10_000,
    seed: int = 1,
    workers: int = 1,
    scheduler: Any = None,
    out: Path = Path("results/backtest"),
    progress: bool = False,
    on_series: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Calibrate every shipped series (or ``names``) on its first half; one row each."""
    data = shipped_series()
    chosen = list(names) if names else data.names
    for name in chosen:
        data.get(name)  # an unknown name is an InputError before anything runs
    rows = []
    for name in chosen:
        series = data.get(name)
        calibration = calibrate(
            SHIPPED_DATA,
            series=name,
            holdout=holdout_points(len(series)),
            budget=budget,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            out=out / name,
            progress=progress,
            command=f"python run.py backtest --series {name} --budget {budget} --seed {seed}",
        )
        rows.append(backtest_row(calibration))
        if on_series is not None:
            on_series(rows[-1])
    return pd.DataFrame(rows, columns=COLUMNS)


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.3f}"
    return str(value)


def validation_markdown(
    table: pd.DataFrame, *, command: str, seconds: float, machine: str, budget: int
) -> str:
    """docs/validation.md: the table, the tally, and the command that reproduces it."""
    wins = table["better_out"].value_counts()
    model_wins, bass_wins = int(wins.get("model", 0)), int(wins.get("Bass", 0))
    med_abm, med_bass = table["abm_rmse_out"].median(), table["bass_rmse_out"].median()
    med_abm_in, med_bass_in = table["abm_rmse_in"].median(), table["bass_rmse_in"].median()
    band = table["abm_in_band"].mean()
    shown = table.drop(columns=["simulations", "seconds"]).rename(
        columns={
            "fitted": "fitted (points)",
            "forecast": "forecast (points)",
            "abm_rmse_in": "model RMSE in",
            "abm_rmse_out": "model RMSE out",
            "abm_in_band": "held-out points in model's 90 % band",
            "bass_rmse_in": "Bass RMSE in",
            "bass_rmse_out": "Bass RMSE out",
            "better_out": "better forecast",
        }
    )
    head = "| " + " | ".join(shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    rows = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    n = len(table)
    return "\n".join(
        [
            "# Validation: forecasting the shipped adoption curves",
            "",
            "Each of the shipped series (`data/adoption/`) is fitted on the first half of "
            "its points and forecast on the second half: the model by ABC-SMC on "
            "`scenarios/calibration.toml` with the default fit keys (Bass p and q of "
            "awareness, mean loss aversion; docs/calibration.md), scored by its posterior "
            "predictive median; Bass (1969) with a fitted launch by least squares on the "
            "same points. RMSE in shares; *in*: the fitted points, *out*: the forecast "
            "ones.",
            "",
            "Reproduce it (this file is written by the command):",
            "",
            "```bash",
            command,
            "```",
            "",
            f"{budget} simulations per series at most; the run took {seconds / 60:.0f} "
            f"minutes on {machine}. Each series' calibration (report.md, fit.png, "
            "holdout.csv ...) is in `results/backtest/SERIES/`.",
            "",
            head,
            rule,
            *rows,
            "",
            f"Better forecast: the model in {model_wins} of {n} series, Bass in "
            f"{bass_wins}. Median RMSE on the forecast points: model {med_abm:.3f}, Bass "
            f"{med_bass:.3f}; on the fitted points: model {med_abm_in:.3f}, Bass "
            f"{med_bass_in:.3f}. On average {band:.0%} of the held-out points lie inside "
            "the model's 90 % predictive band (which holds parameter uncertainty and a "
            "market's randomness, not measurement error).",
            "",
        ]
    )


def write_validation(path: Path, text: str) -> None:
    """Write the markdown whole or not at all."""
    write_atomic(path, text.encode())


def timed(function: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, float]:
    """The table and the wall time it took."""
    began = time.perf_counter()
    table = function()
    return table, time.perf_counter() - began
