"""Calibrate the model to an observed adoption curve: the Python API behind ``run.py calibrate``.

:func:`calibrate` checks every input before anything runs (:func:`prepare`), runs or
resumes ABC-SMC (:mod:`.abc`), and returns a :class:`Calibration`: the posterior (one
row per accepted particle of the last generation), its summary, which keys the data
pin down, the Bass benchmark fitted to the same points, and :meth:`Calibration.predict`
for posterior predictive bands. With ``out`` it also writes the files of
:func:`.report.write_outputs` there, and keeps the SQLite history that resumes it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..files import OutputError, writable_directory, write_failure
from ..paths import SCENARIOS
from ..provenance import digest, package_versions
from ..scenario import Scenario, load_scenario
from .abc import HISTORY, AbcSettings, run_abc
from .bass import BassFit, fit_bass_offset
from .data import MIN_POINTS, AdoptionData, AdoptionSeries, load_adoption
from .predict import bands, identification, summary_table
from .priors import DEFAULT_FIT, FitKey, check_fit
from .sampler import GenerationReport
from .simulate import MARGIN, CurveSimulator, align

__all__ = ["DEFAULT_SCENARIO", "Calibration", "Problem", "calibrate", "prepare"]

DEFAULT_SCENARIO = SCENARIOS / "calibration.toml"
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Problem:
    """A checked calibration problem: the series, the points fitted, the scenario and keys."""

    series: AdoptionSeries
    scenario: Scenario
    keys: tuple[FitKey, ...]
    holdout: int
    seed: int
    data_path: str = ""
    data_sha256: str = ""
    unit_note: str = ""

    @property
    def n_fit(self) -> int:
        return len(self.series) - self.holdout

    @property
    def fit_times(self) -> np.ndarray:
        return self.series.times[: self.n_fit]

    @property
    def fit_shares(self) -> np.ndarray:
        return self.series.shares[: self.n_fit]

    def simulator(self) -> CurveSimulator:
        """The simulator, run far enough past the first positive share to cover every
        observed time (the held-out ones too)."""
        times, shares = self.fit_times, self.fit_shares
        positive = np.flatnonzero(shares > 0)
        first = positive[0] if positive.size else 0
        after = math.ceil(self.series.times[-1] - times[first]) + MARGIN
        return CurveSimulator(
            params=dict(self.scenario.params),
            firms=tuple(dict(f) for f in self.scenario.firms),
            keys=self.keys,
            reach=float(shares[first]),
            after=after,
            strategies={k: dict(v) for k, v in self.scenario.strategies.items()},
        )

    def fingerprint(self, settings: AbcSettings) -> dict[str, Any]:
        """What the posterior depends on: a stored history must match it to resume."""
        return {
            "data_sha256": self.data_sha256,
            "series": self.series.name,
            "times": [float(t) for t in self.series.times],
            "shares": [float(s) for s in self.series.shares],
            "holdout": self.holdout,
            "scenario": digest(
                {
                    "params": self.scenario.params,
                    "firms": self.scenario.firms,
                    "strategies": self.scenario.strategies,
                }
            ),
            "fit": {k.key: [k.low, k.high] for k in self.keys},
            "seed": self.seed,
            "population": settings.population,
            "versions": {
                "innovation-adoption": package_versions().get("innovation-adoption", ""),
                "pyabc": package_versions().get("pyabc", ""),
            },
        }


def prepare(
    data: str | Path | AdoptionData | AdoptionSeries,
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    fit: Mapping[str, tuple[float, float]] | None = None,
    *,
    series: str | None = None,
    holdout: int = 0,
    seed: int = DEFAULT_SEED,
) -> Problem:
    """Check every input of a calibration; raise an InputError for the first mistake.

    ``data``: a CSV path (read by :func:`.data.load_adoption`), loaded data, or one
    series; ``series`` picks one of several. ``fit``: ``{dotted key: (low, high)}``,
    by default :data:`.priors.DEFAULT_FIT`. ``holdout``: points at the end left out of
    the fit (at least MIN_POINTS must remain).
    """
    path, sha, note = "", "", ""
    if isinstance(data, str | Path):
        data = load_adoption(data, series=series)
    if isinstance(data, AdoptionData):
        path, sha, note = str(data.path), data.sha256, data.unit_note
        chosen = data.get(series)
    elif isinstance(data, AdoptionSeries):
        chosen = data
        sha = digest({"times": chosen.times.tolist(), "shares": chosen.shares.tolist()})
    else:
        raise InputError("data", type(data).__name__, "a CSV path, AdoptionData or AdoptionSeries")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    keys = tuple(check_fit(scenario, DEFAULT_FIT if fit is None else fit))
    most = len(chosen) - MIN_POINTS
    if isinstance(holdout, bool) or not isinstance(holdout, int) or not 0 <= holdout <= most:
        raise InputError(
            "--holdout",
            holdout,
            f"an integer >= 0 and <= {most} (series {chosen.name!r} has {len(chosen)} points "
            f"and a fit needs {MIN_POINTS})",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InputError("--seed", seed, "an integer >= 0 and < 2**63")
    return Problem(chosen, scenario, keys, holdout, seed, path, sha, note)


@dataclass
class Calibration:
    """A finished calibration: posterior, summary, identification, Bass benchmark, bands."""

    problem: Problem
    settings: AbcSettings
    posterior: pd.DataFrame  # weight, one column per fitted key, launch, distance, seed
    summary: pd.DataFrame  # key, mean, q05, q50, q95
    identification: pd.DataFrame  # key, prior and posterior 90 % widths, ratio, verdict
    generations: pd.DataFrame  # t, epsilon, particles, simulations, acceptance_rate, ess
    bass: BassFit  # fitted to the same points
    simulator: CurveSimulator
    curves: list[np.ndarray] = field(repr=False)
    stopped: str = ""
    resumed_from: int = 0
    simulations_run: int = 0
    seconds: float = 0.0  # this call
    sampling_seconds: float = 0.0  # every stored generation, across resumes (pyabc's)
    reports: list[GenerationReport] = field(default_factory=list, repr=False)

    @property
    def keys(self) -> list[str]:
        return [k.key for k in self.problem.keys]

    @property
    def ess(self) -> float:
        """Effective sample size of the posterior, 1 / sum(w^2): how many equally weighted
        particles its weights are worth (the population size at best)."""
        weights = self._weights()
        return float(1.0 / np.sum(weights**2))

    def fitted(self) -> pd.DataFrame:
        """Posterior predictive bands at every observed time, beside the data and Bass.

        Columns: time, observed, fitted (False for a held-out point), mean, q05, q50,
        q95, bass.
        """
        series = self.problem.series
        frame = bands(self.curves, self._launches(), self._weights(), series.times)
        frame.insert(1, "observed", series.shares)
        frame.insert(2, "fitted", np.arange(len(series)) < self.problem.n_fit)
        frame["bass"] = self.bass.predict(series.times)
        return frame

    def predict(self, steps: int = 0) -> pd.DataFrame:
        """Posterior predictive bands for each period from the first observation to
        ``steps`` periods after the last: time, mean, q05, q50, q95 (shares).

        Particles whose stored curve ends earlier are simulated again, longer, from
        their own seeds (the stored part is reproduced exactly).
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise InputError("steps", steps, "an integer >= 0")
        times = self.problem.series.times
        grid = np.arange(times[0], times[-1] + steps + 1e-9, 1.0)
        curves = self._curves_to(grid[-1])
        return bands(curves, self._launches(), self._weights(), grid)

    def rmse(self, points: slice | None = None) -> float:
        """RMSE of the posterior predictive median at the observed points (default:
        the fitted ones)."""
        frame = self.fitted()
        part = frame[frame["fitted"]] if points is None else frame.iloc[points]
        return float(np.sqrt(np.mean((part["q50"] - part["observed"]) ** 2)))

    def holdout_table(self) -> pd.DataFrame:
        """series, model, rmse_in, rmse_out: the model's posterior predictive median and
        the Bass fit, both fitted on all but the held-out points (empty without them)."""
        k = self.problem.holdout
        if not k:
            return pd.DataFrame(columns=["series", "model", "rmse_in", "rmse_out"])
        frame = self.fitted()
        inside, outside = frame[frame["fitted"]], frame[~frame["fitted"]]

        def rmse(part: pd.DataFrame, column: str) -> float:
            return float(np.sqrt(np.mean((part[column] - part["observed"]) ** 2)))

        name = self.problem.series.name
        return pd.DataFrame(
            [
                {
                    "series": name,
                    "model": "abm",
                    "rmse_in": rmse(inside, "q50"),
                    "rmse_out": rmse(outside, "q50"),
                },
                {
                    "series": name,
                    "model": "bass",
                    "rmse_in": rmse(inside, "bass"),
                    "rmse_out": rmse(outside, "bass"),
                },
            ]
        )

    def _weights(self) -> np.ndarray:
        return self.posterior["weight"].to_numpy()

    def _launches(self) -> np.ndarray:
        return self.posterior["launch"].to_numpy()

    def _curves_to(self, time: float) -> list[np.ndarray]:
        curves = []
        seeds = self.posterior["seed"].to_numpy(dtype=np.int64)  # exact: not via a float row
        for index, (curve, launch) in enumerate(zip(self.curves, self._launches(), strict=True)):
            missing = math.ceil(time - launch - (curve.size - 1) - 1e-9)
            if missing > 0:
                values = {key: float(self.posterior[key].iloc[index]) for key in self.keys}
                curve = self.simulator.curve(values, int(seeds[index]), extra=missing)
            curves.append(curve)
        return curves


def calibrate(
    data: str | Path | AdoptionData | AdoptionSeries,
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    fit: Mapping[str, tuple[float, float]] | None = None,
    *,
    series: str | None = None,
    holdout: int = 0,
    budget: int = AbcSettings.budget,
    population: int = AbcSettings.population,
    max_generations: int = AbcSettings.max_generations,
    seed: int = DEFAULT_SEED,
    workers: int = 1,
    scheduler: Any = None,
    out: str | Path | None = None,
    progress: bool = False,
    on_generation: Callable[[GenerationReport], None] | None = None,
    command: str | None = None,
) -> Calibration:
    """Estimate the joint posterior of the ``fit`` keys given an observed series.

    ABC-SMC (pyabc) with a uniform prior on each key's (low, high), until ``budget``
    simulations are spent or ``max_generations`` are done. Results depend on the data,
    scenario, keys, ``holdout``, ``seed`` and ``population`` only, not on ``workers``
    or ``scheduler`` (a Dask address or client). With ``out`` the outputs and the
    history that resumes the calibration are written there.
    """
    problem = prepare(data, scenario, fit, series=series, holdout=holdout, seed=seed)
    settings = AbcSettings(budget=budget, population=population, max_generations=max_generations)
    settings.check()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError("--workers", workers, "an integer >= 1")
    return run(
        problem,
        settings,
        workers=workers,
        scheduler=scheduler,
        out=out,
        progress=progress,
        on_generation=on_generation,
        command=command,
    )


def run(
    problem: Problem,
    settings: AbcSettings,
    *,
    workers: int = 1,
    scheduler: Any = None,
    out: str | Path | None = None,
    progress: bool = False,
    on_generation: Callable[[GenerationReport], None] | None = None,
    command: str | None = None,
) -> Calibration:
    """Run a checked problem (see :func:`calibrate`)."""
    began = time.perf_counter()
    directory = writable_directory(out) if out is not None else None
    simulator = problem.simulator()
    finished = _finished(directory, problem, settings) if directory is not None else None
    history = directory / HISTORY if directory is not None else None
    try:
        outcome = run_abc(
            simulator,
            problem.fit_times,
            problem.fit_shares,
            problem.fingerprint(settings),
            settings,
            seed=problem.seed,
            history=history,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            on_generation=on_generation,
            finished=finished,
        )
    except Exception as error:  # a full disk under pyabc's SQLite history: one line
        why = write_failure(error) if history is not None else None
        if why is None:
            raise
        raise OutputError(
            str(history),
            reason=f"cannot write: {why}; the generations stored before are kept: run the "
            "same command again, once there is space, to resume",
        ) from None
    posterior, curves = _posterior(outcome.population, problem)
    summary = summary_table(posterior, problem.keys)
    calibration = Calibration(
        problem=problem,
        settings=settings,
        posterior=posterior,
        summary=summary,
        identification=identification(summary, problem.keys),
        generations=outcome.generations,
        bass=fit_bass_offset(problem.fit_times, problem.fit_shares),
        simulator=simulator,
        curves=curves,
        stopped=outcome.stopped,
        resumed_from=outcome.resumed_from,
        simulations_run=outcome.simulations_run,
        seconds=time.perf_counter() - began,
        sampling_seconds=outcome.sampling_seconds,
        reports=outcome.reports,
    )
    if directory is not None:
        from .report import write_outputs

        write_outputs(calibration, directory, command=command, workers=workers, scheduler=scheduler)
    return calibration


def _finished(directory: Path, problem: Problem, settings: AbcSettings) -> int | None:
    """Generations of a calibration in ``directory`` that stopped on the same budget with
    the same settings (its manifest says so), or None: run again, it would only
    repeat the generation the budget cut off."""
    from .report import read_manifest

    record = read_manifest(directory)
    fingerprint = json.loads(json.dumps(problem.fingerprint(settings), default=str))
    if record is None or record.get("fingerprint") != fingerprint:
        return None
    abc = record.get("abc", {})
    if abc.get("stopped") == "budget" and abc.get("budget") == settings.budget:
        return int(abc.get("generations", -1))
    return None


def _posterior(population: Any, problem: Problem) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """One row per particle: weight, fitted keys, launch, distance, seed; and its curve."""
    rows, curves = [], []
    particles = sorted(population.particles, key=lambda p: int(p.sum_stat["seed"][0]))
    total = sum(p.weight for p in particles)
    for particle in particles:
        curve = np.asarray(particle.sum_stat["curve"], dtype=float)
        alignment = align(curve, problem.fit_times, problem.fit_shares)
        rows.append(
            {
                "weight": particle.weight / total,
                **{k.key: k.value(particle.parameter[k.key]) for k in problem.keys},
                "launch": alignment.launch,
                "distance": alignment.rmse,
                "seed": int(particle.sum_stat["seed"][0]),
            }
        )
        curves.append(curve)
    return pd.DataFrame(rows), curves
