"""A calibration's files: posterior, summary, Bass fit, figures, report.md and manifest.

Every file is written whole or not at all (:func:`sim.provenance.write_atomic`), and
``manifest.json`` last, after the previous one was removed: a directory without a
manifest holds an unfinished calibration, never a mix of two.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..provenance import manifest, write_atomic, write_json
from .abc import HISTORY
from .figures import plot_fit, plot_pairs
from .predict import AT_BOUND, NOT_PINNED, PINNED, bands
from .sampler import MAIN_STREAM

if TYPE_CHECKING:  # pragma: no cover
    from .api import Calibration

__all__ = ["LOW_ESS", "MANIFEST", "OUTPUTS", "fit_band", "report_markdown", "write_outputs"]

MANIFEST = "manifest.json"
#: An effective sample size below this share of the population is said in the report.
LOW_ESS = 0.2
OUTPUTS = (
    "posterior.csv",
    "summary.csv",
    "bass.csv",
    "fit.csv",
    "generations.csv",
    "fit.png",
    "pairs.png",
    "report.md",
    MANIFEST,
)  # and holdout.csv with --holdout


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.10g")
    return buffer.getvalue().encode()


def fit_band(calibration: Calibration) -> pd.DataFrame:
    """Posterior predictive band on every period from the earliest likely launch (the
    launch's 5 % quantile) to the last observation, for the figure."""
    from .predict import weighted_quantiles

    times = calibration.problem.series.times
    launch = weighted_quantiles(
        calibration.posterior["launch"].to_numpy(),
        calibration.posterior["weight"].to_numpy(),
        [0.05],
    )[0]
    start = min(np.floor(launch), times[0])
    grid = np.arange(start, times[-1] + 1e-9, 1.0)
    return bands(
        calibration.curves,
        calibration.posterior["launch"].to_numpy(),
        calibration.posterior["weight"].to_numpy(),
        grid,
    )


def write_outputs(
    calibration: Calibration,
    directory: Path,
    *,
    command: str | None = None,
    workers: int = 1,
    scheduler: Any = None,
) -> list[str]:
    """Write every output file to ``directory``; returns their names."""
    (directory / MANIFEST).unlink(missing_ok=True)
    problem = calibration.problem
    name = problem.series.name
    files: dict[str, bytes] = {
        "posterior.csv": _csv(calibration.posterior),
        "summary.csv": _csv(calibration.summary),
        "bass.csv": _csv(pd.DataFrame([calibration.bass.to_dict()])),
        "fit.csv": _csv(calibration.fitted()),
        "generations.csv": _csv(calibration.generations),
    }
    if problem.holdout:
        files["holdout.csv"] = _csv(calibration.holdout_table())
    band = fit_band(calibration)
    bass_times = band["time"].to_numpy()
    footer = (
        f"{len(calibration.posterior)} particles of ABC-SMC generation "
        f"{int(calibration.generations['t'].iloc[-1])}; seed {problem.seed}"
    )
    files["fit.png"] = plot_fit(
        calibration.fitted(),
        band,
        pd.DataFrame({"time": bass_times, "share": calibration.bass.predict(bass_times)}),
        title=f"{name}: data, model and Bass",
        footer=footer,
    )
    files["pairs.png"] = plot_pairs(
        calibration.posterior, problem.keys, title=f"{name}: posterior", footer=footer
    )
    files["report.md"] = report_markdown(calibration, command=command).encode()
    for file, content in files.items():
        write_atomic(directory / file, content)
    write_json(
        directory / MANIFEST,
        manifest_record(calibration, command=command, workers=workers, scheduler=scheduler),
    )
    return [*files, MANIFEST]


def manifest_record(
    calibration: Calibration, *, command: str | None, workers: int, scheduler: Any
) -> dict[str, Any]:
    """Where the calibration comes from: data, seeds, settings, versions, command."""
    problem = calibration.problem
    settings = calibration.settings
    fingerprint = problem.fingerprint(settings)
    return manifest(
        kind="calibration",
        data={
            "file": problem.data_path,
            "sha256": problem.data_sha256,
            "series": problem.series.name,
            "unit_note": problem.unit_note,
            "points": len(problem.series),
            "fitted_points": problem.n_fit,
            "holdout": problem.holdout,
        },
        scenario={
            "file": problem.scenario.source,
            "name": problem.scenario.name,
            "parameters": problem.scenario.params,
            "firms": problem.scenario.firms,
        },
        fit={k.key: {"low": k.low, "high": k.high, "integer": k.integer} for k in problem.keys},
        seeds={
            "seed": problem.seed,
            "rule": "candidate i of generation t (t = -1: the prior sample) seeds NumPy's "
            "global generator from derive_seed(seed, t + 1, i); pyabc draws the proposal "
            "from it, then the model's seed (posterior.csv, column seed); after generation "
            f"t the calling process is seeded from derive_seed(seed, t + 1, {MAIN_STREAM})",
        },
        abc={
            "budget": settings.budget,
            "population": settings.population,
            "max_generations": settings.max_generations,
            "batch": settings.batch,
            "generations": len(calibration.generations),
            "effective_sample_size": round(calibration.ess, 1),
            "simulations": int(calibration.generations["simulations"].sum()),
            "simulations_run_now": calibration.simulations_run,
            "resumed_from_generation": calibration.resumed_from,
            "stopped": calibration.stopped,
            "history": HISTORY,
            "workers": workers,
            "scheduler": str(scheduler) if scheduler is not None else None,
            "seconds": round(calibration.seconds, 2),
            "sampling_seconds_all_runs": round(calibration.sampling_seconds, 2),
        },
        fingerprint=fingerprint,
        command=command,
        pyabc=fingerprint["versions"]["pyabc"],
    )


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _table(frame: pd.DataFrame) -> str:
    """A markdown table of ``frame`` (numbers to 4 significant digits)."""
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = [
        "| "
        + " | ".join(_fmt(v) if isinstance(v, float | np.floating) else str(v) for v in row)
        + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def report_markdown(calibration: Calibration, *, command: str | None = None) -> str:
    """report.md: data, priors, posterior, which keys the data pin down, fit, Bass, run."""
    problem = calibration.problem
    series = problem.series
    ident = calibration.identification
    summary = calibration.summary
    posterior_table = summary.merge(ident[["key", "ratio", "verdict", "bound"]], on="key")
    posterior_table = posterior_table.rename(
        columns={"ratio": "90 % width / prior's", "bound": "against a prior bound"}
    )
    weights = calibration.posterior["weight"].to_numpy()
    from .predict import weighted_quantiles

    launch = weighted_quantiles(
        calibration.posterior["launch"].to_numpy(), weights, (0.05, 0.5, 0.95)
    )
    launch_table = pd.DataFrame(
        [
            {
                "quantity": "launch (time of step 0)",
                "q05": launch[0],
                "q50": launch[1],
                "q95": launch[2],
            }
        ]
    )
    fit_rows = [
        {
            "model": "model (posterior predictive median)",
            "RMSE, fitted points": calibration.rmse(),
        },
        {"model": "Bass (least squares)", "RMSE, fitted points": calibration.bass.rmse},
    ]
    holdout = calibration.holdout_table()
    if not holdout.empty:
        for row, (_, h) in zip(fit_rows, holdout.iterrows(), strict=True):
            row["RMSE, held-out points"] = h["rmse_out"]
    fit_table = pd.DataFrame(fit_rows)
    bass = calibration.bass
    bass_table = pd.DataFrame(
        [
            {
                "p": bass.p,
                "q": bass.q,
                "m": bass.m,
                "launch": bass.launch,
                "RMSE": bass.rmse,
                "at bounds": ", ".join(bass.at_bounds) or "none",
            }
        ]
    )
    generations = calibration.generations.copy()
    generations["acceptance_rate"] = generations["acceptance_rate"].astype(float)
    pinned = ident[ident["verdict"] == "pinned down"]
    loose = ident[ident["verdict"] == "not pinned down"]
    partly = ident[ident["verdict"] == "partly"]

    def listing(part: pd.DataFrame) -> str:
        return ", ".join(f"`{r.key}` ({_fmt(r.ratio)})" for r in part.itertuples())

    verdicts = []
    if not pinned.empty:
        verdicts.append(f"The data pin down {listing(pinned)}.")
    if not partly.empty:
        verdicts.append(f"They narrow {listing(partly)} only partly.")
    if not loose.empty:
        whose = "their posteriors are" if len(loose) > 1 else "its posterior is"
        verdicts.append(
            f"They do not pin down {listing(loose)}: {whose} nearly as wide as the prior, "
            "so the values there come from the prior range, not from the data."
        )
    pressed = ident[ident["bound"] != ""]
    if not pressed.empty:
        keys = ", ".join(f"`{r.key}` ({r.bound})" for r in pressed.itertuples())
        many = len(pressed) > 1
        verdicts.append(
            f"The posterior{'s' if many else ''} of {keys} "
            f"{'are' if many else 'is'} pressed against a prior bound: the data push "
            f"{'them' if many else 'it'} there and the range cuts "
            f"{'them' if many else 'it'} off, so such an interval is narrow because of the "
            "prior, and a wider range (where the key allows one) would move it."
        )
    span = f"{_time(series.times[0])}-{_time(series.times[-1])}"
    fitted_span = f"{_time(problem.fit_times[0])}-{_time(problem.fit_times[-1])}"
    held = (
        f"; the last {problem.holdout} ({_time(series.times[problem.n_fit])}-"
        f"{_time(series.times[-1])}) held out and forecast"
        if problem.holdout
        else ""
    )
    total = int(calibration.generations["simulations"].sum())
    lines = [
        f"# Calibration: {series.name}",
        "",
        f"Command: `{command}`" if command else "",
        "",
        "## Data",
        "",
        f"- File: `{shown_path(problem.data_path) or '(given in Python)'}` (sha256 "
        f"`{problem.data_sha256[:16]}`), series `{series.name}`"
        + (f"; {problem.unit_note}" if problem.unit_note else ""),
        f"- {len(series)} points, {span}; fitted: the first {problem.n_fit} ({fitted_span}){held}.",
        f"- Scenario: `{shown_path(problem.scenario.source)}`; one step = one unit of the "
        "time column.",
        "",
        "## Priors",
        "",
        "Uniform on each range:",
        "",
        _table(pd.DataFrame([{"key": k.key, "low": k.low, "high": k.high} for k in problem.keys])),
        "",
        "## Posterior",
        "",
        f"{len(calibration.posterior)} weighted particles of the last generation "
        f"(`posterior.csv`), worth {_fmt(calibration.ess)} equally weighted ones (the "
        "effective sample size, 1 / sum of squared weights: `ess` in the last row of the "
        "run's table below); quantiles are weighted."
        + (
            f" **Few effective particles** (below {LOW_ESS:.0%} of the population): a "
            "handful of particles carry most of the weight, typically where the posterior "
            "presses against a prior bound, so its quantiles and the predictive band are "
            "rough; a larger --population or --budget smooths them."
            if calibration.ess < LOW_ESS * len(calibration.posterior)
            else ""
        ),
        "",
        _table(posterior_table),
        "",
        f"Rule: a key is *pinned down* when its posterior 90 % interval (q05 to q95) is "
        f"narrower than {PINNED:g} of its prior's (0.9 x (high - low) for a uniform prior), "
        f"*not pinned down* from {NOT_PINNED:g} up, *partly* in between; a q05 or q95 "
        f"within {AT_BOUND:.1%} of the range from a prior bound is *against* it. "
        + " ".join(verdicts),
        "",
        "The launch is not sampled: each simulated curve is placed at the launch that fits "
        "the points best (docs/calibration.md). Its posterior:",
        "",
        _table(launch_table),
        "",
        "## Fit",
        "",
        "![fit](fit.png)",
        "",
        _table(fit_table),
        "",
        "Bass (1969) with a fitted launch (`bass.csv`), on the same points:",
        "",
        _table(bass_table),
        "",
        "![pairs](pairs.png)",
        "",
        "## ABC-SMC run",
        "",
        _table(generations),
        "",
        f"{total} simulations in {len(generations)} generations (a prior sample of "
        f"{calibration.settings.population} before them); stopped: {_stopped(calibration)}. "
        "Epsilon is the distance (RMSE, shares) a particle had to beat: the median of "
        "the previous generation's.",
        "",
        "## Reading it",
        "",
        "The posterior says which parameter values make *this scenario* reproduce the "
        "curve as closely as the last epsilon; the band shows their spread and the "
        "randomness of a market of "
        f"{problem.scenario.params['n_customers']:,} customers, not measurement error. "
        "It cannot say that the scenario's fixed keys are right, nor separate keys that "
        "act on the curve together. See docs/calibration.md.",
        "",
    ]
    return "\n".join(line for line in lines if line is not None)


def shown_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    if not path:
        return path
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return path


def _stopped(calibration: Calibration) -> str:
    reason = calibration.stopped
    if reason == "budget":
        return f"the budget of {calibration.settings.budget} simulations was spent"
    if reason == "generations":
        return f"{calibration.settings.max_generations} generations were done"
    return reason or "unknown"


def _time(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest of a finished calibration in ``directory``, or None."""
    path = directory / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
