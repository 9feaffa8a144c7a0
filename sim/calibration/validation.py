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
        "seconds": round(calibration.sampling_seconds, 1),
    }


def _year(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def backtest(
    names: Sequence[str] | None = None,
    *,
    budget: int = 10_000,
    population: int = 200,
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
            population=population,
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
        return f"{value:.4f}"
    return str(value)


#: Series whose second half rises again after a plateau the first half ends on.
SECOND_RISE = ("vacuum", "stove", "dishwasher")


def _miss(table: pd.DataFrame) -> str:
    """' by LOW to HIGH' (RMSE out of both models) over the SECOND_RISE series present."""
    part = table[table["series"].isin(SECOND_RISE)]
    if part.empty:
        return ""
    errors = part[["abm_rmse_out", "bass_rmse_out"]].to_numpy()
    return f" by {errors.min():.2f} to {errors.max():.2f} (RMSE)"


def validation_markdown(
    table: pd.DataFrame, *, command: str, seconds: float, machine: str, budget: int
) -> str:
    """docs/validation.md: the table, the tally, what it shows, and the command.

    ``seconds`` is the calibrations' sampling time (as their histories store it, so a
    rerun that only rewrites the outputs reports the original run's time)."""
    wins = table["better_out"].value_counts()
    model_wins, bass_wins = int(wins.get("model", 0)), int(wins.get("Bass", 0))
    med_abm, med_bass = table["abm_rmse_out"].median(), table["bass_rmse_out"].median()
    med_abm_in, med_bass_in = table["abm_rmse_in"].median(), table["bass_rmse_in"].median()
    band = table["abm_in_band"].mean()
    model_better = ", ".join(table.loc[table["better_out"] == "model", "series"])
    bass_better = ", ".join(table.loc[table["better_out"] == "Bass", "series"])
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
            f"At most {budget} simulations per series, seed 1. Sampling took "
            f"{seconds / 60:.0f} minutes in all ({machine}); writing each series' outputs "
            "adds a few seconds. Run again, finished series are not sampled again. Each "
            "series' calibration (report.md, fit.png, holdout.csv ...) is in "
            "`results/backtest/SERIES/`.",
            "",
            head,
            rule,
            *rows,
            "",
            f"Better forecast: the model in {model_wins} of {n} series ({model_better}), "
            f"Bass in {bass_wins} ({bass_better}). Median RMSE on the forecast points: "
            f"model {med_abm:.4f}, Bass {med_bass:.4f}; on the fitted points: model "
            f"{med_abm_in:.4f}, Bass {med_bass_in:.4f}. On average {band:.0%} of the "
            "held-out points lie inside the model's 90 % predictive band.",
            "",
            "## What the table shows",
            "",
            "- **Both fit the first halves alike** (the medians above): three fitted keys "
            "and a fitted launch against Bass's p, q, m and launch is comparable "
            "flexibility. The differences are in how each continues a curve.",
            "- **The model forecasts better where a series approaches its ceiling "
            "slowly.** A Bass curve fitted to a first half sets its ceiling m from the "
            "points it has and bends into it quickly; when the first half ends near the "
            "inflection (cable TV, the internet, home air conditioning, microcomputers) "
            "that ceiling is a guess, too high or too low. The model has no free ceiling: "
            "customers who have not cleared the bar yet keep adopting slowly (the "
            "logistic choice lets those just below it through, and social proof lifts "
            "more of them over it as neighbours adopt), so its curves keep rising at a "
            "slowing rate after the inflection, as most of these series did. This is "
            "where its lead comes from; the margin at the median is small.",
            "- **Neither forecasts what the first half does not show.** Vacuum cleaners "
            "rose again after 1945, stoves after 1950, dishwashers after 1965 (and their "
            "source changes to the Census in 1992): both models extend the first half's "
            f"plateau and miss{_miss(table)}; which of them misses less there is "
            "happenstance.",
            "- **Few, sparse points defeat the model first.** The flush toilet's first "
            "half is 6 points a decade apart: the posterior rests on a few heavily "
            "weighted particles (its report gives the effective sample size), and its "
            "forecast falls short where Bass's does not.",
            f"- **The model's band is too narrow out of sample**: {band:.0%} of held-out "
            "points inside a 90 % band. The band holds the parameters' uncertainty "
            "*within the scenario* and the randomness of a 2,000-customer market; it does "
            "not hold the error of the scenario's fixed choices (trust, costs, network) "
            "nor changes in the world after the fitted years. Read it as the model's "
            "uncertainty, not as a forecast interval.",
            "- **What it does not show**: that the psychology is right. The model's late "
            "creep comes from loss aversion and the logistic choice here, but other "
            "mechanisms (heterogeneous prices, incomes) would give such a tail too.",
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
