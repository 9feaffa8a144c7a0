"""Simulation-based calibration of the calibration: ``run.py calibrate-check``.

Talts et al. (2018): draw parameters from the prior, simulate a dataset from each,
calibrate it, and look where the true value falls in its posterior. If the posterior
is right, the true value's posterior rank is uniform, its 90 % interval holds the
truth in 90 % of datasets and its 50 % interval in 50 %. Too narrow intervals (an
overconfident posterior) hold it less often, too wide ones more.

A dataset here is what the calibrated model says data are, its launch included: the
keys drawn from their priors, the first observation from the launch's prior (0 to LEAD
periods after the launch), the scenario simulated at the drawn keys with its own seed
and read at POINTS + HOLDOUT periods from there, plus observation noise drawn at the
drawn sd and correlation, not clipped. The data come from exactly the model being
fitted, so the check tests the calibration's computation, not the model's realism (the
backtest does that). The last HOLDOUT points are held
out: the share of them inside the 90 % predictive band is checked the same way, which
tests the bands and not only the keys.

Each dataset's result is stored in ``OUT/datasets/`` as it finishes, with the check's
fingerprint: run again, the check resumes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import write_atomic
from ..provenance import derive_seed, digest, package_versions
from ..scenario import Scenario, load_scenario
from .abc import AbcSettings
from .api import calibrate
from .data import AdoptionSeries
from .observation import fresh_noise
from .predict import weighted_quantiles
from .priors import (
    AUTOCORRELATION,
    DEFAULT_FIT,
    NOISE,
    OBSERVATION_PRIORS,
    Bounds,
    check_fit,
    is_observation,
)
from .problem import DEFAULT_SCENARIO
from .simulate import LEAD, CurveSimulator, interpolate

__all__ = [
    "CheckSettings",
    "calibration_check",
    "check_fit_keys",
    "check_markdown",
    "coverage_table",
    "passes",
    "write_check",
]

#: Fitted and held-out periods of a dataset.
POINTS, HOLDOUT = 25, 5
#: The pass band of a 90 % interval's empirical coverage (the issue's).
PASS = (0.80, 0.97)
PREDICTION = "held-out points (90 % band)"


@dataclass(frozen=True)
class CheckSettings:
    """How many datasets, and the calibration each gets."""

    datasets: int = 50
    budget: int = 4000
    population: int = 100
    seed: int = 1

    def check(self) -> None:
        if self.datasets < 2:
            raise InputError("--datasets", self.datasets, "an integer >= 2")


def check_fit_keys(fit: Mapping[str, Bounds] | None, noise: str) -> dict[str, Bounds]:
    """The fitted keys: ``fit`` (default: the calibration's defaults) plus the
    observation model's, as ``noise`` (iid, ar1, off) says, unless ``fit`` names them."""
    if noise not in ("iid", "ar1", "off"):
        raise InputError("--noise", noise, "one of iid, ar1, off (the check needs the model fixed)")
    ranges = dict(DEFAULT_FIT if fit is None else fit)
    if not any(is_observation(k) for k in ranges) and noise != "off":
        ranges[NOISE] = OBSERVATION_PRIORS[NOISE]
        if noise == "ar1":
            ranges[AUTOCORRELATION] = OBSERVATION_PRIORS[AUTOCORRELATION]
    return ranges


def synthetic_series(
    scenario: Scenario, ranges: Mapping[str, Bounds], seed: int, index: int
) -> tuple[AdoptionSeries, dict[str, float]]:
    """Dataset ``index``: keys drawn from their priors, the first observation
    drawn from the launch's prior (0 to LEAD periods after the launch), the model's
    curve read there and at the next periods, plus noise at the drawn sd and
    correlation (if the noise is fitted)."""
    rng = np.random.default_rng(derive_seed(seed, index, 1))
    fitted = check_fit(scenario, ranges)
    truth = {k.key: k.draw(rng) for k in fitted}
    keys = tuple(k for k in fitted if not is_observation(k.key))
    offset = float(rng.uniform(0.0, LEAD))
    simulator = CurveSimulator(
        scenario.params,
        tuple(scenario.firms),
        keys,
        steps=int(np.ceil(LEAD + POINTS + HOLDOUT)),
        strategies=scenario.strategies,
    )
    curve = simulator.curve({k.key: truth[k.key] for k in keys}, derive_seed(seed, index, 2))
    times = 2000.0 + np.arange(POINTS + HOLDOUT)
    shares = interpolate(curve, offset + np.arange(POINTS + HOLDOUT))
    if NOISE in truth:
        rho = truth.get(AUTOCORRELATION, 0.0)
        shares = shares + fresh_noise(times, truth[NOISE], rho, rng, 1)[0]
    truth["launch"] = 2000.0 - offset
    return AdoptionSeries(f"dataset{index:03d}", times, shares), truth


def _one(
    scenario: Scenario,
    ranges: dict[str, Bounds],
    fitted: dict[str, Bounds],
    settings: CheckSettings,
    index: int,
    workers: int,
    scheduler: Any,
) -> dict[str, Any]:
    """Calibrate dataset ``index``; the truth's place in each key's posterior and the
    held-out points' coverage."""
    series, truth = synthetic_series(scenario, ranges, settings.seed, index)
    calibration = calibrate(
        series,
        scenario,
        fitted,
        holdout=HOLDOUT,
        noise="off" if not any(is_observation(k) for k in fitted) else "auto",
        budget=settings.budget,
        population=settings.population,
        seed=int(derive_seed(settings.seed, index, 3)),
        workers=workers,
        scheduler=scheduler,
    )
    weights = calibration.posterior["weight"].to_numpy()
    keys = []
    for key in [*fitted, "launch"]:
        if key not in truth:
            continue
        values = calibration.posterior[key].to_numpy()
        q05, q25, q75, q95 = weighted_quantiles(values, weights, (0.05, 0.25, 0.75, 0.95))
        keys.append(
            {
                "key": key,
                "truth": truth[key],
                "rank": float(np.sum(weights[values < truth[key]]) / weights.sum()),
                "q05": float(q05),
                "q25": float(q25),
                "q75": float(q75),
                "q95": float(q95),
            }
        )
    shares = calibration.coverage()
    return {
        "dataset": index,
        "keys": keys,
        "coverage90_out": shares["coverage90_out"],
        "coverage50_out": shares["coverage50_out"],
        "temperature": float(calibration.generations["epsilon"].iloc[-1]),
        "ess": calibration.ess,
        "simulations": calibration.spent,
        "seconds": calibration.sampling_seconds,
    }


def calibration_check(
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    fit: Mapping[str, Bounds] | None = None,
    *,
    noise: str = "ar1",
    fit_noise: str | None = None,
    settings: CheckSettings = CheckSettings(),
    workers: int = 1,
    scheduler: Any = None,
    out: Path | None = None,
    on_dataset: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """Run the check: (ranks, coverage, per-dataset records).

    ``noise`` is the observation model of the data and of the fit; ``fit_noise``
    fits another (``off``: the broken calibration without the noise term, which the
    check must catch). With ``out`` each dataset's record is kept there and reused.
    """
    settings.check()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    ranges = check_fit_keys(fit, noise)
    fitted = ranges if fit_noise is None else check_fit_keys(fit, fit_noise)
    check_fit(scenario, ranges)  # one-line errors before anything runs
    stamp = {
        "scenario": digest({"params": scenario.params, "firms": scenario.firms}),
        "data": ranges,
        "fit": fitted,
        "settings": asdict(settings),
        "shape": [POINTS, HOLDOUT, LEAD],
        "prior_share": AbcSettings.prior_share,
        "version": package_versions().get("innovation-adoption", ""),
    }
    stamp = json.loads(json.dumps(stamp))
    records = []
    for index in range(settings.datasets):
        path = out / "datasets" / f"{index:03d}.json" if out is not None else None
        record = _stored(path, stamp)
        if record is None:
            record = _one(scenario, ranges, fitted, settings, index, workers, scheduler)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, json.dumps({"check": stamp, **record}, indent=1).encode())
        records.append(record)
        if on_dataset is not None:
            on_dataset(record)
    ranks = pd.DataFrame(
        [{"dataset": r["dataset"], **k} for r in records for k in r["keys"]],
        columns=["dataset", "key", "truth", "rank", "q05", "q25", "q75", "q95"],
    )
    return ranks, coverage_table(ranks, records), records


def _stored(path: Path | None, stamp: dict[str, Any]) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.pop("check", None) != stamp:
        return None
    return record


def coverage_table(ranks: pd.DataFrame, records: list[dict[str, Any]]) -> pd.DataFrame:
    """key, nominal, empirical, n: how often each key's 50 % and 90 % intervals hold
    the truth, and the mean share of held-out points inside the 90 % and 50 % bands."""
    rows = []
    for key, part in ranks.groupby("key", sort=False):
        inside90 = (part["q05"] <= part["truth"]) & (part["truth"] <= part["q95"])
        inside50 = (part["q25"] <= part["truth"]) & (part["truth"] <= part["q75"])
        rows.append({"key": key, "nominal": 0.5, "empirical": inside50.mean(), "n": len(part)})
        rows.append({"key": key, "nominal": 0.9, "empirical": inside90.mean(), "n": len(part)})
    for nominal, column in ((0.5, "coverage50_out"), (0.9, "coverage90_out")):
        values = [r[column] for r in records]
        rows.append(
            {
                "key": PREDICTION.replace("90 %", f"{nominal * 100:.0f} %"),
                "nominal": nominal,
                "empirical": float(np.mean(values)),
                "n": len(values),
            }
        )
    return pd.DataFrame(rows, columns=["key", "nominal", "empirical", "n"])


def passes(coverage: pd.DataFrame) -> pd.Series:
    """Per key: whether its 90 % interval's coverage lies in the PASS band."""
    ninety = coverage[coverage["nominal"] == 0.9].set_index("key")["empirical"]
    return (ninety >= PASS[0]) & (ninety <= PASS[1])


def check_markdown(
    coverage: pd.DataFrame,
    records: list[dict[str, Any]],
    *,
    command: str,
    settings: CheckSettings,
    machine: str,
    seconds: float,
    out: str = "results/calibrate-check",
) -> str:
    """The check's result in words and tables (its section of docs/validation.md);
    ``out`` is where its outputs are, as the section names it."""
    ninety = coverage[coverage["nominal"] == 0.9]
    fifty = coverage[coverage["nominal"] == 0.5].set_index("key")["empirical"]
    table = ninety.assign(
        fifty=[fifty.get(k.replace("90 %", "50 %"), np.nan) for k in ninety["key"]]
    )
    ok = passes(coverage)
    lines = [
        "| quantity | 90 % interval holds the truth | 50 % interval holds it | datasets | "
        f"in {PASS[0]:.0%}-{PASS[1]:.0%} |",
        "|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| `{row.key}` | {row.empirical:.0%} | {row.fifty:.0%} | {row.n} | "
            f"{'yes' if ok[row.key] else 'no'} |"
        )
    temperatures = np.array([r["temperature"] for r in records])
    ess = np.array([r["ess"] for r in records])
    failing = [k for k, good in ok.items() if not good]
    verdict = (
        f"Every quantity's 90 % interval held the truth in {PASS[0]:.0%} to {PASS[1]:.0%} of "
        f"the {len(records)} datasets."
        if not failing
        else f"Outside {PASS[0]:.0%}-{PASS[1]:.0%}: {', '.join(failing)}."
    )
    keys50 = fifty.drop(PREDICTION.replace("90 %", "50 %"))
    fifty_note = (
        f"The 50 % intervals of the keys held the truth in {keys50.min():.0%} to "
        f"{keys50.max():.0%} of datasets (nominal 50 %)"
        + (": their centres are narrower than they should be." if keys50.max() < 0.5 else ".")
    )
    return "\n".join(
        [
            f"{len(records)} datasets drawn from the priors of the fitted keys (the "
            "observation model's included) and the launch from its prior (the first "
            f"observation 0 to {LEAD} periods after it), each the calibration scenario "
            f"simulated at its keys, seen for {POINTS + HOLDOUT} periods, plus noise; each "
            f"calibrated on its first {POINTS} points with "
            f"population {settings.population} and budget {settings.budget}, and its "
            f"next {HOLDOUT} points forecast. Reproduce it:",
            "",
            "```bash",
            command,
            "```",
            "",
            f"Sampling took {seconds / 60:.0f} minutes ({machine}). Outputs (coverage.csv, "
            f"ranks.csv, ranks.png) in `{out}/`.",
            "",
            *lines,
            "",
            f"{verdict} {fifty_note} The last temperature was 1 in "
            f"{int(np.sum(temperatures <= 1.0))} of {len(records)} calibrations; median "
            f"effective sample size {np.median(ess):.0f} (a generation has "
            f"{settings.population} particles; the generations at temperature 1 are pooled).",
        ]
    )


def write_check(out: Path, ranks: pd.DataFrame, coverage: pd.DataFrame, text: str) -> list[str]:
    """coverage.csv, ranks.csv, ranks.png and check.md in ``out`` (whole files)."""
    from .figures import png, rank_figure

    files = {
        "coverage.csv": coverage.to_csv(index=False, float_format="%.4f").encode(),
        "ranks.csv": ranks.to_csv(index=False, float_format="%.6g").encode(),
        "ranks.png": png(rank_figure(ranks, title="Posterior ranks of the true values")),
        "check.md": ("# Calibration check\n\n" + text + "\n").encode(),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        write_atomic(out / name, content)
    return list(files)
