"""Backtest: forecasts from rolling origins, the model against every standard growth curve.

For every series of a file (the shipped ones by default) and each origin in ORIGINS
(the first 40, 55 and 70 % of its points fitted, the rest forecast), the model is
calibrated (default keys, scenario and observation model) and its posterior
predictive scored on the points after the origin, beside Bass, logistic and Gompertz
curves fitted to the same points (:mod:`.baselines`, bands by residual bootstrap).
Scores (:mod:`.scoring`): RMSE of the point forecast (the model's predictive median,
a curve's least-squares fit), CRPS of the forecast distribution, and the share of
held-out points inside the 50 % and 90 % bands. Each calibration is written to its
own folder (resumed or skipped when run again); the leaderboard goes to
``docs/validation.md`` between its backtest markers, with the command that
reproduces it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..provenance import derive_seed
from .api import calibrate
from .baselines import FAMILIES, bootstrap_draws, fit_curve, forecast_scores
from .data import MIN_POINTS, AdoptionData, load_adoption
from .problem import safe_name
from .result import Calibration

__all__ = [
    "ORIGINS",
    "backtest",
    "cutoffs",
    "leaderboard",
    "validation_markdown",
    "write_section",
]

ORIGINS = (0.40, 0.55, 0.70)
METHODS = ("model", *FAMILIES)
SCORES = ["rmse_out", "crps_out", "coverage50_out", "coverage90_out"]
COLUMNS = [
    "series",
    "origin",
    "fitted",
    "forecast",
    "method",
    "rmse_in",
    *SCORES,
    "seconds",
    "temperature",
]
#: The stream of a baseline's residual bootstrap (from the backtest's seed).
BASELINE_STREAM = 2**32 + 19


def cutoffs(n: int) -> list[int]:
    """Points fitted at each origin of a series of ``n`` points: round(share x n), at
    least MIN_POINTS, at most n - 1; origins that coincide are kept once."""
    fitted = [min(max(MIN_POINTS, round(share * n)), n - 1) for share in ORIGINS]
    return sorted(set(fitted))


def _span(times: np.ndarray) -> str:
    return f"{_year(times[0])}-{_year(times[-1])} ({times.size})"


def _year(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def case_rows(
    calibration: Calibration, origin: float, seed: int, seconds: float
) -> list[dict[str, Any]]:
    """One row per method for one series and origin: the model from its calibration,
    each baseline fitted to the same points."""
    problem = calibration.problem
    times, shares = problem.series.times, problem.series.shares
    fitted = np.arange(times.size) < problem.n_fit
    base = {
        "series": problem.series.name,
        "origin": origin,
        "fitted": _span(times[fitted]),
        "forecast": _span(times[~fitted]),
    }
    model = calibration.holdout_table().set_index("model").loc["abm"]
    rows = [base | {"method": "model", **{c: model[c] for c in ["rmse_in", *SCORES]}}]
    rows[0]["seconds"] = round(seconds, 1)
    # the last generation's temperature: above 1 the budget ran out before the exact
    # posterior, which is narrower (docs/calibration.md)
    last = calibration.generations["epsilon"]
    rows[0]["temperature"] = float(last.iloc[-1]) if problem.noisy and len(last) else np.nan
    for index, family in enumerate(FAMILIES):
        fit_times, fit_shares = times[fitted], np.clip(shares[fitted], 0.0, 1.0)
        draws = bootstrap_draws(
            family,
            fit_times,
            fit_shares,
            times,
            seed=derive_seed(seed, BASELINE_STREAM, problem.n_fit, index),
        )
        point = fit_curve(family, fit_times, fit_shares).predict(times)
        scores = forecast_scores(draws, None, point, shares, fitted)
        rows.append(
            base
            | {"method": family, **{c: scores[c] for c in ["rmse_in", *SCORES]}, "seconds": 0.0}
        )
    return rows


def backtest(
    data: str | Path | AdoptionData,
    names: Sequence[str] | None = None,
    *,
    budget: int = 10_000,
    population: int = 200,
    seed: int = 1,
    workers: int = 1,
    scheduler: Any = None,
    out: Path = Path("results/backtest"),
    progress: bool = False,
    on_case: Callable[[list[dict[str, Any]]], None] | None = None,
) -> pd.DataFrame:
    """Every series of ``data`` (or ``names``) at every origin: one row per method."""
    if not isinstance(data, AdoptionData):
        data = load_adoption(data)
    chosen = list(names) if names else data.names
    for name in chosen:
        data.get(name)  # an unknown name is an InputError before anything runs
    rows: list[dict[str, Any]] = []
    for name in chosen:
        series = data.get(name)
        for n_fit in cutoffs(len(series)):
            origin = n_fit / len(series)
            began = time.perf_counter()
            calibration = calibrate(
                data,
                series=name,
                holdout=len(series) - n_fit,
                budget=budget,
                population=population,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
                out=out / safe_name(name) / f"fit{n_fit:03d}",
                progress=progress,
                command=f"python run.py backtest {data.path} --series {name} "
                f"--budget {budget} --seed {seed}",
            )
            seconds = calibration.sampling_seconds or time.perf_counter() - began
            case = case_rows(calibration, round(origin, 3), seed, seconds)
            rows += case
            if on_case is not None:
                on_case(case)
    return pd.DataFrame(rows, columns=COLUMNS)


def leaderboard(table: pd.DataFrame) -> pd.DataFrame:
    """Per method: median RMSE and CRPS out of sample, mean coverage of the 50 % and
    90 % bands, and the cases (series x origin) where it has the lowest CRPS."""
    cases = table.pivot_table(index=["series", "origin"], columns="method", values="crps_out")
    best = cases.idxmin(axis=1).value_counts()
    rows = []
    for method in METHODS:
        part = table[table["method"] == method]
        if part.empty:
            continue
        rows.append(
            {
                "method": method,
                "median RMSE": part["rmse_out"].median(),
                "median CRPS": part["crps_out"].median(),
                "mean CRPS": part["crps_out"].mean(),
                "90 % band holds": part["coverage90_out"].mean(),
                "50 % band holds": part["coverage50_out"].mean(),
                "lowest CRPS (cases)": int(best.get(method, 0)),
            }
        )
    return pd.DataFrame(rows)


def _markdown_table(frame: pd.DataFrame, formats: dict[str, str]) -> list[str]:
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            spec = formats.get(str(column))
            if spec and isinstance(value, float | np.floating):
                cells.append("-" if not np.isfinite(value) else f"{value:{spec}}")
            else:
                cells.append(str(value))
        rows.append("| " + " | ".join(cells) + " |")
    return [head, rule, *rows]


def validation_markdown(
    table: pd.DataFrame,
    *,
    command: str,
    seconds: float,
    machine: str,
    budget: int,
    seed: int,
    out: str = "results/backtest",
) -> str:
    """The backtest section of docs/validation.md: leaderboard, per-origin and per-case
    tables and the sentences they support (every number from the tables); ``out`` is
    where the calibrations are, as the section names it."""
    board = leaderboard(table)
    by_method = board.set_index("method")
    model = by_method.loc["model"]
    baselines = by_method.drop(index="model")
    best_baseline = baselines["median CRPS"].idxmin()
    n_cases = table.groupby(["series", "origin"]).ngroups
    n_series = table["series"].nunique()
    held = table[table["method"] == "model"]
    wide = table.pivot_table(index=["series", "origin"], columns="method", values=SCORES)
    per_case = pd.DataFrame(
        {
            "series": [s for s, _ in wide.index],
            "origin": [o for _, o in wide.index],
            **{
                f"CRPS {m}": wide["crps_out"][m].to_numpy()
                for m in METHODS
                if m in wide["crps_out"]
            },
            **{
                f"RMSE {m}": wide["rmse_out"][m].to_numpy()
                for m in METHODS
                if m in wide["rmse_out"]
            },
            "model 90 % band holds": wide["coverage90_out"]["model"].to_numpy(),
        }
    )
    cases = held.set_index(["series", "origin"]).loc[wide.index]
    per_case.insert(2, "fitted (points)", cases["fitted"].to_numpy())
    per_case.insert(3, "forecast (points)", cases["forecast"].to_numpy())
    per_case["model's last temperature"] = cases["temperature"].to_numpy()
    # a case's origin is its share of points fitted after rounding: grouped by the
    # nominal origin it stands for (the nearest of ORIGINS)
    nominal = table["origin"].map(lambda o: min(ORIGINS, key=lambda x: abs(x - o)))
    per_origin = (
        table.assign(nominal=nominal)
        .groupby(["nominal", "method"])
        .agg(
            median_crps=("crps_out", "median"),
            coverage90=("coverage90_out", "mean"),
            cases=("crps_out", "size"),
        )
        .reset_index()
    )
    per_origin["nominal"] = per_origin["nominal"].map(lambda o: f"{o:.0%}")
    per_origin = per_origin.rename(
        columns={
            "nominal": "origin (share fitted)",
            "median_crps": "median CRPS",
            "coverage90": "90 % band holds",
        }
    )
    verdict = "at most" if model["median CRPS"] <= baselines["median CRPS"].min() else "above"
    lines = [
        "Every series is fitted on its first 40, 55 and 70 % of points (rounded, at least "
        f"{MIN_POINTS}) and forecast on the rest: {n_series} series, {n_cases} cases. The "
        "model: ABC-SMC on `scenarios/calibration.toml` with the default keys and the "
        "observation-error model (docs/calibration.md), its posterior predictive of the "
        "observed share. The baselines: Bass, logistic and Gompertz curves fitted by "
        "least squares with their time location free, their bands by residual bootstrap "
        "(200 refits). Scores on the forecast points, in shares: RMSE of the point "
        "forecast (the model's predictive median), CRPS of the forecast distribution "
        "(lower is better), and the share of points inside the 50 % and 90 % bands "
        "(should be 50 % and 90 %).",
        "",
        "Reproduce it (this section is written by the command):",
        "",
        "```bash",
        command,
        "```",
        "",
        f"At most {budget} simulations per calibration, seed {seed}. Sampling took "
        f"{seconds / 60:.0f} minutes in all ({machine}). Each calibration (report.md, "
        f"fit.png, holdout.csv ...) is in `{out}/SERIES/fitNNN/` (NNN: points "
        "fitted); run again, finished ones are not sampled again.",
        "",
        "### Leaderboard",
        "",
        *_markdown_table(
            board,
            {
                "median RMSE": ".4f",
                "median CRPS": ".4f",
                "mean CRPS": ".4f",
                "90 % band holds": ".0%",
                "50 % band holds": ".0%",
            },
        ),
        "",
        f"Held-out points inside the model's 90 % band: {model['90 % band holds']:.0%} over "
        f"the {n_cases} cases (inside its 50 % band: {model['50 % band holds']:.0%}). The "
        f"model's median CRPS, {model['median CRPS']:.4f}, is {verdict} the best "
        f"baseline's ({best_baseline}, {baselines.loc[best_baseline, 'median CRPS']:.4f}); "
        f"it has the lowest CRPS in {int(model['lowest CRPS (cases)'])} of the {n_cases} "
        "cases.",
        "",
        _temperature_sentence(held["temperature"]),
        "",
        "### By origin",
        "",
        *_markdown_table(per_origin, {"median CRPS": ".4f", "90 % band holds": ".0%"}),
        "",
        "### Every case",
        "",
        *_markdown_table(
            per_case,
            {c: ".4f" for c in per_case.columns if c.startswith(("CRPS", "RMSE"))}
            | {"model 90 % band holds": ".0%", "origin": ".2f", "model's last temperature": ".2f"},
        ),
        "",
    ]
    return "\n".join(lines)


def _temperature_sentence(temperatures: pd.Series) -> str:
    """How many of the model's calibrations reached temperature 1 (the exact posterior)."""
    known = temperatures.dropna()
    if known.empty:
        return ""
    exact = int((known <= 1.0 + 1e-9).sum())
    return (
        f"The model's last temperature was 1 (the exact posterior) in {exact} of "
        f"{known.size} calibrations (median {known.median():.2f}, largest {known.max():.2f}): "
        "in the others the budget ran out first, and their posterior, the likelihood "
        "raised to 1 / temperature, is wider than the exact one. The scores are of the "
        "calibrations as run at this budget."
    )


def timed(function: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame, float]:
    """The table and the wall time it took."""
    began = time.perf_counter()
    table = function()
    return table, time.perf_counter() - began


def write_section(path: Path, name: str, text: str) -> None:
    """Put ``text`` between the markers ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``
    of the markdown file ``path`` (appended with its markers if absent; the file made if
    missing), whole or not at all: each command owns its section of docs/validation.md."""
    from ..files import write_atomic

    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    old = path.read_text() if path.exists() else ""
    if start in old and end in old:
        before, rest = old.split(start, 1)
        _, after = rest.split(end, 1)
        new = before + block + after
    else:
        new = (old.rstrip() + "\n\n" if old.strip() else "") + block + "\n"
    write_atomic(path, new.encode())
