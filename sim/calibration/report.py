"""A calibration's files: posterior, summary, Bass fit, figures, report.md and manifest.

:func:`write_outputs` is the one place that writes them (the command line, the
Python API, the backtest and the calibration check call it). Every file is written
whole or not at all (:func:`sim.files.write_atomic`), and ``manifest.json`` last,
after the previous one was removed: a directory without a manifest holds an
unfinished calibration, never a mix of two.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..files import write_atomic, write_json
from ..provenance import manifest
from .abc import HISTORY
from .figures import pairs_figure, png
from .manifest import MANIFEST
from .predict import AT_BOUND, NOT_PINNED, PINNED, RIDGE, launch_bound
from .sampler import MAIN_STREAM

if TYPE_CHECKING:  # pragma: no cover
    from .result import Calibration

__all__ = [
    "LOW_ESS",
    "MANIFEST",
    "OUTPUTS",
    "report_markdown",
    "write_outputs",
]

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


def _csv(frame: pd.DataFrame, float_format: str = "%.10g") -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format=float_format)
    return buffer.getvalue().encode()


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
        # full precision: Calibration.load simulates the particles again from these
        "posterior.csv": _csv(calibration.posterior, "%.17g"),
        "summary.csv": _csv(calibration.summary),
        "bass.csv": _csv(pd.DataFrame([calibration.bass.to_dict()])),
        "fit.csv": _csv(calibration.fitted()),
        "generations.csv": _csv(calibration.generations),
    }
    if problem.holdout:
        files["holdout.csv"] = _csv(calibration.holdout_table())
    files["fit.png"] = png(calibration.plot())
    files["pairs.png"] = png(
        pairs_figure(
            calibration.posterior,
            problem.keys,
            calibration.correlation,
            title=f"{name}: posterior",
        ),
        footer=f"{len(calibration.posterior)} particles; seed {problem.seed}",
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
            "source": problem.series.source,
            "unit_note": problem.unit_note,
            "time_column": problem.time_unit,
            "noise_note": problem.noise_note,
            "points": len(problem.series),
            "fitted_points": problem.n_fit,
            "holdout": problem.holdout,
        },
        scenario={
            "file": problem.scenario.source,
            "name": problem.scenario.name,
            "parameters": problem.scenario.params,
            "firms": problem.scenario.firms,
            "tables": problem.scenario.to_dict(),
        },
        fit={
            k.key: {"low": k.low, "high": k.high, "integer": k.integer, "prior": k.scale}
            for k in problem.keys
        },
        seeds={
            "seed": problem.seed,
            "rule": "candidate i of generation t (t = -1: the prior sample) seeds NumPy's "
            "global generator from derive_seed(seed, t + 1, i); pyabc draws the proposal "
            "from it, then the model's seed (posterior.csv, column seed), from which a "
            "particle's launch and noise draws derive; before generation t the calling "
            f"process is seeded from derive_seed(seed, t, {MAIN_STREAM})",
        },
        abc={
            "budget": settings.budget,
            "population": settings.population,
            "max_generations": settings.max_generations,
            "wave": settings.wave,
            "prior_share": settings.prior_share,
            "acceptance": "stochastic (noise density, tempered)"
            if problem.noisy
            else "RMSE below epsilon",
            "generations": len(calibration.generations),
            "effective_sample_size": round(calibration.ess, 1),
            "simulations": calibration.spent,
            "dropped": calibration.dropped,
            "pooled_generations": calibration.pooled,
            "simulations_run_now": calibration.simulations_run,
            "next_generation_cost": calibration.next_cost,
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


def _fmt(value: Any, digits: str = ".4g") -> str:
    if isinstance(value, float | np.floating):
        return "-" if not np.isfinite(value) else f"{value:{digits}}"
    return str(value)


def _table(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> str:
    """A markdown table of ``frame``: numbers to 4 significant digits unless
    ``formats`` gives a column another format (e.g. '.1f' for years)."""
    formats = formats or {}
    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = [
        "| "
        + " | ".join(
            _fmt(v, formats.get(str(c), ".4g")) for c, v in zip(frame.columns, row, strict=True)
        )
        + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *rows])


def _listing(part: pd.DataFrame) -> str:
    return ", ".join(f"`{r.key}` ({_fmt(r.ratio, '.2f')})" for r in part.itertuples())


def verdict_sentences(ident: pd.DataFrame) -> list[str]:
    """The identification table in words: pinned down, partly, not, against a bound
    (a hard limit said to be one), on a ridge."""
    out = []
    pinned = ident[ident["verdict"] == "pinned down"]
    partly = ident[ident["verdict"] == "partly"]
    loose = ident[ident["verdict"] == "not pinned down"]
    if not pinned.empty:
        out.append(f"The data pin down {_listing(pinned)}.")
    if not partly.empty:
        out.append(f"They narrow {_listing(partly)} only partly.")
    if not loose.empty:
        whose = "their posteriors are" if len(loose) > 1 else "its posterior is"
        out.append(
            f"They do not pin down {_listing(loose)}: {whose} nearly as wide as the prior, "
            "so the values there come from the prior range, not from the data."
        )
    for row in ident[ident["bound"] != ""].itertuples():
        sentence = (
            f"`{row.key}` is pressed against its {row.bound} prior bound: the data push it "
            "there and the range cuts its posterior off, so its interval is narrow because "
            "of the prior, not the data."
        )
        if row.hard_limit:
            sentence += (
                f" That bound is the key's hard limit ({row.hard_limit}): no wider range is "
                "possible; the scenario cannot follow the data there with this key alone."
            )
        else:
            sentence += " A wider range would move it."
        out.append(sentence)
    for row in ident[ident["ridge"] != ""].itertuples():
        if row.bound:
            continue
        out.append(
            f"`{row.key}` lies on a ridge with {row.ridge}: the data fix a combination of "
            "them, not each, however narrow its own interval looks."
        )
    return out


def report_markdown(calibration: Calibration, *, command: str | None = None) -> str:
    """report.md: data, priors, posterior, identification, correlations, fit, Bass, run."""
    problem = calibration.problem
    series = problem.series
    ident = calibration.identification
    posterior_table = calibration.summary.merge(
        ident[["key", "ratio", "verdict", "bound", "ridge"]], on="key"
    ).rename(
        columns={
            "ratio": "90 % width / prior's",
            "bound": "against a prior bound",
            "ridge": "ridge (correlation, 0.8 or more in size)",
        }
    )
    launch = calibration.launch_quantiles()
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
    corr = calibration.correlation.copy()
    corr.insert(0, "", corr.index)
    holdout = calibration.holdout_table()
    fit_rows = []
    for label, model in (("model (posterior predictive)", "abm"), ("Bass (least squares)", "bass")):
        h = holdout.set_index("model").loc[model]
        row = {
            "model": label,
            "RMSE, fitted": h["rmse_in"],
            "50 % band holds, fitted": h["coverage50_in"],
            "90 % band holds, fitted": h["coverage90_in"],
        }
        if problem.holdout:
            row |= {
                "RMSE, held out": h["rmse_out"],
                "CRPS, held out": h["crps_out"],
                "50 % band holds, held out": h["coverage50_out"],
                "90 % band holds, held out": h["coverage90_out"],
            }
        fit_rows.append(row)
    bass = calibration.bass
    launch_identified = "p" not in bass.at_bounds
    bass_table = pd.DataFrame(
        [
            {
                "p": bass.p,
                "q": bass.q,
                "m": bass.m,
                "launch": bass.launch if launch_identified else "not identified",
                "RMSE": bass.rmse,
                "at bounds": ", ".join(bass.at_bounds) or "none",
            }
        ]
    )
    span = f"{_time(series.times[0])}-{_time(series.times[-1])}"
    fitted_span = f"{_time(problem.fit_times[0])}-{_time(problem.fit_times[-1])}"
    held = (
        f"; the last {problem.holdout} ({_time(series.times[problem.n_fit])}-"
        f"{_time(series.times[-1])}) held out and forecast"
        if problem.holdout
        else ""
    )
    low_ess = calibration.ess < LOW_ESS * len(calibration.posterior)
    lines = [
        f"# Calibration: {series.name}",
        "",
        f"Command: `{command}`" if command else "",
        "",
        "## Data",
        "",
        f"- File: `{shown_path(problem.data_path) or '(given in Python)'}` (sha256 "
        f"`{problem.data_sha256[:16]}`), series `{series.name}`"
        + (f"; {problem.unit_note}" if problem.unit_note else "")
        + (f"; source: {series.source}" if series.source else ""),
        f"- {len(series)} points, {span}; fitted: the first {problem.n_fit} ({fitted_span}){held}.",
        f"- Scenario: `{shown_path(problem.scenario.source)}`; one step = one unit of the "
        f"time column (`{problem.time_unit}`).",
        f"- {problem.noise_note[0].upper() + problem.noise_note[1:]}."
        if problem.noise_note
        else "",
        "",
        "## Priors",
        "",
        "Uniform on each range, or uniform in the logarithm (log-uniform):",
        "",
        _table(
            pd.DataFrame(
                [
                    {"key": k.key, "low": k.low, "high": k.high, "prior": k.scale}
                    for k in problem.keys
                ]
            )
        ),
        "",
        "## Posterior",
        "",
        f"{len(calibration.posterior)} weighted particles (`posterior.csv`): "
        + (
            f"the {calibration.pooled} generations at temperature 1 pooled, each weighted by "
            "its effective sample size (each is a weighted sample of the same exact "
            "posterior)"
            if calibration.pooled > 1
            else "the last generation"
        )
        + f", worth {_fmt(calibration.ess)} equally weighted ones (the effective sample "
        "size, 1 / sum of squared weights); quantiles are weighted."
        + (
            f" **Few effective particles** (below {LOW_ESS:.0%} of the population): a "
            "handful of particles carry most of the weight, so the quantiles and the "
            "band are rough; a larger --population or --budget smooths them."
            if low_ess
            else ""
        ),
        "",
        _table(posterior_table),
        "",
        f"Rule: a key is *pinned down* when its posterior 90 % interval (q05 to q95) is "
        f"narrower than {PINNED:g} of its prior's (0.9 x (high - low) for a uniform prior; "
        "the same in the logarithm for a log-uniform one), "
        f"*not pinned down* from {NOT_PINNED:g} up, *partly* in between; but never pinned "
        f"down when a q05 or q95 lies within {AT_BOUND:.1%} of the range from a prior bound "
        f"(*against a bound*) or when its weighted correlation with another key or the "
        f"launch reaches {RIDGE:g} in size (*on a ridge*). " + " ".join(verdict_sentences(ident)),
        "",
        "Weighted correlations between the fitted keys and the launch:",
        "",
        _table(corr, {c: "+.2f" for c in corr.columns}),
        "",
        "The launch is not a sampled key: each simulated curve's likelihood is integrated "
        "over launch times under the launch's prior (uniform: the first observation, "
        f"{_time(series.times[0])}, 0 to {problem.lead:g} periods after it), and each "
        "particle's launch drawn from it (docs/calibration.md). Its posterior:",
        "",
        _table(launch_table, {"q05": ".1f", "q50": ".1f", "q95": ".1f"}),
        _launch_sentence(launch, series.times[0], problem.lead),
        "",
        "## Fit",
        "",
        "![fit](fit.png)",
        "",
        "Bands are of the *observed* share: the simulated curve plus the observation noise "
        "(for a held-out point, continued from the last fitted point's residual). "
        "Bass's bands are a residual bootstrap of its fit. *Holds*: the share of points "
        "inside the band.",
        "",
        _table(
            pd.DataFrame(fit_rows),
            {c: ".3f" for c in fit_rows[0] if "RMSE" in c or "CRPS" in c}
            | {c: ".0%" for c in fit_rows[0] if "holds" in c},
        ),
        "",
        "Bass (1969) with a fitted launch (`bass.csv`), on the same points"
        + (
            "; with p at its lower bound the series looks logistic and its launch is not "
            "identified:"
            if not launch_identified
            else ":"
        ),
        "",
        _table(bass_table, {"launch": ".1f"}),
        "",
        "![pairs](pairs.png)",
        "",
        "## ABC-SMC run",
        "",
        _table(calibration.generations),
        "",
        f"{calibration.spent} simulations in {len(calibration.generations)} generations, the "
        f"prior sample of {calibration.settings.population} included"
        + (
            f", and {calibration.dropped} of a generation the budget cut off (dropped)"
            if calibration.dropped
            else ""
        )
        + f"; stopped: {_stopped(calibration)}. "
        + (
            "Epsilon is the temperature of the acceptance: a simulated curve is accepted "
            "with probability (density of the data around it / c)^(1/T); at 1 the "
            "population samples the exact posterior of model plus noise."
            + (
                ""
                if float(calibration.generations["epsilon"].iloc[-1]) <= 1.0
                else " **The last temperature is above 1**: the posterior is wider than the "
                "exact one. A larger --budget lets it go on as long as each generation "
                "can finish: a generation dropped above had too low an acceptance to "
                "finish in what was left."
            )
            if problem.noisy
            else "Epsilon is the distance (RMSE, shares) a particle had to beat: the median "
            "of the previous generation's."
        ),
        "",
        "## Reading it",
        "",
        "The posterior says which parameter values make *this scenario* reproduce the "
        "curve, given noise of the fitted size around it; the band holds their spread, "
        f"the randomness of a market of {problem.scenario.params['n_customers']:,} "
        "customers and that noise. It cannot say that the scenario's fixed keys are right, "
        "nor separate keys that act on the curve together (the ridges above). See "
        "docs/calibration.md.",
        "",
    ]
    return "\n".join(line for line in lines if line is not None)


def _launch_sentence(launch: np.ndarray, first: float, lead: float) -> str:
    """A sentence when the launch's posterior presses against an end of its prior."""
    side = launch_bound(float(launch[0]), float(launch[2]), first, lead)
    if "earliest" in side:
        return (
            "\nThe launch presses against the earliest the prior allows: the data want an "
            "earlier launch (a longer --lead would move it), or a slower start than the "
            "scenario makes."
        )
    if "latest" in side:
        return (
            "\nThe launch presses against the first observation: the data want a launch "
            "after it (if the first rows precede the launch, leave them out)."
        )
    return ""


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
    settings = calibration.settings
    if reason == "budget" and calibration.dropped:
        return f"the budget of {settings.budget} simulations ran out within a generation"
    if reason == "budget":
        left = settings.budget - calibration.spent
        return (
            f"the budget of {settings.budget} simulations: {left} were left, and the next "
            f"generation would need about {calibration.next_cost}"
        )
    if reason == "generations":
        return f"{settings.max_generations} generations were done"
    if reason == "converged":
        return (
            "the generations at temperature 1 were worth a population of independent "
            "particles (their effective sample sizes summed)"
        )
    return reason or "unknown"


def _time(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
